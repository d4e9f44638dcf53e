// Counting what a run makes a host do: `strace -f` attached to that host's listening sshd for the length of one run.
// Chosen over a cgroup per sshd because it needs no writable cgroup hierarchy (containers and CI machines often have
// none), names every program with its argv and time (for --explain), and leaves the fleet as it is: it attaches to
// the sshd already listening, and detaches after. It slows the traced host, so counted runs are never timed runs.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { parseStrace, type HostCounts } from './hostcount.js';
import { track, untrack } from './procs.js';

/** Why host counts cannot be taken here, or null when strace can attach. */
export function straceMissing(): string | null {
  const r = spawnSync('strace', ['-V'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return 'strace not found: host process counts not measured (Debian: apt-get install strace)';
  return null;
}

/** Child PIDs of a process, read from /proc (sshd's session processes). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Waits (up to `ms`) until a listening sshd serves no session: a finished run's last processes have exited. */
export async function sessionsEnded(sshdPid: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (childrenOf(sshdPid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU (user + system, ms) of the processes a listening sshd has reaped: each connection's sshd reaps its session,
 * which reaps what it ran, so the difference over a run (once its sessions ended) is the CPU the run cost the host.
 */
export function reapedCpuMs(sshdPid: number): number {
  const stat = readFileSync(`/proc/${sshdPid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after the command: state ppid … utime(11) stime(12) cutime(13) cstime(14)
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / clockTicks;
}

export interface HostTracer {
  /** Waits for the host's sessions to end (up to 15 s), detaches strace and returns the counts. */
  stop(): Promise<HostCounts>;
}

/** Attaches `strace -f -ttt -e trace=process` to a listening sshd; resolves once strace says it is attached. */
export async function traceHost(sshdPid: number, outFile: string): Promise<HostTracer> {
  const child = spawn('strace', ['-f', '-ttt', '-e', 'trace=process', '-s', '4096', '-o', outFile, '-p', String(sshdPid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('cannot start strace');
  track(pid);
  const exited = once(child, 'exit');
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strace did not attach to sshd ${sshdPid} within 10 s: ${stderr.trim()}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/attached/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`strace exited (${code ?? 'signal'}) before attaching to sshd ${sshdPid}: ${stderr.trim()}`));
    });
  });
  return {
    async stop() {
      // The tool has exited; its sshd session may still be closing. Its last exits must be in the trace.
      await sessionsEnded(sshdPid);
      process.kill(pid, 'SIGINT'); // strace detaches from every tracee and exits
      await exited;
      untrack(pid);
      return parseStrace(readFileSync(outFile, 'utf8'));
    },
  };
}
