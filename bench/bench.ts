// `npm run bench`: provision against the hand-written floor and Ansible on fleets of loopback sshd hosts, figures printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../test/fleet/fleet.js';
import { ansibleRunsFor, parseBenchArgs, usage, type BenchOptions } from './args.js';
import { summarizeCpuProfile } from './cpu-profile.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';
import { computePhases, median, runSteps, type BenchReport } from './phases.js';
import { explainLines, type HostCounts } from './hostcount.js';
import { killStarted } from './procs.js';
import { reapedCpuMs, sessionsEnded, straceMissing, traceHost, type HostTracer } from './strace.js';
import { checkCostTargets, checkCountTargets, checkTargets, failedTools, ratio, type BenchResults, type ProvisionFigures, type SizeResult, type Spread, type ToolFigures } from './results.js';
import { formatResults } from './table.js';
import { ansibleAvailable, benchDir, runAnsible, runFloor, runProvision, versionCpu, type BenchSetup, type Target, type ToolRun } from './tools.js';
import { diffSnapshots, emptyRoot, snapshotTree, type TreeSnapshot } from './tree.js';

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => ms / 1000;

/** Everything to stop on the way out (Ctrl-C included): proxies, fleets, scratch folders. */
const cleanups: Array<() => Promise<void> | void> = [];
async function cleanUp(downTo = 0): Promise<void> {
  if (downTo === 0) killStarted();
  while (cleanups.length > downTo) await cleanups.pop()?.();
}

/** First line a program prints about its version (ssh prints it on stderr). */
function versionOf(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text === '' ? null : (text.split('\n')[0] ?? null);
}

function spreadOf(values: number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

function perHost(report: BenchReport | undefined, field: 'round_trips' | 'channels' | 'requests'): Spread | null {
  if (!report) return null;
  return spreadOf(Object.values(report.hosts).map((h) => h[field] ?? NaN));
}

/** Writes the known_hosts and INI inventory that point at the targets' ports (the proxies' when latency is on). */
function writeSetup(fleet: Fleet, targets: Target[], scratch: string, timeoutS: number, connectTimeoutS?: number): BenchSetup {
  const knownHostsPath = join(scratch, 'known_hosts');
  writeFileSync(
    knownHostsPath,
    targets.map((t, i) => `[127.0.0.1]:${t.port} ${fleet.hosts[i]?.hostKeyPub.split(' ').slice(0, 2).join(' ') ?? ''}\n`).join(''),
  );
  const inventoryPath = join(scratch, 'inventory.ini');
  const lines = ['[fleet]'];
  for (const t of targets) {
    lines.push(
      `${t.name} ansible_host=127.0.0.1 ansible_port=${t.port} ansible_user=root ` +
        `ansible_ssh_private_key_file=${fleet.clientKeyPath} ansible_python_interpreter=/usr/bin/python3 root=${t.root}`,
    );
  }
  writeFileSync(inventoryPath, `${lines.join('\n')}\n`);
  return { targets, clientKeyPath: fleet.clientKeyPath, knownHostsPath, inventoryPath, scratch, timeoutMs: timeoutS * 1000, ...(connectTimeoutS === undefined ? {} : { connectTimeoutS }) };
}

function emptyFigures(): ToolFigures {
  return { cold_s: null, warm_s: null, cold_runs_s: [], warm_runs_s: [], warm_changed: null };
}

interface Measured {
  figures: ToolFigures;
  /** Controller CPU ms of each timed run. */
  cpuCold: number[];
  cpuWarm: number[];
  /** The first host's CPU ms for each timed run. */
  hostCpuCold: number[];
  hostCpuWarm: number[];
  lastCold?: ToolRun;
  lastWarm?: ToolRun;
  /** Highest peak RSS of the timed runs, in MB. */
  peakRssMb?: number;
  snapshot?: TreeSnapshot;
}

/**
 * Cold (empty roots) then warm (converged) runs of one tool, `runs` times; stops at the first failure. The first host's
 * CPU is read off its sshd (`firstSshd`) around each run, once the run's sessions have ended.
 */
async function measure(name: string, setup: BenchSetup, runs: number, firstSshd: number | undefined, tool: () => Promise<ToolRun>): Promise<Measured> {
  const m: Measured = { figures: emptyFigures(), cpuCold: [], cpuWarm: [], hostCpuCold: [], hostCpuWarm: [] };
  const n = setup.targets.length;
  const run = async (hostCpu: number[]): Promise<ToolRun> => {
    const before = firstSshd === undefined ? 0 : reapedCpuMs(firstSshd);
    const r = await tool();
    if (firstSshd !== undefined) {
      await sessionsEnded(firstSshd);
      hostCpu.push(reapedCpuMs(firstSshd) - before);
    }
    return r;
  };
  for (let i = 1; i <= runs; i++) {
    for (const t of setup.targets) emptyRoot(t.root);
    const cold = await run(m.hostCpuCold);
    if (!cold.ok) {
      m.figures.error = `cold run ${i}: ${cold.error ?? 'failed'}`;
      log(`  ${name} ${n} hosts: ${m.figures.error}`);
      return m;
    }
    const warm = await run(m.hostCpuWarm);
    if (!warm.ok) {
      m.figures.error = `warm run ${i}: ${warm.error ?? 'failed'}`;
      log(`  ${name} ${n} hosts: ${m.figures.error}`);
      return m;
    }
    m.figures.cold_runs_s.push(seconds(cold.wallMs));
    m.figures.warm_runs_s.push(seconds(warm.wallMs));
    m.figures.warm_changed = warm.changed;
    m.lastCold = cold;
    m.lastWarm = warm;
    if (cold.cpuMs !== undefined) m.cpuCold.push(cold.cpuMs);
    if (warm.cpuMs !== undefined) m.cpuWarm.push(warm.cpuMs);
    for (const r of [cold, warm]) if (r.rssMb !== undefined) m.peakRssMb = Math.max(m.peakRssMb ?? 0, r.rssMb);
    const note = warm.changed === 0 ? '' : `  (NOT converged: warm run changed ${warm.changed})`;
    log(`  ${name.padEnd(9)} ${n} hosts, run ${i}/${runs}: cold ${seconds(cold.wallMs).toFixed(2)} s, warm ${seconds(warm.wallMs).toFixed(2)} s${note}`);
  }
  m.figures.counts = {
    controller_cpu_ms: { cold: m.cpuCold.length > 0 ? median(m.cpuCold) : null, warm: m.cpuWarm.length > 0 ? median(m.cpuWarm) : null },
    host: { cold: null, warm: null },
    host_cpu_ms: { cold: m.hostCpuCold.length > 0 ? median(m.hostCpuCold) : null, warm: m.hostCpuWarm.length > 0 ? median(m.hostCpuWarm) : null },
    bytes: { cold: null, warm: null },
  };
  m.figures.cold_s = median(m.figures.cold_runs_s);
  m.figures.warm_s = median(m.figures.warm_runs_s);
  const first = setup.targets[0];
  if (first) m.snapshot = snapshotTree(first.root, first.name);
  if (m.figures.warm_changed !== 0) m.figures.error = `warm run changed ${m.figures.warm_changed} (expected 0)`;
  return m;
}

/** One fleet size: start the fleet (and proxies), measure the three tools, then the traced accounting runs. */
async function benchSize(n: number, opts: BenchOptions, notes: string[], hostCountsOff: string | null): Promise<SizeResult> {
  log(`\n${n} host${n === 1 ? '' : 's'}${opts.latencyMs > 0 ? `, ${opts.latencyMs} ms round trip` : ''}: starting the fleet`);
  const mark = cleanups.length;
  const fleet = await startFleet(n, opts.basePort === undefined ? {} : { basePort: opts.basePort });
  cleanups.push(() => fleet.stop());
  const proxies: LatencyProxy[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'provision-bench-'));
  cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
  try {
    if (opts.latencyMs > 0) {
      for (const [i, h] of fleet.hosts.entries()) {
        proxies.push(await startLatencyProxy(h.port, opts.latencyMs / 2, opts.basePort === undefined ? 0 : opts.basePort + n + i));
      }
      cleanups.push(() => Promise.all(proxies.map((p) => p.close())).then(() => {}));
    }
    const targets = fleet.hosts.map((h, i) => ({ name: h.name, port: proxies[i]?.port ?? h.port, root: h.root }));
    const setup = writeSetup(fleet, targets, scratch, opts.timeoutS, opts.connectTimeoutS);
    const workload = join(benchDir, 'workload.ts');

    const sshd = fleet.hosts[0]?.pid;
    const prov = await measure('provision', setup, opts.runs, sshd, () => runProvision(setup, { playbook: workload }));
    const floor = await measure('floor', setup, opts.runs, sshd, () => runFloor(setup));
    let ansible: Measured = { figures: emptyFigures(), cpuCold: [], cpuWarm: [], hostCpuCold: [], hostCpuWarm: [] };
    if (!opts.ansible) {
      ansible.figures.skipped = '--no-ansible';
    } else if (!ansibleAvailable()) {
      ansible.figures.skipped = 'ansible-playbook not found (install ansible-core)';
    } else {
      ansible = await measure('ansible', setup, ansibleRunsFor(opts, n), sshd, () => runAnsible(setup));
      const runs = ansibleRunsFor(opts, n);
      if (runs < opts.runs) notes.push(`Ansible at ${n} hosts: ${runs} run(s), not the median of ${opts.runs} (--ansible-runs ${opts.runs} to have it)`);
    }

    // Counting: one cold and one warm run of each tool with the first host's sshd under strace (not timed), and the
    // first host reached through a proxy that counts the bytes (the latency proxy when there is one).
    const first = fleet.hosts[0];
    let explain: SizeResult['explain'];
    const traced = join(benchDir, 'workload-traced.ts');
    if (first && hostCountsOff === null) {
      let counter = proxies[0];
      let counted = setup;
      if (!counter) {
        counter = await startLatencyProxy(first.port, 0);
        const own = counter;
        cleanups.push(() => own.close());
        const countedDir = join(scratch, 'counted');
        mkdirSync(countedDir);
        counted = writeSetup(fleet, targets.map((t, i) => (i === 0 ? { ...t, port: own.port } : t)), countedDir, opts.timeoutS, opts.connectTimeoutS);
      }
      const bytes = counter.bytes;
      const tools: Array<[string, Measured, () => Promise<ToolRun>]> = [
        ['provision', prov, () => runProvision(counted, { playbook: traced, trace: true })],
        ['floor', floor, () => runFloor(counted)],
        ['ansible', ansible, () => runAnsible(counted)],
      ];
      for (const [name, m, run] of tools) {
        if (m.figures.skipped || m.figures.error || !m.figures.counts) continue;
        for (const t of targets) emptyRoot(t.root);
        const runs: Partial<Record<'cold' | 'warm', { counts: HostCounts; run: ToolRun }>> = {};
        for (const kind of ['cold', 'warm'] as const) {
          let tracer: HostTracer;
          try {
            tracer = await traceHost(first.pid, join(scratch, `strace-${name}-${kind}.txt`));
          } catch (err) {
            // e.g. ptrace not permitted here (not root, or a container without CAP_SYS_PTRACE): say so, measure the rest.
            const why = `host counts not measured: ${err instanceof Error ? err.message : String(err)}`;
            log(`  ${why}`);
            if (!notes.includes(why)) notes.push(why);
            break;
          }
          const sent = bytes.sent;
          const received = bytes.received;
          const r = await run();
          const counts = await tracer.stop();
          if (!r.ok) {
            m.figures.error = `counted ${kind} run: ${r.error ?? 'failed'}`;
            log(`  ${name} ${n} hosts: ${m.figures.error}`);
            break;
          }
          runs[kind] = { counts, run: r };
          m.figures.counts.host[kind] = { processes: counts.processes, execs: counts.execs, programs: counts.programs };
          m.figures.counts.bytes[kind] = { sent: bytes.sent - sent, received: bytes.received - received };
          log(`  ${name.padEnd(9)} ${n} hosts, counted ${kind} run on ${first.name}: ${counts.processes} processes, ${counts.execs} programs`);
        }
        if (name === 'provision' && opts.explain && runs.cold && runs.warm) {
          const traceOf = (r: ToolRun) => r.traces?.find((h) => h.host === first.name);
          const names: Array<[string, string]> = [
            [first.root, 'ROOT'],
            [fleet.dir, 'FLEET'],
          ];
          explain = {
            host: first.name,
            cold: explainLines(runs.cold.counts, traceOf(runs.cold.run), names),
            warm: explainLines(runs.warm.counts, traceOf(runs.warm.run), names),
          };
        }
      }
    }

    // Accounting: the traced workload once cold, once warm (with CPU profiles under --profile); not timed above.
    for (const t of targets) emptyRoot(t.root);
    const cpuDir = opts.profile ? join(scratch, 'cpu') : undefined;
    if (cpuDir) mkdirSync(cpuDir);
    const tracedCold = await runProvision(setup, { playbook: traced, trace: true, ...(cpuDir ? { cpuProfileDir: cpuDir } : {}) });
    const tracedWarm = await runProvision(setup, { playbook: traced, trace: true, ...(cpuDir ? { cpuProfileDir: cpuDir } : {}) });
    for (const [kind, r] of [['cold', tracedCold], ['warm', tracedWarm]] as const) {
      if (!r.ok) log(`  traced ${kind} run failed: ${r.error ?? ''}`);
    }

    const rootOf = (host: string) => targets.find((t) => t.name === host)?.root;
    const coldReport = prov.lastCold?.report ?? tracedCold.report;
    const warmReport = prov.lastWarm?.report ?? tracedWarm.report;
    const provision: ProvisionFigures = {
      ...prov.figures,
      peak_rss_mb: prov.peakRssMb ?? null, // timed runs only: tracing and CPU profiling add their own memory
      round_trips: { cold: perHost(coldReport, 'round_trips'), warm: perHost(warmReport, 'round_trips') },
      channels: { cold: perHost(coldReport, 'channels'), warm: perHost(warmReport, 'channels') },
      requests: { cold: perHost(coldReport, 'requests'), warm: perHost(warmReport, 'requests') },
      cold_changed_per_host: coldReport ? median(Object.values(coldReport.hosts).map((h) => h.stats.changed)) : null,
      steps: {
        cold: tracedCold.report && tracedCold.traces ? runSteps(tracedCold.report, tracedCold.traces, rootOf) : [],
        warm: tracedWarm.report && tracedWarm.traces ? runSteps(tracedWarm.report, tracedWarm.traces, rootOf) : [],
      },
      phases_ms: {
        cold: tracedCold.report && tracedCold.traces ? computePhases(tracedCold.report, tracedCold.traces, tracedCold) : null,
        warm: tracedWarm.report && tracedWarm.traces ? computePhases(tracedWarm.report, tracedWarm.traces, tracedWarm) : null,
      },
    };
    if (opts.profile) {
      provision.cpu = {};
      if (tracedCold.cpuProfile) provision.cpu.cold = summarizeCpuProfile(tracedCold.cpuProfile);
      if (tracedWarm.cpuProfile) provision.cpu.warm = summarizeCpuProfile(tracedWarm.cpuProfile);
    }

    const base = prov.snapshot;
    return {
      hosts: n,
      latency_ms: opts.latencyMs,
      provision,
      floor: floor.figures,
      ansible: ansible.figures,
      ratios: {
        provision_floor_cold: ratio(provision.cold_s, floor.figures.cold_s),
        provision_floor_warm: ratio(provision.warm_s, floor.figures.warm_s),
        ansible_provision_cold: ratio(ansible.figures.cold_s, provision.cold_s),
        ansible_provision_warm: ratio(ansible.figures.warm_s, provision.warm_s),
      },
      same_work: {
        floor: base && floor.snapshot ? diffSnapshots(base, floor.snapshot) : [],
        ansible: base && ansible.snapshot ? diffSnapshots(base, ansible.snapshot) : null,
      },
      ...(explain ? { explain } : {}),
    };
  } finally {
    await cleanUp(mark);
  }
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${(err as Error).message === usage ? '' : `${usage}\n`}`);
    return 2;
  }
  const onSignal = () => {
    log('\nbench: interrupted; stopping what it started');
    void cleanUp().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const notes: string[] = [];
  const hostCountsOff = straceMissing();
  if (hostCountsOff) {
    log(`bench: ${hostCountsOff}`);
    notes.push(hostCountsOff);
  }
  const sizes: SizeResult[] = [];
  const began = performance.now();
  for (const n of opts.hosts) sizes.push(await benchSize(n, opts, notes, hostCountsOff));
  const versionScratch = mkdtempSync(join(tmpdir(), 'provision-bench-'));
  cleanups.push(() => rmSync(versionScratch, { recursive: true, force: true }));
  const version = await versionCpu(versionScratch, 3);
  const startup = {
    version_cpu_ms: version.direct_ms.length > 0 ? median(version.direct_ms) : null,
    npx_version_cpu_ms: version.npx_ms.length > 0 ? median(version.npx_ms) : null,
    help_cpu_ms: version.help_ms.length > 0 ? median(version.help_ms) : null,
  };
  log(`\nbench: done in ${((performance.now() - began) / 1000).toFixed(0)} s`);
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      ssh: versionOf('ssh', ['-V']) ?? 'unknown',
      ansible: ansibleAvailable() ? versionOf('ansible-playbook', ['--version']) : null,
    },
    options: { ...opts },
    sizes,
    targets: checkTargets(sizes),
    count_targets: checkCountTargets(sizes, startup),
    cost_targets: checkCostTargets(sizes, startup),
    startup,
    notes,
  };
  process.stdout.write(formatResults(results, opts.profile));
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
    log(`figures written to ${opts.json}`);
  }
  const failed = failedTools(sizes);
  if (failed.length > 0) {
    log(`\nbench: FAILED: ${failed.join('; ')}`);
    return 1;
  }
  return 0;
}

main().then(
  async (code) => {
    await cleanUp();
    process.exitCode = code;
  },
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanUp();
    process.exitCode = 1;
  },
);
