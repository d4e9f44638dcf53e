// Live progress: Listr2 in a terminal (batches as counters, active hosts listed), plain lines otherwise.
// This is the only file that imports listr2.
import type { TaskResult } from '../playbook/types.js';
import type { RunEvent } from '../runner/events.js';
import { formatDiffGroup, groupDiffs } from './diff-groups.js';
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
  /** -vv and more: each task's output, exit code and time under its line too. */
  verbosity?: number;
}

export interface Progress {
  onEvent(event: RunEvent): void;
  /** A line of the CLI's own (a Ctrl-C acknowledgement) that must stay on screen, not be drawn over. */
  notice(line: string): void;
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

/**
 * With --diff, the changes of a batch are printed when it ends, each distinct diff once with the hosts it applies to
 * (50 identical web servers: one hunk, not 50).
 */
function createDiffCollector(o: ProgressOptions) {
  let pending: Array<{ host: string; task: string; diff: NonNullable<TaskResult['diff']> }> = [];
  // Hosts are listed in the play's order, not in the order they finished.
  const order = new Map<string, number>();
  return {
    play(hosts: string[]): void {
      for (const [i, h] of hosts.entries()) order.set(h, i);
    },
    add(host: string, r: TaskResult): void {
      if (o.diff && r.status === 'changed' && r.diff && r.diff.length > 0) pending.push({ host, task: r.name, diff: r.diff });
    },
    /** The grouped diffs collected so far, as lines; forgets them. */
    flush(): string[] {
      const byPlay = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
      const text = (t: string | null) => (t === null ? null : safe(t));
      const lines = groupDiffs(pending).map((g) =>
        formatDiffGroup(
          { task: safe(g.task), hosts: g.hosts.sort(byPlay), diff: g.diff.map((d) => ({ ...d, path: safe(d.path), before: text(d.before), after: text(d.after) })) },
          o.color,
        ),
      );
      pending = [];
      return lines;
    },
  };
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
      // what the run's options left out is not shown, as Ansible does not show it
      if (r.left_out || (!o.verbose && (r.status === 'ok' || r.status === 'skipped'))) return [];
      const lines = [`[${e.host}] ${e.handler ? 'handler ' : ''}${taskLine(r, o.color)}`];
      if (r.status === 'failed' && r.error && r.error.includes('\n')) {
        lines.push(...r.error.split('\n').slice(1).map((l) => `[${e.host}]   ${safe(l)}`));
      }
      if ((o.verbosity ?? 0) >= 2 && r.status !== 'skipped') {
        for (const [what, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
          if (text) lines.push(...text.replace(/\n$/, '').split('\n').map((l) => `[${e.host}]   ${what}: ${safe(l)}`));
        }
        lines.push(`[${e.host}]   ${r.rc === undefined ? '' : `rc=${r.rc} `}${r.duration_ms} ms${r.summary && r.status === 'failed' ? ` — ${safe(r.summary)}` : ''}`);
      }
      return lines;
    }
    case 'host-end': {
      const r = e.report;
      const lines: string[] = [];
      if (r.status === 'unreachable') lines.push(`[${e.host}] ${paint(o.color, 31, 'UNREACHABLE')}: ${safe(r.error ?? '')}`);
      // A task's failure was printed with the task; a failure of the host's own (facts, a gate) is printed here.
      else if (r.status === 'failed' && r.error && !r.tasks.some((t) => t.status === 'failed' && !t.ignored)) {
        lines.push(`[${e.host}] ${paint(o.color, 31, 'FAILED')}: ${safe(r.error)}`);
      }
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
  const diffs = createDiffCollector(o);
  return {
    onEvent(e) {
      if (e.type === 'play-start') diffs.play(e.hosts);
      if (e.type === 'task-end') diffs.add(e.host, e.result);
      const lines = e.type === 'batch-end' ? diffs.flush() : eventLines(e, o);
      for (const line of lines) o.stream.write(`${line}\n`);
    },
    // The CLI's own messages go to stderr, as errors do, whatever stream the progress takes.
    notice: (line) => process.stderr.write(`${line}\n`),
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

/** Failures kept in the live region (all of them are printed above it as they happen). */
const lastFailures = 3;

/**
 * Keeps a frame within `max` lines: the oldest lines (finished batches) give way first, so the counters of the running
 * batch and its hosts stay on screen. A frame taller than the terminal could not be erased and would smear the screen.
 */
export function fitFrame(frame: string, max: number): string {
  const lines = frame.split('\n');
  if (lines.length <= max) return frame;
  const dropped = lines.length - max + 1;
  return [`… ${dropped} earlier line${dropped === 1 ? '' : 's'}`, ...lines.slice(dropped)].join('\n');
}

/**
 * Listr2 in a terminal: finished lines (the play header, changes, failures, debug messages, grouped diffs, notices)
 * are printed above the live region as they happen; the region holds a line per batch with its counters and, under
 * the running batch, its hosts with their current task and its last failures, cut to the terminal's width and height.
 */
async function createListrProgress(o: ProgressOptions): Promise<Progress> {
  const { DefaultRenderer, Listr, ListrLogger, ProcessOutput } = await import('listr2');
  let listr: Promise<void> = Promise.resolve();
  const batches: BatchState[] = [];
  /** Lines waiting to be printed above the live region; `cut`: shortened to the width (diffs stay whole). */
  const above: Array<{ text: string; cut: boolean }> = [];
  const diffs = createDiffCollector(o);
  const rows = () => Math.max(8, o.stream.rows ?? 24);
  const columns = () => Math.max(20, o.stream.columns ?? 80);
  let current = -1;

  class LiveRenderer extends DefaultRenderer {
    override update(): void {
      this.printAbove();
      this['updater'](fitFrame(this.create(), rows() - 1));
    }

    override end(): void {
      this.printAbove();
      super.end();
    }

    /** Erases the frame, prints the waiting lines where it was, and lets the next frame draw below them. */
    private printAbove(): void {
      if (above.length === 0) return;
      this['updater'].clear();
      const cut = (this['truncate'] as ((s: string, n: number) => string) | undefined) ?? ((s: string) => s);
      const lines = above.splice(0).map((l) => (l.cut ? cut(l.text, columns()) : l.text));
      this['logger'].process.toStdout(lines.join('\n'));
    }
  }

  const title = (i: number): string => {
    const b = batches[i] as BatchState;
    const count = batches.length > 1 ? `batch ${i + 1}/${batches.length} · ` : '';
    return `${count}${b.finished}/${b.hosts.length} hosts done${b.failed.length ? ` · ${b.failed.length} failed` : ''}`;
  };
  const refresh = (i: number) => {
    const b = batches[i];
    if (!b?.task) return;
    b.task.title = title(i);
    const failures = b.failed.slice(-lastFailures);
    if (b.settled) {
      b.task.output = failures.join('\n');
      return;
    }
    // What fits: the screen less the batch lines, a blank line and the cursor's.
    const room = Math.max(2, rows() - batches.length - 3 - failures.length);
    const running = [...b.active];
    const shown = running.length > room ? running.slice(0, room - 1) : running;
    const lines = shown.map(([h, t]) => `${safe(h)}: ${t}`);
    if (shown.length < running.length) lines.push(`… and ${running.length - shown.length} more running`);
    b.task.output = [...lines, ...failures].join('\n');
  };

  const print = (lines: string[], cut = true) => above.push(...lines.map((text) => ({ text, cut })));

  return {
    onEvent(e) {
      switch (e.type) {
        case 'play-start': {
          print(eventLines(e, o));
          diffs.play(e.hosts);
          for (const hosts of e.batches) batches.push({ hosts, active: new Map(), finished: 0, failed: [], settled: false });
          const runner = new Listr<unknown, typeof LiveRenderer, 'simple'>(
            batches.map((b, i) => ({
              title: title(i),
              task: (_ctx, task) =>
                new Promise<void>((resolve, reject) => {
                  b.task = task;
                  b.finish = () => {
                    refresh(i);
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
              renderer: LiveRenderer,
              rendererOptions: {
                collapseErrors: false,
                formatOutput: 'truncate',
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
          print(eventLines(e, o));
          diffs.add(e.host, e.result);
          break;
        case 'host-end': {
          const b = batches[current];
          if (!b) break;
          b.active.delete(e.host);
          b.finished++;
          const r = e.report;
          if (r.status === 'failed' || r.status === 'unreachable') {
            // Above: the host's failure (its failed task is already there); in the region: a one-line reminder.
            print(eventLines(e, o).filter((l) => !l.includes('] done: ')));
            const failedTask = r.tasks.find((t) => t.status === 'failed' && !t.ignored);
            b.failed.push(safe(`${e.host}: ${r.status}${failedTask ? ` at "${failedTask.name}"` : ''}: ${(failedTask?.error ?? r.error ?? '').split('\n')[0]}`));
          }
          refresh(current);
          break;
        }
        case 'batch-end': {
          print(diffs.flush(), false);
          const b = batches[e.index];
          if (!b) break;
          b.settled = true;
          b.finish?.();
          break;
        }
        case 'halted':
          print(eventLines(e, o));
          break;
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
    notice(line) {
      print([line]);
    },
    async done() {
      await listr;
      // Whatever came after the display ended.
      if (above.length > 0) o.stream.write(`${above.splice(0).map((l) => l.text).join('\n')}\n`);
    },
  };
}

/** Chooses the renderer: Listr2 in a terminal (with a known width, loaded only then), plain lines otherwise. */
export async function createProgress(o: ProgressOptions): Promise<Progress> {
  return o.tty && (o.stream.columns ?? 0) > 0 ? createListrProgress(o) : createPlainProgress(o);
}
