// Runs the benchmark's child processes timed, each in its own process group, so every one can be stopped by its PID.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, in milliseconds. */
  wallMs: number;
  /** Epoch milliseconds at spawn. */
  startedAt: number;
  timedOut: boolean;
}

export interface ProcOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Killed (its whole process group) after this many milliseconds. */
  timeoutMs?: number;
}

/** Process groups (leader PIDs) started and not yet exited. */
const live = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Registers a process group started elsewhere in the benchmark (strace), so Ctrl-C stops it too. */
export function track(pid: number): void {
  live.add(pid);
}

/** Forgets a tracked process group once it has exited. */
export function untrack(pid: number): void {
  live.delete(pid);
}

/** Kills every process group this module started that is still running (on Ctrl-C, or on exit). */
export function killStarted(): void {
  for (const pid of live) killGroup(pid);
  live.clear();
}
process.on('exit', killStarted);

/** Spawns a command, feeds it `input`, collects its output and measures its wall time. */
export function runProcess(cmd: string, args: string[], opts: ProcOptions = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const startedAt = Date.now();
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: ControlPersist masters and other descendants go with it
    });
    const pid = child.pid;
    if (pid === undefined) {
      child.on('error', reject);
      return;
    }
    live.add(pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {}); // a child that exits without reading its stdin
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(pid);
          }, opts.timeoutMs);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      live.delete(pid);
      reject(err);
    });
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      if (timer) clearTimeout(timer);
      live.delete(pid);
      resolve({ code, signal, stdout, stderr, wallMs, startedAt, timedOut });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** PIDs of processes whose command line contains `needle` (e.g. a private ControlPath folder), read from /proc. */
export function pidsWithArgument(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Kills the given PIDs, one by one. */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
