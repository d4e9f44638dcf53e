// `provision run --engine URL`: the coordinator. It computes the batches as one controller does and, batch by batch,
// adds one flow: a barrier job whose children are the batch's shards (a region's hosts, cut to --shard-size). The
// barrier is processed only once every shard has ended; then the shards' reports are merged and max-fail and
// any-errors-fatal are decided on the whole batch, and only then is the next batch's flow added: no batch can
// start early, because its jobs do not exist yet. Host results arriving meanwhile are counted, and past the line a
// halt is published to the workers (a lost halt only delays the stop to the barrier).
// The run is recorded in the engine when it starts (run-record.ts): `provision resume RUN_ID` reads that record and
// the barriers back after a lost coordinator, takes the batches that ended from their shards' results, awaits the
// batch whose flow exists (never adding it again) and adds the rest in order, deciding halts on whole batches.
import { randomBytes } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { cutShards, mergeShardReports, type ShardRecord } from '../cli/shard.js';
import { haltReason } from '../runner/batches.js';
import type { RunReport } from '../runner/events.js';
import { openBackend, queueNames, type Backend } from './backend.js';
import { inputDigests } from './digests.js';
import { readRunRecord, runIdPattern, type RunRecord } from './run-record.js';
import { InputError } from '../errors.js';
import { checkRegion, type ShardJob, type ShardOptions, type ShardProgress, type ShardResult } from './protocol.js';
import type { PlannedTask } from '../cli/plan-file.js';

export interface CoordinatorInput {
  engine: string;
  playbookPath: string;
  /** The play's name (JUnit's suite name), kept in the run's record for `provision resume`. */
  playName?: string;
  inventory: string[];
  batches: string[][];
  regionOf: (host: string) => string;
  shardSize: number;
  /** Seconds a shard may wait for a worker of its region before its hosts fail `no worker in region R`. */
  regionTimeout: number;
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  options: ShardOptions;
  /** `apply --engine`: the saved plan's tasks by host; each shard carries its hosts' part. */
  plan?: Record<string, PlannedTask[]>;
  /** `--check --plan-out`: the planned tasks a shard's worker recorded, by host. */
  onShardPlans?: (entries: Record<string, PlannedTask[]>) => void;
  /** Aborts on a first Ctrl-C: no new flow, running shards stop after their task. */
  signal: AbortSignal;
  say: (line: string) => void;
}

export type EngineReport = RunReport & { shards: Array<ShardRecord & { worker?: string; region: string; error?: string }>; run_id: string };

/** What the coordinator and `provision resume` share: where lines go, Ctrl-C, and the plans of --plan-out. */
export interface DriveInput {
  engine: string;
  signal: AbortSignal;
  say: (line: string) => void;
  onShardPlans?: (entries: Record<string, PlannedTask[]>) => void;
}

export async function coordinate(input: CoordinatorInput): Promise<EngineReport> {
  const runId = randomBytes(6).toString('hex');
  const playbook = relative('.', resolve(input.playbookPath));
  const inventory = input.inventory.map((i) => relative('.', resolve(i)));
  const regions = [...new Set(input.batches.flat().map((h) => checkRegion(input.regionOf(h), `host ${h}`)))];
  const record: RunRecord = {
    provision_run: 1,
    run_id: runId,
    playbook_path: input.playbookPath,
    playbook,
    play_name: input.playName ?? input.playbookPath,
    inventory,
    digests: inputDigests(playbook, inventory),
    batches: input.batches.map((hosts) => ({ hosts, shards: shardsOf(hosts, regions, input.regionOf, input.shardSize) })),
    options: input.options,
    ...(input.maxFailPercentage !== undefined ? { max_fail_percentage: input.maxFailPercentage } : {}),
    any_errors_fatal: input.anyErrorsFatal,
    region_timeout: input.regionTimeout,
    ...(input.plan ? { plan: input.plan } : {}),
    started: new Date().toISOString(),
  };
  const backend = await openBackend(input.engine);
  return drive(backend, record, { fresh: true }, input);
}

/** A batch's shards: per region in the order regions first appear in the run, each cut to at most `size` hosts. */
function shardsOf(batch: string[], regions: string[], regionOf: (h: string) => string, size: number): RunRecord['batches'][number]['shards'] {
  return regions.flatMap((region) => {
    const mine = batch.filter((h) => regionOf(h) === region);
    return cutShards(mine, Math.ceil(mine.length / size)).map((hosts) => ({ region, hosts }));
  });
}

export interface Resumed {
  report: EngineReport;
  record: RunRecord;
  /** The run had ended before: its report was rebuilt, nothing was added. */
  alreadyEnded: boolean;
}

/**
 * `provision resume RUN_ID`: reads the run's record and goes on. Batches whose barrier was processed are taken from
 * their shards' results; a batch whose flow exists is awaited (its jobs are never added again: a shard runs once);
 * the batches not yet added are added in order, halting on whole batches as `coordinate` does. A run that had
 * ended is rebuilt only.
 */
export async function resume(runId: string, input: DriveInput & { regionTimeout?: number }): Promise<Resumed> {
  if (!runIdPattern.test(runId)) throw new InputError(`run ${JSON.stringify(runId)}: not a run id (12 hex digits, as run --engine prints: run ID)`);
  const backend = await openBackend(input.engine);
  let record: RunRecord;
  try {
    const runs = new backend.classes.Queue(queueNames.runs, { connection: backend.connection() });
    try {
      const job = await runs.getJob(runId);
      if (!job) throw new InputError(`run ${runId}: no such run on the engine ${backend.shown}`);
      record = readRunRecord(runId, job.data);
    } finally {
      await runs.close();
    }
  } catch (err) {
    await backend.close();
    throw err;
  }
  if (input.regionTimeout !== undefined) record.region_timeout = input.regionTimeout;
  if (record.options.planOut && record.ended === undefined) {
    await backend.close();
    throw new InputError(`run ${runId} is a --check --plan-out run: resume does not write its plan; run the check again (it changes nothing)`);
  }
  const alreadyEnded = record.ended !== undefined;
  input.say(`resuming run ${runId}: ${record.playbook_path}, ${record.batches.length} batches, started ${record.started}${alreadyEnded ? ', ended' : ''}`);
  const report = await drive(backend, record, { fresh: false }, input);
  return { report, record, alreadyEnded };
}

interface BatchEnd {
  values: Record<string, unknown>;
  failed: Record<string, string>;
}

/** Runs (or goes on with, or rebuilds) the batches of a recorded run, and ends it in the record. */
async function drive(backend: Backend, record: RunRecord, how: { fresh: boolean }, input: DriveInput): Promise<EngineReport> {
  const runId = record.run_id;
  const replay = record.ended !== undefined; // an ended run: rebuilt, nothing added
  const { FlowProducer, Worker, Queue, QueueEvents, QueueEventsProducer } = backend.classes;
  const { playbook, inventory, digests } = record;
  const batches = record.batches.map((b) => b.hosts);
  const maxFailPercentage = record.max_fail_percentage;
  const anyErrorsFatal = record.any_errors_fatal;
  const regions = [...new Set(record.batches.flatMap((b) => b.shards.map((s) => s.region)))];

  const runs = new Queue(queueNames.runs, { connection: backend.connection() });
  const barriers = new Queue(queueNames.barriers(runId), { connection: backend.connection() });
  const flow = new FlowProducer({ connection: backend.connection() });
  const halts = new QueueEventsProducer(queueNames.control, { connection: backend.connection() });
  const ends = new Map<string, (end: BatchEnd) => void>();
  const endOf = async (job: { getChildrenValues(): Promise<Record<string, unknown>>; getIgnoredChildrenFailures(): Promise<Record<string, string>> }): Promise<BatchEnd> => ({
    values: await job.getChildrenValues(),
    failed: await job.getIgnoredChildrenFailures(),
  });
  const barrier = new Worker(
    queueNames.barriers(runId),
    async (job: { id?: string; getChildrenValues(): Promise<Record<string, unknown>>; getIgnoredChildrenFailures(): Promise<Record<string, string>> }) => {
      ends.get(String(job.id))?.(await endOf(job));
      return 'ended';
    },
    // started once every batch awaited has its listener (a resumed run's barrier may be waiting already)
    { connection: backend.connection(), autorun: false },
  );
  // A region whose only worker was lost has nobody else to notice its stalled shard: the coordinator checks too.
  const checkers = replay ? [] : regions.map((r) => new Worker(queueNames.shards(r), null, { connection: backend.connection(), autorun: false, maxStalledCount: 0, stalledInterval: 2000 }));
  const events = replay ? [] : regions.map((r) => new QueueEvents(queueNames.shards(r), { connection: backend.connection() }));
  let failedSoFar = new Set<string>();
  let current: string[] = [];
  let currentIndex = 0;
  let halted: string | undefined;
  const publishHalt = (reason: string) => {
    input.say(`provision: halting the rollout on every worker: ${reason}`);
    void halts.publishEvent({ eventName: 'halt', runId, reason }).catch(() => undefined);
  };
  for (const e of events) {
    e.on('progress', ({ data }: { data: unknown }) => {
      const p = data as ShardProgress;
      if (p?.runId !== runId) return;
      // the plain line one controller prints at a host's end, with its worker (best effort: events may be lost)
      const st = p.stats;
      input.say(`[${p.host}] done: ${p.status}${st ? ` (ok=${st.ok} changed=${st.changed} failed=${st.failed} skipped=${st.skipped})` : ''}${p.worker ? ` on worker ${p.worker}` : ''}${p.error ? ` — ${p.error}` : ''}`);
      if (p.batch !== currentIndex + 1 || halted) return;
      if (p.status !== 'failed' && p.status !== 'unreachable') return;
      failedSoFar.add(p.host);
      const why = haltReason([...failedSoFar], current.length, currentIndex, maxFailPercentage, anyErrorsFatal);
      if (why) {
        halted = why;
        publishHalt(why);
      }
    });
  }
  const onAbort = () => publishHalt('interrupted');
  if (!replay) input.signal.addEventListener('abort', onAbort, { once: true });

  /**
   * A region whose shards no worker has taken: the coordinator takes them itself and fails them (one attempt, as a
   * lost worker's), so the barrier goes on. A job of another run met on the way is put back.
   */
  const failUnstarted = async (shardRegions: string[], prefix: string) => {
    for (const region of new Set(shardRegions)) {
      const taker = checkers[regions.indexOf(region)]!;
      for (;;) {
        const token = randomBytes(8).toString('hex');
        const job = await taker.getNextJob(token, { block: false }).catch(() => undefined);
        if (!job) break;
        if (!String(job.id).startsWith(prefix)) {
          await job.moveToWait(token).catch(() => undefined);
          break;
        }
        input.say(`provision: no worker in region ${region} took ${job.name} in ${record.region_timeout} s`);
        await job.moveToFailed(new Error(`no worker in region ${region}`), token).catch(() => undefined);
      }
    }
  };
  const reports: Array<{ file: string; report: RunReport }> = [];
  const lost = new Map<string, string>();
  const shardRecords: EngineReport['shards'] = [];
  /** The reports so far as one, with the batches' halts decided on whole batches. */
  const mergeSoFar = () => mergeShardReports(reports, { maxFailPercentage, anyErrorsFatal, batches, lost, base: { playbook: record.playbook_path, check: record.options.check } });
  /** A shard's job, as added (the same data and id on a resume: jobs are named by run, batch and shard). */
  const shardJobs = (index: number): ShardJob[] =>
    record.batches[index]!.shards.map((s, i) => {
      const plan = record.plan && Object.fromEntries(s.hosts.map((h) => [h, record.plan?.[h] ?? []]));
      return { runId, batch: index + 1, shard: i + 1, region: s.region, hosts: s.hosts, playbook, inventory, digests, options: record.options, ...(plan ? { plan } : {}) };
    });
  const jobId = (s: ShardJob) => `${runId}-b${s.batch}-s${s.shard}`;
  let interruptedBefore = record.ended?.interrupted ?? false;
  try {
    if (how.fresh) {
      await runs.add('run', record, { jobId: runId });
      input.say(`run ${runId}: after a lost coordinator, go on with: provision resume ${runId} --engine ${backend.shown}`);
    }
    await Promise.all([barrier.waitUntilReady(), ...checkers.map((c) => c.waitUntilReady()), ...events.map((e) => e.waitUntilReady())]);
    for (const c of checkers) await c.startStalledCheckTimer();
    let barrierRunning = false;
    for (const [index, batch] of batches.entries()) {
      if (halted || input.signal.aborted) break;
      current = batch;
      currentIndex = index;
      failedSoFar = new Set();
      const shards = shardJobs(index);
      const barrierId = `${runId}-b${index + 1}`;
      const ended = new Promise<BatchEnd>((r) => ends.set(barrierId, r));
      // the listener is set: a barrier the run added before (a resumed run) is read back or awaited, never re-added
      const existing = how.fresh ? undefined : await barriers.getJob(barrierId);
      const state = existing ? await existing.getState() : undefined;
      if (existing && (state === 'completed' || state === 'failed')) {
        ends.get(barrierId)?.(await endOf(existing));
        if (!replay) input.say(`batch ${index + 1}/${batches.length}: ended before the coordinator was lost; its shards' results are taken from the engine`);
      } else if (replay) {
        break; // an ended run added no more batches (and awaited those it added)
      } else if (existing) {
        input.say(`batch ${index + 1}/${batches.length}: its shards were added before the coordinator was lost (${state}); awaiting them`);
      } else {
        await flow.add({
          name: `batch ${index + 1}`,
          queueName: queueNames.barriers(runId),
          data: { runId, batch: index + 1 },
          opts: { jobId: barrierId },
          children: shards.map((s) => ({
            name: `shard ${s.batch}.${s.shard}`,
            queueName: queueNames.shards(s.region),
            data: s,
            // one attempt; a failed (lost, refused) shard lets the barrier go on, and is reported, never re-run
            opts: { jobId: jobId(s), attempts: 1, ignoreDependencyOnFailure: true },
          })),
        });
        input.say(`batch ${index + 1}/${batches.length}: ${batch.length} hosts in ${shards.length} shards (${[...new Set(shards.map((s) => s.region))].join(', ')})`);
      }
      if (!barrierRunning && !replay) {
        barrierRunning = true;
        void barrier.run();
      }
      const watchdog = replay ? undefined : setTimeout(() => void failUnstarted(shards.map((s) => s.region), `${runId}-b${index + 1}-`), record.region_timeout * 1000);
      const end = await ended.finally(() => clearTimeout(watchdog));
      const byId = (rec: Record<string, unknown>, id: string) => Object.entries(rec).find(([k]) => k.endsWith(`:${id}`))?.[1];
      for (const s of shards) {
        const value = byId(end.values, jobId(s)) as ShardResult | undefined;
        const failure = byId(end.failed, jobId(s)) as string | undefined;
        const base = { batch: s.batch, report: `shard ${s.batch}.${s.shard}`, hosts: s.hosts, region: s.region };
        if (value) {
          const { plans, ...report } = value;
          // A halt the batch's failures explain (the coordinator's, a shard's own any-errors-fatal) or a Ctrl-C is
          // decided again on the whole batch, in one controller's words; another (a worker stopped) halts as the shard's.
          if (report.halted !== undefined && (report.halted === 'interrupted' || /^(any errors fatal: |\d+ of \d+ hosts of batch \d+ failed, over the maximum of )/.test(report.halted))) delete report.halted;
          if (plans) input.onShardPlans?.(Object.fromEntries(s.hosts.filter((h) => Object.hasOwn(plans, h)).map((h) => [h, plans[h] as PlannedTask[]])));
          reports.push({ file: base.report, report });
          const worker = Object.values(value.hosts).map((h) => (h as { worker?: string }).worker).find((w) => w);
          shardRecords.push({ ...base, started: value.started, finished: value.finished, outcome: value.halted ? 'halted' : Object.values(value.hosts).some((h) => h.status === 'failed' || h.status === 'unreachable') ? 'failed' : 'ok', ...(worker ? { worker } : {}) });
        } else {
          const error = failure === undefined || /stalled/.test(failure) ? 'worker lost' : failure;
          for (const h of s.hosts) lost.set(h, error);
          const now = new Date().toISOString();
          shardRecords.push({ ...base, started: now, finished: now, outcome: 'failed', error });
        }
      }
      const so = mergeSoFar();
      halted ??= so.halted;
      if (!replay || index === batches.length - 1 || so.halted) input.say(`batch ${index + 1}/${batches.length} ended${so.halted ? `: rollout halted: ${so.halted}` : ''}`);
    }
    if (!replay) {
      interruptedBefore = input.signal.aborted;
      const job = await runs.getJob(runId);
      await job?.updateData({ ...record, ended: { at: new Date().toISOString(), interrupted: interruptedBefore } });
    }
  } finally {
    input.signal.removeEventListener('abort', onAbort);
    await Promise.allSettled([runs.close(), barriers.close(), flow.close(), halts.close(), barrier.close(), ...checkers.map((c) => c.close()), ...events.map((e) => e.close())]);
    await backend.close();
  }
  const merged = mergeSoFar();
  if (interruptedBefore) {
    merged.interrupted = true;
    merged.halted ??= 'interrupted';
  }
  return { ...merged, playbook: record.playbook_path, shards: shardRecords, run_id: runId };
}
