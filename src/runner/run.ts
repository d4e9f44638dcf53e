// A play over its hosts: batches, bounded parallelism (forks), halts on failures, and the run's report.
import pLimit from 'p-limit';
import { PlaybookError } from '../errors.js';
import { summarize } from './merge-reports.js';
import { haltReason, splitBatches } from './batches.js';
import { emptyStats, runHost } from './host.js';
import type { HostReport, RunEvent, RunReport } from './events.js';
import type { RunOptions } from './types.js';

// What the CLI imports from the runner, wherever it lives now.
export { resolveTasks } from './task-list.js';
export { shownName } from './context.js';
export { unknownFacts } from './host.js';
export type { PlanSeen, RunOptions } from './types.js';


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
