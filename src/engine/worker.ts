// `provision worker`: takes shards of its region from the engine and runs each through the same run as
// `provision run` (its hosts as one batch), with its own connection options and secrets, and returns the shard's
// report. A shard is data: the worker runs only a playbook of its own checkout whose digests are the coordinator's,
// never an executable inventory the shard names, and never a shard twice (one attempt, a stalled shard fails).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { RunReport } from '../runner/events.js';
import { openBackend, queueNames } from './backend.js';
import { digestDifference } from './digests.js';
import { checkRegion, type ShardJob, type ShardProgress, type ShardResult } from './protocol.js';
import { createPlanRecorder, planPart } from '../cli/plan-file.js';
import { askPassword } from '../cli/prompt.js';
import { secret } from '../secret.js';
import type { RunFlags, RunHooks } from '../cli/main.js';

export interface WorkerFlags extends RunFlags {
  engine: string;
  region: string;
  concurrency: number;
  name?: string;
  lockDuration: number;
}

/** The halts the coordinator publishes for a batch's failures (haltReason's words). */
const rolloutHalt = /^(any errors fatal: |\d+ of \d+ hosts of batch \d+ failed, over the maximum of )/;

type RunShard = (playbook: string, flags: RunFlags, hooks: RunHooks) => Promise<number>;

/** Runs until SIGTERM or SIGINT: then takes no new shard, stops the running ones after their task, and exits 0. */
export async function workerCommand(flags: WorkerFlags, runShard: RunShard): Promise<number> {
  const name = flags.name ?? `${hostname()}-${process.pid}`;
  checkRegion(flags.region, '--region');
  // -K: asked once, before the worker listens, and given to every shard it runs
  const becomePassword = flags.askBecomePass ? secret(await askPassword('BECOME password: ')) : undefined;
  const backend = await openBackend(flags.engine);
  const { Worker, QueueEvents } = backend.classes;
  const halts = new Map<string, AbortController>(); // run id → the halt of its shards here
  const stopping = new AbortController();
  const control = new QueueEvents(queueNames.control, { connection: backend.connection() });
  control.on('halt' as never, ((args: { runId: string; reason: string }) => {
    const h = halts.get(args.runId);
    if (h && !h.signal.aborted) {
      process.stderr.write(`provision worker ${name}: run ${args.runId} halted: ${args.reason}; its shards here stop after their task\n`);
      h.abort(args.reason);
    }
  }) as never);

  const processShard = async (job: { data: ShardJob; updateProgress(p: ShardProgress): Promise<void> }): Promise<ShardResult> => {
    const shard = job.data;
    const label = `shard ${shard.batch}.${shard.shard} of run ${shard.runId}`;
    const playbook = resolve(shard.playbook);
    const rel = relative('.', playbook);
    if (isAbsolute(shard.playbook) || rel.startsWith('..') || rel.split('/').includes('node_modules') || !/\.[cm]?[jt]s$/.test(rel)) {
      throw new Error(`refused by worker ${name}: ${label} names the playbook ${shard.playbook}, not a .ts file of this checkout`);
    }
    const differs = digestDifference(shard.digests);
    if (differs) throw new Error(`refused by worker ${name}: ${label}: ${differs}; run the same project commit on every worker`);
    const halt = halts.get(shard.runId) ?? new AbortController();
    halts.set(shard.runId, halt);
    const onStop = () => halt.abort(`worker ${name} stopped`);
    stopping.signal.addEventListener('abort', onStop, { once: true });
    // A shard's plan is data: its entries are checked as a plan file's before any host is vetted against them.
    const plan = shard.plan === undefined ? undefined : planPart(`${label}'s plan`, shard.plan);
    const recorder = shard.options.planOut && shard.options.check ? createPlanRecorder() : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'provision-shard-'));
    try {
      writeFileSync(join(dir, 'hosts'), `${shard.hosts.join('\n')}\n`);
      let report: RunReport | undefined;
      await runShard(rel, {
        ...flags,
        ...shard.options,
        inventory: shard.inventory,
        engine: undefined, // the worker's engine: the shard runs here, it is not coordinated again
        limit: `@${join(dir, 'hosts')}`,
        // the shard is one batch; max-fail is the coordinator's, over the whole batch (100: never on the shard alone)
        serial: '0',
        maxFailPercentage: 100,
        report: undefined,
        junit: undefined,
        planOut: undefined,
        json: false,
        retryFile: join(dir, 'retry'),
      }, {
        halt: halt.signal,
        refuseScripts: `it is named by ${label}, which is data: start the worker where the inventory is a file`,
        onHostEnd: (host, h) => void job.updateProgress({ runId: shard.runId, batch: shard.batch, host, status: h.status, worker: name, stats: h.stats, ...(h.error ? { error: h.error } : {}) }).catch(() => undefined),
        onReport: (r) => (report = r),
        ...(recorder ? { onPlan: recorder.record } : {}),
        ...(plan ? { plan } : {}),
        ...(becomePassword !== undefined ? { becomePassword } : {}),
      });
      if (!report) throw new Error(`worker ${name}: ${label} ended without a report`);
      const why = halt.signal.aborted ? String(halt.signal.reason) : undefined;
      for (const h of Object.values(report.hosts)) {
        (h as typeof h & { worker: string }).worker = name;
        // as one controller says it: a host cut short by the rollout's halt, how much of its play did not run
        // (`interrupted: …` for a Ctrl-C, `halted: …` for a halt); one cut short by this worker's stop, that reason;
        // a host not started, the halt's reason
        if (why && h.status === 'halted' && why !== 'interrupted') h.reason = rolloutHalt.test(why) ? h.reason?.replace(/^interrupted: /, 'halted: ') ?? `halted: ${why}` : `halted: ${why}`;
        if (why && h.status === 'not run') h.reason = `halted: ${why}`;
      }
      if (why) {
        delete report.interrupted;
        report.halted = why;
      }
      return recorder ? { ...report, plans: recorder.entries() } : report;
    } finally {
      stopping.signal.removeEventListener('abort', onStop);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const worker = new Worker(queueNames.shards(flags.region), processShard as never, {
    connection: backend.connection(),
    concurrency: flags.concurrency,
    lockDuration: flags.lockDuration * 1000,
    stalledInterval: Math.max(1000, Math.floor((flags.lockDuration * 1000) / 2)),
    // a shard is never run twice: a stalled one (its worker lost) fails, and the coordinator says so
    maxStalledCount: 0,
    autorun: false,
  });
  worker.on('error', (err) => process.stderr.write(`provision worker ${name}: ${err.message}\n`));
  await Promise.all([worker.waitUntilReady(), control.waitUntilReady()]);
  const done = new Promise<void>((resolveDone) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping.signal.aborted) return;
      process.stderr.write(`provision worker ${name}: ${signal}: no new shard; running shards stop after their task\n`);
      stopping.abort();
      void worker.close().then(resolveDone);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  void worker.run();
  process.stdout.write(`worker ${name} ready\n`);
  await done;
  await control.close();
  await backend.close();
  return 0;
}

