// One run of each tool over the fleet: provision's CLI, the floor (one ssh per host) and ansible-playbook.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote } from '../src/connection/quote.js';
import type { BenchReport } from './phases.js';
import { killPids, pidsWithArgument, runProcess, type ProcResult } from './procs.js';
import { traceFileVar, type HostTrace } from './trace.js';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = dirname(benchDir);
const cliPath = join(repoRoot, 'bin', 'provision.js');
const gnuTime = '/usr/bin/time';

/** A host as the tools reach it: through the latency proxy's port when there is one. */
export interface Target {
  name: string;
  port: number;
  root: string;
}

/** What every run needs: the targets, the fleet's key, known_hosts and inventory for these ports, a scratch folder. */
export interface BenchSetup {
  targets: Target[];
  clientKeyPath: string;
  knownHostsPath: string;
  inventoryPath: string;
  scratch: string;
  timeoutMs: number;
  /** provision's --connect-timeout and Ansible's -T, in seconds (unset: their defaults). */
  connectTimeoutS?: number;
}

export interface ToolRun {
  wallMs: number;
  /** Epoch milliseconds when the (first) process was spawned. */
  startedAt: number;
  /** Every host succeeded. */
  ok: boolean;
  /** Changes summed over hosts. */
  changed: number;
  error?: string;
  /** Controller's peak RSS in MB (provision only). */
  rssMb?: number;
  /** Controller CPU (user + system) of the spawned CLI and the children it reaped, in ms (GNU time; summed over ssh's for the floor). */
  cpuMs?: number;
  report?: BenchReport;
  traces?: HostTrace[];
  cpuProfile?: string;
}

/** Reads what `/usr/bin/time -f '%M %U %S'` wrote (its last line; a first one may say the command failed). */
export function parseGnuTime(text: string): { rssMb: number; cpuMs: number } | null {
  const m = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec(text.trim().split('\n').at(-1)?.trim() ?? '');
  if (!m) return null;
  return { rssMb: Number(m[1]) / 1024, cpuMs: Math.round((Number(m[2]) + Number(m[3])) * 1000) };
}

let timeFileSeq = 0;

/** Runs a command under GNU time (when installed) for its CPU and peak RSS. */
export async function runTimed(
  scratch: string,
  cli: string[],
  opts: Parameters<typeof runProcess>[2],
): Promise<ProcResult & { usage: { rssMb: number; cpuMs: number } | null }> {
  const file = join(scratch, `time-${process.pid}-${++timeFileSeq}.txt`);
  const useTime = existsSync(gnuTime);
  const [cmd, ...args] = useTime ? [gnuTime, '-f', '%M %U %S', '-o', file, ...cli] : cli;
  const r = await runProcess(cmd as string, args, opts);
  let usage: { rssMb: number; cpuMs: number } | null = null;
  if (useTime && existsSync(file)) {
    usage = parseGnuTime(readFileSync(file, 'utf8'));
    rmSync(file, { force: true });
  }
  return { ...r, usage };
}

/**
 * `provision --version`'s CPU (the executable answers it before the CLI loads), `runs` times: node on
 * bin/provision.js, and through npx; and `provision --help`'s, which loads the whole command line (no host).
 */
export async function versionCpu(scratch: string, runs: number): Promise<{ direct_ms: number[]; npx_ms: number[]; help_ms: number[] }> {
  const out = { direct_ms: [] as number[], npx_ms: [] as number[], help_ms: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const d = await runTimed(scratch, [process.execPath, cliPath, '--version'], { cwd: repoRoot, timeoutMs: 60_000 });
    if (d.code === 0 && d.usage) out.direct_ms.push(d.usage.cpuMs);
    const h = await runTimed(scratch, [process.execPath, cliPath, '--help'], { cwd: repoRoot, timeoutMs: 60_000 });
    if (h.code === 0 && h.usage) out.help_ms.push(h.usage.cpuMs);
    const n = await runTimed(scratch, ['npx', '--no-install', 'provision', '--version'], { cwd: repoRoot, timeoutMs: 60_000 });
    if (n.code === 0 && n.usage) out.npx_ms.push(n.usage.cpuMs);
  }
  return out;
}

function failure(r: ProcResult, what: string): string {
  if (r.timedOut) return `${what} timed out (killed)`;
  const tail = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-15).join('\n');
  return `${what} exited with ${r.code ?? r.signal}:\n${tail}`;
}

export interface ProvisionRunOptions {
  playbook: string;
  /** Collect task traces (bench/workload-traced.ts writes them on exit). */
  trace?: boolean;
  /** Write a V8 CPU profile of the controller into this folder. */
  cpuProfileDir?: string;
}

/** Runs `provision run` as a user would, under GNU time for CPU and peak RSS, and parses its JSON report. */
export async function runProvision(setup: BenchSetup, opts: ProvisionRunOptions): Promise<ToolRun> {
  const traceFile = join(setup.scratch, 'trace.json');
  rmSync(traceFile, { force: true });
  const node = [process.execPath];
  if (opts.cpuProfileDir) node.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir);
  const cli = [
    ...node,
    cliPath,
    'run',
    opts.playbook,
    '-i',
    setup.inventoryPath,
    '--json',
    '--known-hosts',
    setup.knownHostsPath,
    '-f',
    String(setup.targets.length),
    ...(setup.connectTimeoutS === undefined ? [] : ['--connect-timeout', String(setup.connectTimeoutS)]),
  ];
  const before = opts.cpuProfileDir && existsSync(opts.cpuProfileDir) ? new Set(readdirSync(opts.cpuProfileDir)) : new Set<string>();
  const r = await runTimed(setup.scratch, cli, {
    cwd: repoRoot,
    // The benchmark's own compile cache: the first run compiles the playbook and later ones reuse it, as a user's do,
    // whatever the user's own cache holds.
    env: { ...process.env, CI: '1', PROVISION_CACHE_DIR: join(setup.scratch, 'compile-cache'), ...(opts.trace ? { [traceFileVar]: traceFile } : {}) },
    timeoutMs: setup.timeoutMs,
  });
  const run: ToolRun = { wallMs: r.wallMs, startedAt: r.startedAt, ok: false, changed: 0 };
  if (r.usage) {
    run.rssMb = r.usage.rssMb;
    run.cpuMs = r.usage.cpuMs;
  }
  if (opts.cpuProfileDir && existsSync(opts.cpuProfileDir)) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main one (tsx's loader thread writes its own).
    const added = readdirSync(opts.cpuProfileDir).find((f) => /\.0\.\d+\.cpuprofile$/.test(f) && !before.has(f));
    if (added) run.cpuProfile = join(opts.cpuProfileDir, added);
  }
  let report: BenchReport;
  try {
    report = JSON.parse(r.stdout) as BenchReport;
  } catch {
    run.error = failure(r, 'provision');
    return run;
  }
  run.report = report;
  run.changed = report.summary.changed;
  const bad = Object.entries(report.hosts).filter(([, h]) => h.status === 'failed' || h.status === 'unreachable' || h.status === 'not run');
  run.ok = bad.length === 0 && r.code === 0;
  if (!run.ok) {
    const [name, h] = bad[0] ?? ['', undefined];
    const failedTask = h?.tasks.find((t) => t.status === 'failed') as { name: string; error?: string } | undefined;
    run.error = h
      ? `provision: ${name} ${h.status}: ${h.error ?? ''}${failedTask ? ` (task ${failedTask.name}: ${failedTask.error ?? ''})` : ''}`
      : failure(r, 'provision');
  }
  if (opts.trace && existsSync(traceFile)) run.traces = JSON.parse(readFileSync(traceFile, 'utf8')) as HostTrace[];
  return run;
}

/** ssh options shared by the floor: the fleet's key and known_hosts only, no user config, no prompts. */
function sshOptions(setup: BenchSetup, port: number): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    setup.clientKeyPath,
    '-p',
    String(port),
    '-o',
    `UserKnownHostsFile=${setup.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
  ];
}

/** The floor: bench/floor.sh through one `ssh` per host, every host at once. */
export async function runFloor(setup: BenchSetup): Promise<ToolRun> {
  const script = readFileSync(join(benchDir, 'floor.sh'), 'utf8');
  const startedAt = Date.now();
  const started = performance.now();
  const results = await Promise.all(
    setup.targets.map((t) =>
      runTimed(
        setup.scratch,
        ['ssh', ...sshOptions(setup, t.port), 'root@127.0.0.1', `ROOT=${quote(t.root)} SERVER_NAME=${quote(`${t.name}.bench.test`)} sh -s`],
        { input: script, timeoutMs: setup.timeoutMs },
      ),
    ),
  );
  const cpuMs = results.every((r) => r.usage) ? results.reduce((n, r) => n + (r.usage?.cpuMs ?? 0), 0) : undefined;
  const wallMs = performance.now() - started;
  let changed = 0;
  let error: string | undefined;
  results.forEach((r, i) => {
    const m = /changed=(\d+)\s*$/.exec(r.stdout);
    if (r.code === 0 && m) changed += Number(m[1]);
    else error ??= failure(r, `floor on ${setup.targets[i]?.name ?? '?'}`);
  });
  return { wallMs, startedAt, ok: error === undefined, changed, ...(cpuMs !== undefined ? { cpuMs } : {}), ...(error ? { error } : {}) };
}

/** Whether Ansible can be measured here. */
export function ansibleAvailable(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, 'ansible-playbook')));
}

/** One host's line of Ansible's PLAY RECAP. */
export interface AnsibleRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

/**
 * Reads the PLAY RECAP the default stdout callback prints (`host01 : ok=20 changed=18 unreachable=0 failed=0 …`):
 * ansible-core alone has no `json` callback (Debian's 2.14 says `Invalid callback for stdout specified: json`).
 */
export function parseAnsibleRecap(stdout: string): Map<string, AnsibleRecap> {
  const out = new Map<string, AnsibleRecap>();
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return out;
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s*:\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const field = (k: string) => Number(new RegExp(`\\b${k}=(\\d+)`).exec(m[2] ?? '')?.[1] ?? NaN);
    const r = { ok: field('ok'), changed: field('changed'), unreachable: field('unreachable'), failed: field('failed') };
    if (Object.values(r).every(Number.isFinite)) out.set(m[1] as string, r);
  }
  return out;
}

/** ansible-playbook with bench/ansible/ansible.cfg (pipelining, ControlPersist), forks = hosts, read from its recap. */
export async function runAnsible(setup: BenchSetup): Promise<ToolRun> {
  const controlDir = join(setup.scratch, 'ansible-cp');
  mkdirSync(controlDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ANSIBLE_CONFIG: join(benchDir, 'ansible', 'ansible.cfg'),
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_LOCAL_TEMP: join(setup.scratch, 'ansible-tmp'),
    ANSIBLE_HOME: join(setup.scratch, 'ansible-home'),
  };
  const args = [
    '-i',
    setup.inventoryPath,
    join(benchDir, 'ansible', 'workload.yml'),
    '-f',
    String(setup.targets.length),
    ...(setup.connectTimeoutS === undefined ? [] : ['-T', String(setup.connectTimeoutS)]),
    '--ssh-common-args',
    `-o UserKnownHostsFile=${setup.knownHostsPath} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes`,
  ];
  const r = await runTimed(setup.scratch, ['ansible-playbook', ...args], { cwd: repoRoot, env, timeoutMs: setup.timeoutMs });
  stopAnsibleMasters(controlDir);
  // ControlPersist masters detach (never reaped by ansible-playbook): their CPU is not in this figure.
  const run: ToolRun = { wallMs: r.wallMs, startedAt: r.startedAt, ok: false, changed: 0, ...(r.usage ? { cpuMs: r.usage.cpuMs } : {}) };
  const stats = [...parseAnsibleRecap(r.stdout)];
  if (stats.length === 0) {
    run.error = failure(r, 'ansible-playbook (no PLAY RECAP)');
    return run;
  }
  run.changed = stats.reduce((n, [, s]) => n + s.changed, 0);
  const bad = stats.find(([, s]) => s.failed > 0 || s.unreachable > 0);
  run.ok = r.code === 0 && !bad && stats.length === setup.targets.length;
  if (!run.ok) run.error = bad ? `ansible: ${bad[0]} failed or unreachable` : failure(r, 'ansible-playbook');
  return run;
}

/** ControlPersist masters detach from the run (setsid); find them by their private control folder and stop them. */
export function stopAnsibleMasters(controlDir: string): void {
  killPids(pidsWithArgument(controlDir));
}
