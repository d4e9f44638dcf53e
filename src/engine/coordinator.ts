// `provision run --engine URL`: the coordinator. It computes the batches as one controller does and, batch by batch,
// adds one flow: a barrier job whose children are the batch's shards (a region's hosts, cut to --shard-size). The
// barrier is processed only once every shard has ended; then the shards' reports are merged and max-fail and
// any-errors-fatal are decided on the whole batch, and only then is the next batch's flow added: no batch can
// start early, because its jobs do not exist yet. Host results arriving meanwhile are counted, and past the line a
// halt is published to the workers (a lost halt only delays the stop to the barrier).
import { randomBytes } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { cutShards, mergeShardReports, type ShardRecord } from '../cli/shard.js';
import { haltReason } from '../runner/batches.js';
import type { RunReport } from '../runner/events.js';
import { openBackend, queueNames } from './backend.js';
import { inputDigests } from './digests.js';
import { checkRegion, type ShardJob, type ShardOptions, type ShardProgress, type ShardResult } from './protocol.js';
import type { PlannedTask } from '../cli/plan-file.js';

export interface CoordinatorInput {
  engine: string;
  playbookPath: string;
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

interface BatchEnd {
  values: Record<string, RunReport>;
  failed: Record<string, string>;
}

export async function coordinate(input: CoordinatorInput): Promise<EngineReport> {
  const runId = randomBytes(6).toString('hex');
  const backend = await openBackend(input.engine);
  const { FlowProducer, Worker, QueueEvents, QueueEventsProducer } = backend.classes;
  const playbook = relative('.', resolve(input.playbookPath));
  const inventory = input.inventory.map((i) => relative('.', resolve(i)));
  const digests = inputDigests(playbook, inventory);
  const regions = [...new Set(input.batches.flat().map((h) => checkRegion(input.regionOf(h), `host ${h}`)))];

  const flow = new FlowProducer({ connection: backend.connection() });
  const halts = new QueueEventsProducer(queueNames.control, { connection: backend.connection() });
  const ends = new Map<string, (end: BatchEnd) => void>();
  const barrier = new Worker(
    queueNames.barriers(runId),
    async (job: { id?: string; getChildrenValues(): Promise<Record<string, RunReport>>; getIgnoredChildrenFailures(): Promise<Record<string, string>> }) => {
      const end = { values: await job.getChildrenValues(), failed: await job.getIgnoredChildrenFailures() };
      ends.get(String(job.id))?.(end);
      return 'ended';
    },
    { connection: backend.connection() },
  );
  // A region whose only worker was lost has nobody else to notice its stalled shard: the coordinator checks too.
  const checkers = regions.map((r) => new Worker(queueNames.shards(r), null, { connection: backend.connection(), autorun: false, maxStalledCount: 0, stalledInterval: 2000 }));
  const events = regions.map((r) => new QueueEvents(queueNames.shards(r), { connection: backend.connection() }));
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
      const why = haltReason([...failedSoFar], current.length, currentIndex, input.maxFailPercentage, input.anyErrorsFatal);
      if (why) {
        halted = why;
        publishHalt(why);
      }
    });
  }
  input.signal.addEventListener('abort', () => publishHalt('interrupted'), { once: true });

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
        input.say(`provision: no worker in region ${region} took ${job.name} in ${input.regionTimeout} s`);
        await job.moveToFailed(new Error(`no worker in region ${region}`), token).catch(() => undefined);
      }
    }
  };
  const reports: Array<{ file: string; report: RunReport }> = [];
  const lost = new Map<string, string>();
  const shardRecords: EngineReport['shards'] = [];
  /** The reports so far as one, with the batches' halts decided on whole batches. */
  const mergeSoFar = () => mergeShardReports(reports, { maxFailPercentage: input.maxFailPercentage, anyErrorsFatal: input.anyErrorsFatal, batches: input.batches, lost, base: { playbook: input.playbookPath, check: input.options.check } });
  try {
    await Promise.all([barrier.waitUntilReady(), ...checkers.map((c) => c.waitUntilReady()), ...events.map((e) => e.waitUntilReady())]);
    for (const c of checkers) await c.startStalledCheckTimer();
    for (const [index, batch] of input.batches.entries()) {
      if (halted || input.signal.aborted) break;
      current = batch;
      currentIndex = index;
      failedSoFar = new Set();
      const shards: ShardJob[] = [];
      for (const region of regions) {
        const mine = batch.filter((h) => input.regionOf(h) === region);
        for (const hosts of cutShards(mine, Math.ceil(mine.length / input.shardSize))) {
          const plan = input.plan && Object.fromEntries(hosts.map((h) => [h, input.plan?.[h] ?? []]));
          shards.push({ runId, batch: index + 1, shard: shards.length + 1, region, hosts, playbook, inventory, digests, options: input.options, ...(plan ? { plan } : {}) });
        }
      }
      const barrierId = `${runId}-b${index + 1}`;
      const ended = new Promise<BatchEnd>((r) => ends.set(barrierId, r));
      const jobId = (s: ShardJob) => `${runId}-b${s.batch}-s${s.shard}`;
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
      input.say(`batch ${index + 1}/${input.batches.length}: ${batch.length} hosts in ${shards.length} shards (${[...new Set(shards.map((s) => s.region))].join(', ')})`);
      const watchdog = setTimeout(() => void failUnstarted(shards.map((s) => s.region), `${runId}-b${index + 1}-`), input.regionTimeout * 1000);
      const end = await ended.finally(() => clearTimeout(watchdog));
      const byId = (rec: Record<string, unknown>, id: string) => Object.entries(rec).find(([k]) => k.endsWith(`:${id}`))?.[1];
      for (const s of shards) {
        const value = byId(end.values, jobId(s)) as ShardResult | undefined;
        const failure = byId(end.failed, jobId(s)) as string | undefined;
        const base = { batch: s.batch, report: `shard ${s.batch}.${s.shard}`, hosts: s.hosts, region: s.region };
        if (value) {
          const { plans, ...report } = value;
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
      input.say(`batch ${index + 1}/${input.batches.length} ended${so.halted ? `: rollout halted: ${so.halted}` : ''}`);
    }
  } finally {
    await Promise.allSettled([flow.close(), halts.close(), barrier.close(), ...checkers.map((c) => c.close()), ...events.map((e) => e.close())]);
    await backend.close();
  }
  const merged = mergeSoFar();
  if (input.signal.aborted) {
    merged.interrupted = true;
    merged.halted ??= 'interrupted';
  }
  return { ...merged, playbook: input.playbookPath, shards: shardRecords, run_id: runId };
}
