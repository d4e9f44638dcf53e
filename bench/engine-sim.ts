// `npm run bench:engine -- --simulate 1000,3000,10000`: the coordinator's own cost per host, with shards that do
// nothing. The benchmark generates an inventory of N hosts that are never contacted, starts redis-server on loopback,
// and takes the shard jobs itself (a BullMQ Worker in this process, on the same queues as `provision worker`),
// completing each at once with a report of the shape src/engine/worker.ts returns: every host `ok`, no task. The
// coordinator is the real `provision run --engine`, run as a user runs it; nothing of the product is changed.
// Counted: the coordinator's CPU and peak RSS (GNU time), redis-server's CPU (from /proc) and the commands it
// processed (INFO stats), per host; wall seconds for context.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShardJob } from '../src/engine/protocol.js';
import type { HostReport, RunReport } from '../src/runner/events.js';

export interface SimRow {
  hosts: number;
  shards: number;
  batches: number;
  coordinatorCpuS: number;
  coordinatorRssMb: number;
  engineCpuS: number;
  engineCommands: number;
  /** CPU of this process's fake worker (and the benchmark's own reading of the report), for context. */
  fakeWorkerCpuS: number;
  wallS: number;
  /** Hosts of the merged report that are not `ok`: 0 unless the coordinator lost or refused a shard. */
  notOk: number;
}

/** An INI inventory of `n` hosts that are never contacted (the shards that name them do nothing). */
export function simInventory(n: number): string {
  const width = String(n).length;
  const lines = ['[sim]'];
  for (let i = 1; i <= n; i++) lines.push(`sim${String(i).padStart(width, '0')} ansible_connection=local root=/nonexistent`);
  return `${lines.join('\n')}\n`;
}

/** The report a worker returns for a shard whose hosts did nothing: each host `ok`, no task, the worker named. */
export function emptyShardReport(shard: Pick<ShardJob, 'playbook' | 'hosts' | 'options'>, worker: string, now = new Date()): RunReport {
  const at = now.toISOString();
  const host = (): HostReport & { worker: string } => ({ status: 'ok', stats: { ok: 0, changed: 0, failed: 0, skipped: 0, left_out: 0 }, tasks: [], started: at, duration_ms: 0, round_trips: 0, requests: 0, channels: 0, worker });
  return {
    playbook: shard.playbook,
    check: shard.options.check,
    started: at,
    finished: at,
    duration_ms: 0,
    batches: [shard.hosts],
    hosts: Object.fromEntries(shard.hosts.map((h) => [h, host()])),
    summary: { hosts: shard.hosts.length, ok: 0, changed: 0, failed: 0, skipped: 0, left_out: 0, unreachable: 0, not_run: 0, halted: 0 },
  };
}

/**
 * Where a per-host figure grows faster than linear: for each step between two sizes, the ratio of the marginal cost
 * per host added (Δvalue / Δhosts) to the marginal cost of the step before. Linear costs give ≈ 1 throughout; a
 * quadratic part shows as ratios near the sizes' ratio. `faster` is set for steps whose ratio is over `limit`.
 */
export function growth(points: Array<{ hosts: number; value: number }>, limit = 1.5): Array<{ from: number; to: number; marginal: number; ratio: number | null; faster: boolean }> {
  const sorted = [...points].sort((a, b) => a.hosts - b.hosts);
  const out: Array<{ from: number; to: number; marginal: number; ratio: number | null; faster: boolean }> = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const marginal = (b.value - a.value) / (b.hosts - a.hosts);
    const before = out[out.length - 1]?.marginal;
    const ratio = before === undefined || before <= 0 ? null : marginal / before;
    out.push({ from: a.hosts, to: b.hosts, marginal, ratio, faster: ratio !== null && ratio > limit });
  }
  return out;
}

/** The figures as a table, per host first (ms of CPU, KB of RSS, engine commands), then totals; wall for context. */
export function formatSim(rows: SimRow[], shardSize: number): string {
  const line = (cells: string[]) => `${cells.map((c, i) => (i === 0 ? c.padEnd(7) : c.padStart(11))).join(' ')}\n`;
  let out = `\nthe coordinator at N simulated hosts (shards of ${shardSize} that do nothing; redis; counts first, wall for context)\n`;
  out += line(['hosts', 'shards', 'coord ms/h', 'coord KB/h', 'redis ms/h', 'redis cmd/h', 'coord CPU s', 'coord RSS', 'redis CPU s', 'redis cmds', 'fake wkr s', 'not ok', 'wall s']);
  for (const r of rows) {
    out += line([
      String(r.hosts),
      String(r.shards),
      ((r.coordinatorCpuS / r.hosts) * 1000).toFixed(2),
      ((r.coordinatorRssMb / r.hosts) * 1024).toFixed(1),
      ((r.engineCpuS / r.hosts) * 1000).toFixed(2),
      (r.engineCommands / r.hosts).toFixed(1),
      r.coordinatorCpuS.toFixed(2),
      `${r.coordinatorRssMb.toFixed(0)} MB`,
      r.engineCpuS.toFixed(2),
      String(r.engineCommands),
      r.fakeWorkerCpuS.toFixed(2),
      String(r.notOk),
      r.wallS.toFixed(1),
    ]);
  }
  const say = (what: string, value: (r: SimRow) => number, unit: string, scale: number) => {
    const steps = growth(rows.map((r) => ({ hosts: r.hosts, value: value(r) })));
    const parts = steps.map((s) => `${s.from}→${s.to}: ${(s.marginal * scale).toFixed(2)} ${unit}${s.ratio === null ? '' : ` (×${s.ratio.toFixed(2)})`}${s.faster ? ' FASTER THAN LINEAR' : ''}`);
    return parts.length ? `each more host, ${what}: ${parts.join('; ')}\n` : '';
  };
  out += say('coordinator CPU', (r) => r.coordinatorCpuS, 'ms', 1000);
  out += say('coordinator RSS', (r) => r.coordinatorRssMb, 'KB', 1024);
  out += say('redis CPU', (r) => r.engineCpuS, 'ms', 1000);
  out += say('redis commands', (r) => r.engineCommands, '', 1);
  return out;
}

/** CPU seconds (user + system, its own and its reaped children's) of a live process, from /proc. */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100; // USER_HZ
}

export interface SimSetup {
  engineUrl: string;
  enginePid: number;
  scratch: string;
  sizes: number[];
  shardSize: number;
  serial?: string;
  /** Runs one coordinator (`provision run … --engine`, for `hosts` hosts) and returns its output and GNU time's figures. */
  runCoordinator: (args: string[], hosts: number) => Promise<{ code: number | null; stdout: string; stderr: string; usage: { rssMb: number; cpuMs: number } | null }>;
}

/** Runs the coordinator once per size against this process's fake workers; returns a row per size. */
export async function simulate(setup: SimSetup): Promise<SimRow[]> {
  const { openBackend, queueNames } = await import('../src/engine/backend.js');
  const { Redis } = await import('ioredis');
  const backend = await openBackend(setup.engineUrl);
  const stats = new Redis(setup.engineUrl, { maxRetriesPerRequest: null });
  const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await stats.info('stats'))?.[1] ?? 0);
  const fake = new backend.classes.Worker(queueNames.shards('default'), async (job: { data: ShardJob }) => emptyShardReport(job.data, 'sim'), {
    connection: backend.connection(),
    concurrency: 50,
    maxStalledCount: 0,
  });
  fake.on('error', (err) => process.stderr.write(`bench: fake worker: ${err.message}\n`));
  const rows: SimRow[] = [];
  try {
    await fake.waitUntilReady();
    for (const n of setup.sizes) {
      const inventory = join(setup.scratch, `sim-${n}.ini`);
      writeFileSync(inventory, simInventory(n));
      process.stderr.write(`${n} simulated hosts\n`);
      const cpu0 = cpuOf(setup.enginePid);
      const cmd0 = await commands();
      const self0 = process.cpuUsage();
      const t0 = Date.now();
      const r = await setup.runCoordinator(['-i', inventory, '--engine', setup.engineUrl, '--shard-size', String(setup.shardSize), ...(setup.serial ? ['--serial', setup.serial] : [])], n);
      const wallS = (Date.now() - t0) / 1000;
      const self = process.cpuUsage(self0);
      const cmd1 = await commands();
      const cpu1 = cpuOf(setup.enginePid);
      let report: RunReport & { shards?: unknown[] };
      try {
        report = JSON.parse(r.stdout) as typeof report;
      } catch {
        throw new Error(`the coordinator at ${n} hosts wrote no JSON report (exit ${r.code}):\n${r.stderr.split('\n').slice(-10).join('\n')}`);
      }
      rows.push({
        hosts: n,
        shards: report.shards?.length ?? 0,
        batches: report.batches.length,
        coordinatorCpuS: (r.usage?.cpuMs ?? 0) / 1000,
        coordinatorRssMb: r.usage?.rssMb ?? 0,
        engineCpuS: cpu1 - cpu0,
        engineCommands: cmd1 - cmd0 - 1, // less the INFO that read the count before
        fakeWorkerCpuS: (self.user + self.system) / 1e6,
        wallS,
        notOk: Object.values(report.hosts).filter((h) => h.status !== 'ok').length,
      });
    }
  } finally {
    await fake.close().catch(() => undefined);
    await backend.close();
    stats.disconnect();
  }
  return rows;
}
