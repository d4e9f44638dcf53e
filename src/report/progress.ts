// Live progress: Listr2 in a terminal (batches as counters, active hosts listed), plain lines otherwise.
// This is the only file that imports listr2.
import type { TaskResult } from '../playbook/types.js';
import type { RunEvent } from '../runner/events.js';
import { formatDiff } from './diff.js';
import { terminalSafe as safe } from './terminal-safe.js';

export interface ProgressOptions {
  /** Live Listr2 rendering (a terminal) or plain lines (CI, pipes). */
  tty: boolean;
  /** Where progress goes: stdout normally, stderr when the JSON report takes stdout. */
  stream: NodeJS.WriteStream;
  diff: boolean;
  color: boolean;
  /** Print ok and skipped tasks too (plain mode). */
  verbose?: boolean;
}

export interface Progress {
  onEvent(event: RunEvent): void;
  /** Waits for the renderer to finish drawing. */
  done(): Promise<void>;
}

const paint = (on: boolean, code: number, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

function taskLine(r: TaskResult, color: boolean): string {
  const status =
    r.status === 'failed'
      ? paint(color, 31, r.ignored ? 'failed (ignored)' : 'FAILED')
      : r.status === 'changed'
        ? paint(color, 33, r.predicted ? 'would change (predicted)' : 'changed')
        : r.status === 'skipped'
          ? paint(color, 36, 'skipped')
          : paint(color, 32, 'ok');
  const detail = r.status === 'failed' ? r.error : r.summary;
  return `${status}: ${safe(r.name)}${detail ? ` — ${safe(detail.split('\n')[0] ?? '')}` : ''}`;
}

function diffBlock(r: TaskResult, color: boolean): string {
  const text = (t: string | null) => (t === null ? null : safe(t));
  return (r.diff ?? []).map((d) => formatDiff({ ...d, path: safe(d.path), before: text(d.before), after: text(d.after) }, color).replace(/\n$/, '')).join('\n');
}

/** The lines an event prints in plain mode (and, for tasks, after the live display in a terminal). */
function eventLines(e: RunEvent, o: ProgressOptions): string[] {
  if ('host' in e && typeof e.host === 'string') e = { ...e, host: safe(e.host) };
  switch (e.type) {
    case 'play-start':
      return [`PLAY ${e.playbook} on ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}${e.check ? ' (check mode)' : ''}`];
    case 'batch-start':
      return e.count > 1 ? [`BATCH ${e.index + 1}/${e.count}: ${e.hosts.join(', ')}`] : [];
    case 'task-end': {
      const r = e.result;
      if (r.module === 'debug' && r.status === 'ok') return [`[${e.host}] ${safe(r.summary ?? '')}`];
      if (!o.verbose && (r.status === 'ok' || r.status === 'skipped')) return [];
      const lines = [`[${e.host}] ${e.handler ? 'handler ' : ''}${taskLine(r, o.color)}`];
      if (r.status === 'failed' && r.error && r.error.includes('\n')) {
        lines.push(...r.error.split('\n').slice(1).map((l) => `[${e.host}]   ${safe(l)}`));
      }
      if (o.diff && r.diff && r.status === 'changed') lines.push(diffBlock(r, o.color));
      return lines;
    }
    case 'host-end': {
      const r = e.report;
      const lines: string[] = [];
      if (r.status === 'unreachable') lines.push(`[${e.host}] ${paint(o.color, 31, 'UNREACHABLE')}: ${safe(r.error ?? '')}`);
      else if (r.status === 'failed' && r.error) lines.push(`[${e.host}] ${paint(o.color, 31, 'FAILED')}: ${safe(r.error)}`);
      lines.push(`[${e.host}] done: ${r.status} (ok=${r.stats.ok} changed=${r.stats.changed} failed=${r.stats.failed} skipped=${r.stats.skipped})`);
      return lines;
    }
    case 'halted':
      return [`HALTED: ${safe(e.reason)}; not run: ${safe(e.notRun.join(', '))}`];
    default:
      return [];
  }
}

/** Plain lines, one per event, no control codes: what CI logs and pipes get. */
function createPlainProgress(o: ProgressOptions): Progress {
  return {
    onEvent(e) {
      for (const line of eventLines(e, o)) o.stream.write(`${line}\n`);
    },
    done: async () => {},
  };
}

interface BatchState {
  hosts: string[];
  active: Map<string, string>;
  finished: number;
  failed: string[];
  task?: { title: string; output: string; skip(message?: string): void };
  /** Ends the batch's Listr task; set when Listr starts it. */
  finish?: () => void;
  settled: boolean;
  notRun?: boolean;
}

const maxListedHosts = 20;

/** Listr2 in a terminal: a line per batch with its counters, the active hosts and failures under it. */
async function createListrProgress(o: ProgressOptions): Promise<Progress> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  let listr: Promise<void> = Promise.resolve();
  const batches: BatchState[] = [];
  // What changed or failed, printed under the live display once it is done.
  const after: string[] = [];
  let current = -1;

  const title = (i: number): string => {
    const b = batches[i] as BatchState;
    const count = batches.length > 1 ? `batch ${i + 1}/${batches.length} · ` : '';
    return `${count}${b.finished}/${b.hosts.length} hosts done${b.failed.length ? ` · ${b.failed.length} failed` : ''}`;
  };
  const refresh = (i: number) => {
    const b = batches[i];
    if (!b?.task) return;
    b.task.title = title(i);
    const lines = [...b.active].slice(0, maxListedHosts).map(([h, t]) => `${safe(h)}: ${t}`);
    if (b.active.size > maxListedHosts) lines.push(`… and ${b.active.size - maxListedHosts} more running`);
    for (const f of b.failed.slice(0, maxListedHosts)) lines.push(f);
    b.task.output = lines.join('\n');
  };

  return {
    onEvent(e) {
      switch (e.type) {
        case 'play-start': {
          for (const hosts of e.batches) batches.push({ hosts, active: new Map(), finished: 0, failed: [], settled: false });
          const runner = new Listr<unknown, 'default', 'simple'>(
            batches.map((b, i) => ({
              title: title(i),
              task: (_ctx, task) =>
                new Promise<void>((resolve, reject) => {
                  b.task = task;
                  b.finish = () => {
                    if (b.notRun) {
                      task.skip('not run');
                      resolve();
                    } else if (b.failed.length) reject(new Error(title(i)));
                    else resolve();
                  };
                  refresh(i);
                  if (b.settled) b.finish();
                }),
              rendererOptions: { persistentOutput: true },
            })),
            {
              concurrent: false,
              exitOnError: false,
              renderer: 'default',
              rendererOptions: {
                collapseErrors: false,
                logger: new ListrLogger({ processOutput: new ProcessOutput(o.stream, o.stream) }),
              },
              registerSignalListeners: false,
              // We chose the live renderer for `o.stream` (stderr under --json); Listr would look at stdout.
              fallbackRendererCondition: false,
              silentRendererCondition: false,
              forceTTY: true,
            },
          );
          listr = runner.run().then(
            () => {},
            () => {},
          );
          break;
        }
        case 'batch-start':
          current = e.index;
          break;
        case 'task-start':
          batches[current]?.active.set(e.host, safe(`${e.handler ? 'handler ' : ''}${e.task}`));
          refresh(current);
          break;
        case 'host-phase':
          batches[current]?.active.set(e.host, e.phase);
          refresh(current);
          break;
        case 'task-end':
          after.push(...eventLines(e, o));
          break;
        case 'host-end': {
          const b = batches[current];
          if (!b) break;
          b.active.delete(e.host);
          b.finished++;
          const r = e.report;
          if (r.status === 'failed' || r.status === 'unreachable') {
            const failedTask = r.tasks.find((t) => t.status === 'failed' && !t.ignored);
            b.failed.push(safe(`${e.host}: ${r.status}${failedTask ? ` at "${failedTask.name}"` : ''}: ${(failedTask?.error ?? r.error ?? '').split('\n')[0]}`));
          }
          refresh(current);
          break;
        }
        case 'batch-end': {
          const b = batches[e.index];
          if (!b) break;
          b.settled = true;
          b.finish?.();
          break;
        }
        case 'play-end':
          // Batches that never ran (a halt, an interruption) end as skipped.
          for (const b of batches) {
            if (b.settled) continue;
            b.settled = true;
            b.notRun = true;
            b.finish?.();
          }
          break;
        default:
          break;
      }
    },
    async done() {
      await listr;
      if (after.length > 0) o.stream.write(`${after.join('\n')}\n`);
    },
  };
}

/** Chooses the renderer: Listr2 in a terminal (with a known width, loaded only then), plain lines otherwise. */
export async function createProgress(o: ProgressOptions): Promise<Progress> {
  return o.tty && (o.stream.columns ?? 0) > 0 ? createListrProgress(o) : createPlainProgress(o);
}
