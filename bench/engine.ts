// `npm run bench:engine -- [--hosts 200] [--workers 4] [--engine redis|postgres]`: the bench workload over N loopback
// sshd hosts, run by one controller and then by a coordinator with W `provision worker` processes on an engine the
// benchmark starts on loopback. Counts first: controller (or coordinator) CPU, the workers' CPU, peak RSS, round
// trips per host; wall seconds for context (every host's work runs on this machine's cores).
// `npm run bench:engine -- --simulate 1000,3000,10000 [--shard-size 50] [--serial S]`: no fleet; the coordinator's
// own cost per host with shards that do nothing (bench/engine-sim.ts), on Redis.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFleet } from '../test/fleet/fleet.js';
import { startPostgres, startRedis } from '../test/helpers/engines.js';
import { spawnCli, waitFor } from '../test/integration/rollout/support.js';
import { summarizeCpuProfile } from './cpu-profile.js';
import { formatSim, simulate } from './engine-sim.js';
import { repoRoot, runTimed } from './tools.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '200' },
    workers: { type: 'string', default: '4' },
    engine: { type: 'string', default: 'redis' },
    simulate: { type: 'string' },
    'shard-size': { type: 'string', default: '50' },
    serial: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});
const whole = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number above 0: ${v}`);
  return n;
};
const hosts = whole('hosts', values.hosts);
const workerCount = whole('workers', values.workers);
const cli = join(repoRoot, 'bin', 'provision.js');
if (values.engine !== 'redis' && values.engine !== 'postgres') throw new Error(`--engine ${values.engine}: redis or postgres`);

if (values.simulate !== undefined) {
  // the coordinator alone, shards that do nothing: redis only (its CPU is one process, its commands are counted)
  if (values.engine !== 'redis') throw new Error('--simulate runs on redis only (redis-server is one process to read in /proc, and INFO counts its commands)');
  const sizes = values.simulate.split(',').map((v) => whole('simulate', v.trim()));
  const shardSize = whole('shard-size', values['shard-size']);
  const scratch = mkdtempSync(join(tmpdir(), 'provision-bench-sim-'));
  const engine = await startRedis();
  try {
    const rows = await simulate({
      engineUrl: engine.url,
      enginePid: engine.pid,
      scratch,
      sizes,
      shardSize,
      ...(values.serial !== undefined ? { serial: values.serial } : {}),
      runCoordinator: (args, n) => runTimed(scratch, [process.execPath, ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', join(scratch, `prof-${n}`)] : []), cli, 'run', 'bench/workload.ts', '--json', ...args], { cwd: repoRoot, env: { ...process.env, CI: '1' }, timeoutMs: 3_600_000 }),
    });
    process.stdout.write(formatSim(rows, shardSize));
    if (values.profile) {
      for (const n of sizes) {
        const dir = join(scratch, `prof-${n}`);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (!file) continue;
        const p = summarizeCpuProfile(join(dir, file), 15);
        process.stdout.write(`\nthe coordinator's CPU profile at ${n} hosts (self time, ${p.totalMs.toFixed(0)} ms profiled):\n${p.byFunction.map((f) => `  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`).join('\n')}\n`);
      }
    }
    if (rows.some((r) => r.notOk > 0)) process.exitCode = 1;
  } finally {
    await engine.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  process.exit();
}
const ticks = 100; // USER_HZ: /proc/PID/stat counts CPU in 1/100 s on Linux

/** CPU seconds (user + system) a live process has used, and its peak RSS in MB, from /proc. */
function usageOf(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssMb: hwm ? Number(hwm[1]) / 1024 : 0 };
}

interface Row {
  mode: string;
  run: 'cold' | 'warm';
  wallS: number;
  controllerCpuS: number;
  controllerRssMb: number;
  workersCpuS?: number;
  workerRssMb?: number;
  roundTripsPerHost: number;
  failed: number;
}

const scratch = mkdtempSync(join(tmpdir(), 'provision-bench-engine-'));
const engine = values.engine === 'postgres' ? await startPostgres() : await startRedis();
const fleet = await startFleet(hosts);
const stops: Array<() => Promise<void>> = [async () => fleet.stop(), async () => engine.stop(), async () => rmSync(scratch, { recursive: true, force: true })];
try {
  const inventory = fleet.writeInventory(join(scratch, 'hosts.ini'), (h) => `root=${h.root}`);
  const clean = () => {
    for (const h of fleet.hosts) for (const e of readdirSync(h.root)) rmSync(join(h.root, e), { recursive: true, force: true });
  };
  const rows: Row[] = [];
  const measure = async (mode: string, run: 'cold' | 'warm', extra: string[], workerPids: number[]) => {
    const before = workerPids.map(usageOf);
    const started = Date.now();
    const r = await runTimed(scratch, [process.execPath, cli, 'run', 'bench/workload.ts', '-i', inventory, '-f', String(Math.min(hosts, 50)), '--json', '--known-hosts', fleet.knownHostsPath, ...extra], { cwd: repoRoot, env: { ...process.env, CI: '1' } });
    const wallS = (Date.now() - started) / 1000;
    const report = JSON.parse(r.stdout) as { hosts: Record<string, { status: string; round_trips?: number }> };
    const after = workerPids.map(usageOf);
    const trips = Object.values(report.hosts).map((h) => h.round_trips ?? 0).sort((a, b) => a - b);
    rows.push({
      mode,
      run,
      wallS,
      controllerCpuS: (r.usage?.cpuMs ?? 0) / 1000,
      controllerRssMb: r.usage?.rssMb ?? 0,
      ...(workerPids.length ? { workersCpuS: after.reduce((n, u, i) => n + u.cpuS - before[i]!.cpuS, 0), workerRssMb: Math.max(...after.map((u) => u.rssMb)) } : {}),
      roundTripsPerHost: trips[Math.floor(trips.length / 2)] ?? 0,
      failed: Object.values(report.hosts).filter((h) => !['ok', 'changed'].includes(h.status)).length,
    });
  };
  process.stderr.write(`${hosts} hosts: one controller\n`);
  clean();
  await measure('1 controller', 'cold', [], []);
  await measure('1 controller', 'warm', [], []);
  process.stderr.write(`${hosts} hosts: ${workerCount} workers on ${engine.kind}\n`);
  const workers = Array.from({ length: workerCount }, (_, i) => spawnCli(cli, ['worker', '--engine', engine.url, '--name', `w${i + 1}`, '--known-hosts', fleet.knownHostsPath, '-f', '50'], repoRoot));
  stops.unshift(async () => void (await Promise.all(workers.map((w) => w.stop()))));
  for (const w of workers) await waitFor('worker ready', () => / ready\n/.test(w.stdout()), 60_000);
  clean();
  const shard = ['--engine', engine.url, '--shard-size', String(Math.ceil(hosts / workerCount))];
  await measure(`${workerCount} workers`, 'cold', shard, workers.map((w) => w.pid));
  await measure(`${workerCount} workers`, 'warm', shard, workers.map((w) => w.pid));

  const line = (cells: string[]) => `${cells.map((c, i) => (i < 2 ? c.padEnd(12) : c.padStart(12))).join(' ')}\n`;
  let out = `\n${hosts} hosts, the bench workload, ${engine.kind} (counts first; wall for context)\n`;
  out += line(['mode', 'run', 'ctl CPU s', 'workers CPU s', 'ctl RSS MB', 'worker RSS', 'trips/host', 'failed', 'wall s']);
  for (const r of rows) {
    out += line([r.mode, r.run, r.controllerCpuS.toFixed(2), r.workersCpuS?.toFixed(2) ?? '-', r.controllerRssMb.toFixed(0), r.workerRssMb?.toFixed(0) ?? '-', String(r.roundTripsPerHost), String(r.failed), r.wallS.toFixed(1)]);
  }
  out += `coordinator CPU per host (warm): ${((rows[3]!.controllerCpuS / hosts) * 1000).toFixed(1)} ms; one controller's: ${((rows[1]!.controllerCpuS / hosts) * 1000).toFixed(1)} ms\n`;
  process.stdout.write(out);
  if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
}
