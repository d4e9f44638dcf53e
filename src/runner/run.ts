// A play over its hosts: batches, bounded parallelism (forks), halts on failures, and the run's report.
import pLimit from 'p-limit';
import type { Connection } from '../connection/types.js';
import { PlaybookError } from '../errors.js';
import type { Plan, Playbook, Vars } from '../playbook/types.js';
import { summarize } from './merge-reports.js';
import { haltReason, splitBatches, type Serial } from './batches.js';
import { emptyStats, runHost } from './host.js';
import type { EventListener, HostReport, RunEvent, RunReport } from './events.js';

// What the CLI imports from the runner, wherever it lives now.
export { resolveTasks } from './task-list.js';
export { shownName } from './task.js';
export { unknownFacts } from './host.js';

export interface RunOptions {
  playbook: Playbook;
  /** Path shown in the report. */
  playbookPath: string;
  /** Directory relative `src` paths resolve against. */
  baseDir: string;
  /** Hosts to run on, in order, already matched against the playbook's `hosts` and `--limit`. */
  hosts: string[];
  /** The merged variables of a host (inventory + play vars + extra vars). */
  varsOf: (host: string) => Vars;
  /** Opens the one connection a host uses for the whole run. */
  connect: (host: string, vars: Vars) => Promise<Connection>;
  /** Whether tasks run with privilege escalation by default on this host (inventory, --become, the play). */
  becomeOf?: (host: string, vars: Vars) => boolean;
  /** Whether a sudo password was given for this host (-K, ansible_become_password); unknown when left out. */
  hasBecomePassword?: (host: string, vars: Vars) => boolean;
  forks: number;
  check: boolean;
  forceHandlers?: boolean;
  serial?: Serial;
  maxFailPercentage?: number;
  anyErrorsFatal?: boolean;
  /** Retries of a connect that was refused or reset, with backoff, before a host is unreachable (default 2). */
  connectRetries?: number;
  /** Default task timeout in seconds (a task's own `timeout` wins). */
  timeout?: number;
  /** Only tasks with one of these tags (untagged tasks are skipped when set); `always` and `never` as Ansible's. */
  tags?: string[];
  /** Tasks with any of these tags are skipped (`always` ones too, when named). */
  skipTags?: string[];
  /** --start-at-task: the tasks before the first whose name passes `test` are left out (a host where none does fails). */
  startAtTask?: { name: string; test(taskName: string): boolean };
  /** --step: asked before each task (not handlers) with the task's id and name; false leaves the task out. */
  confirmTask?: (id: string, name: string) => Promise<boolean>;
  /** Aborted: no new task starts; the report is still produced. */
  signal?: AbortSignal;
  /** Aborted (a second Ctrl-C, after `signal`): running tasks end at once, failed as interrupted; the report is kept. */
  interrupt?: AbortSignal;
  /** Put before every task id: a playbook's later plays (`play 2 `) keep their tasks apart from the first's. */
  idPrefix?: string;
  /**
   * Check mode: sees each plan a check made, and whether it read what an earlier planned (not made) change would
   * write, so that a real run may find it different.
   */
  onPlan?: (seen: PlanSeen & { dependsOnEarlier: boolean }) => void;
  /** A real run from a saved plan: why a task's fresh plan must not be applied, or undefined to apply it. */
  vetPlan?: (seen: PlanSeen) => string | undefined;
  onEvent?: EventListener;
}

/** A task's plan on a host, with the task's stable id. */
export interface PlanSeen {
  host: string;
  id: string;
  name: string;
  module: string;
  plan: Plan;
  /** The task is marked secret: nothing of its plan may be shown. */
  secret?: boolean;
}

/** Runs a playbook over hosts and returns the report; never throws for a host's failure, only (PlaybookError) for a mistake in building the play. */
export async function runPlaybook(opts: RunOptions): Promise<RunReport> {
  const emit = (e: RunEvent) => opts.onEvent?.(e);
  const startedAt = Date.now();
  const playbook = opts.playbook;
  const batches = splitBatches(opts.hosts, opts.serial ?? playbook.serial);
  const maxFail = opts.maxFailPercentage ?? playbook.maxFailPercentage;
  const anyErrorsFatal = opts.anyErrorsFatal ?? playbook.anyErrorsFatal ?? false;
  const reports: Record<string, HostReport> = {};
  let halted: string | undefined;
  /** A mistake of the playbook found while building a host's tasks: the run stops and it is reported once. */
  let playbookError: PlaybookError | undefined;

  emit({ type: 'play-start', playbook: playbook.name, hosts: opts.hosts, check: opts.check, batches });

  for (const [index, batch] of batches.entries()) {
    if (halted || opts.signal?.aborted) break;
    emit({ type: 'batch-start', index, count: batches.length, hosts: batch });
    const limit = pLimit(Math.max(1, opts.forks));
    const fatal = new AbortController();
    // A halt stops the batch's other hosts after the task they are on, as soon as the failures cross the line.
    let failedSoFar = 0;
    const hostFailed = () => {
      failedSoFar++;
      if (anyErrorsFatal || (maxFail !== undefined && (failedSoFar / batch.length) * 100 > maxFail)) fatal.abort();
    };
    await Promise.all(
      batch.map((host) =>
        limit(async () => {
          if (opts.signal?.aborted || fatal.signal.aborted || playbookError) return;
          let report: HostReport;
          try {
            report = await runHost(host, opts, emit, fatal.signal, hostFailed);
          } catch (err) {
            if (!(err instanceof PlaybookError)) throw err;
            playbookError ??= err;
            fatal.abort();
            return;
          }
          reports[host] = report;
          emit({ type: 'host-end', host, report });
        }),
      ),
    );
    if (playbookError) throw playbookError;
    const failed = batch.filter((h) => reports[h]?.status === 'failed' || reports[h]?.status === 'unreachable');
    emit({ type: 'batch-end', index, failed });
    if (opts.signal?.aborted) {
      halted = 'interrupted';
    } else {
      halted = haltReason(failed, batch.length, index, maxFail, anyErrorsFatal);
    }
  }

  const notRun = opts.hosts.filter((h) => !reports[h]);
  for (const host of notRun) {
    reports[host] = {
      status: 'not run',
      stats: emptyStats(),
      tasks: [],
      reason: halted ? `halted: ${halted}` : 'not run',
      duration_ms: 0,
    };
  }
  if (halted && notRun.length > 0) emit({ type: 'halted', reason: halted, notRun });

  const ordered: Record<string, HostReport> = {};
  for (const h of opts.hosts) ordered[h] = reports[h] as HostReport;
  const finishedAt = Date.now();
  const report: RunReport = {
    playbook: opts.playbookPath,
    check: opts.check,
    started: new Date(startedAt).toISOString(),
    finished: new Date(finishedAt).toISOString(),
    duration_ms: finishedAt - startedAt,
    batches,
    ...(halted ? { halted } : {}),
    ...(opts.signal?.aborted ? { interrupted: true } : {}),
    hosts: ordered,
    summary: summarize(Object.values(ordered)),
  };
  emit({ type: 'play-end', report });
  return report;
}
