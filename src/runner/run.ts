// A play over its hosts: batches, bounded parallelism (forks), halts on failures, and the run's report.
import pLimit from 'p-limit';
import { PlaybookError } from '../errors.js';
import type { Playbook } from '../playbook/types.js';
import { mergeReports, summarize } from './merge-reports.js';
import { haltReason, splitBatches } from './batches.js';
import { emptyStats, runHost } from './host.js';
import type { HostReport, RunEvent, RunReport } from './events.js';
import type { RunOptions } from './types.js';

// What the CLI imports from the runner, wherever it lives now.
export { resolveTasks } from './task-list.js';
export { shownName } from './context.js';
export { unknownFacts } from './host.js';
export type { PlanSeen, RunOptions } from './types.js';


/** What one batch's run left: each host's report, the ones that failed or were unreachable. */
export interface BatchResult {
  reports: Record<string, HostReport>;
  failed: string[];
}

/**
 * Runs one batch's hosts, at most `forks` at a time, without the batch loop around it: as a worker runs its shard of a
 * batch. Once the batch's failures cross the max-fail line (or any fails, with any-errors-fatal), its other hosts
 * stop after the task they are on. Throws only a PlaybookError (a mistake in building the play), once.
 */
export async function runBatch(batch: readonly string[], opts: RunOptions, emit: (e: RunEvent) => void = (e) => opts.onEvent?.(e)): Promise<BatchResult> {
  const maxFail = opts.maxFailPercentage ?? opts.playbook.maxFailPercentage;
  const anyErrorsFatal = opts.anyErrorsFatal ?? opts.playbook.anyErrorsFatal ?? false;
  const reports: Record<string, HostReport> = {};
  /** A mistake of the playbook found while building a host's tasks: the run stops and it is reported once. */
  let playbookError: PlaybookError | undefined;
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
  return { reports, failed: batch.filter((h) => reports[h]?.status === 'failed' || reports[h]?.status === 'unreachable') };
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

  emit({ type: 'play-start', playbook: playbook.name, hosts: opts.hosts, check: opts.check, batches });

  for (const [index, batch] of batches.entries()) {
    if (halted || opts.signal?.aborted) break;
    emit({ type: 'batch-start', index, count: batches.length, hosts: batch });
    const { reports: ran, failed } = await runBatch(batch, opts, emit);
    Object.assign(reports, ran);
    emit({ type: 'batch-end', index, failed });
    halted = opts.signal?.aborted ? 'interrupted' : haltReason(failed, batch.length, index, maxFail, anyErrorsFatal);
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

// A playbook's plays in order, as Ansible runs them: a host that failed or was unreachable takes no part in later
// plays, and a halted or interrupted play ends the run. One report, merged as Ansible's recap is one.
/** A play and the hosts its pattern matched (before earlier plays dropped any). */
export interface PlayHosts {
  playbook: Playbook;
  hosts: string[];
}

export interface PlaysOptions {
  plays: PlayHosts[];
  /** The run of play `index` over `hosts` (its matched hosts that earlier plays did not drop). */
  optionsOf: (playbook: Playbook, index: number, hosts: string[]) => RunOptions | Promise<RunOptions>;
  /** Around each play that has hosts to run: a progress display opened before it and closed after, say. */
  around?: (playbook: Playbook, index: number, run: () => Promise<RunReport>) => Promise<RunReport>;
  /** A play whose pattern matched no host: announced, passed over, its report without hosts. */
  onNoHosts?: (playbook: Playbook, index: number) => void;
}

export async function runPlays(o: PlaysOptions): Promise<RunReport> {
  const reports: RunReport[] = [];
  const dropped = new Set<string>();
  for (const [i, { playbook, hosts: matched }] of o.plays.entries()) {
    const hosts = matched.filter((h) => !dropped.has(h));
    if (matched.length === 0) {
      o.onNoHosts?.(playbook, i);
      reports.push(await runPlaybook({ ...(await o.optionsOf(playbook, i, [])), hosts: [], onEvent: undefined }));
      continue;
    }
    if (hosts.length === 0) continue;
    const run = async () => runPlaybook(await o.optionsOf(playbook, i, hosts));
    const played = await (o.around ? o.around(playbook, i, run) : run());
    reports.push(played);
    for (const [host, h] of Object.entries(played.hosts)) if (h.status === 'failed' || h.status === 'unreachable') dropped.add(host);
    if (played.halted !== undefined || played.interrupted) break;
  }
  return o.plays.length === 1 ? (reports[0] as RunReport) : mergeReports(reports, o.plays.map((p) => p.playbook.name));
}
