// A stuck host never holds the run, and Ctrl-C always keeps the report: a host whose sshd is stopped (SIGSTOP) in the
// middle of a task, a second Ctrl-C during a task that never ends, and a Ctrl-C during start-up, in real processes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { descendantsOf, startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath, repoRoot } from '../../helpers/cli.js';
import type { RunReport } from '../../../src/runner/events.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/stuck.ts');

/** The CLI as a child process whose output is watched while it runs. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, CI: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  const tell = () => watchers.splice(0).forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), tell()));
  child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), tell()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => (tell(), resolve(code))));
  /** Resolves once stderr matches (or the process ended, which the caller's next assertion shows). */
  const stderrMatches = (re: RegExp): Promise<void> =>
    new Promise((resolve) => {
      const check = () => (re.test(stderr) || child.exitCode !== null ? resolve() : watchers.push(check));
      check();
    });
  return { child, exited, stderrMatches, out: () => ({ stdout, stderr }) };
}

/** Resolves once a file exists (polled: the host writes it). */
async function fileAppears(path: string, child: ChildProcess): Promise<void> {
  while (!existsSync(path) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
}

describe('a stuck host never holds the run; Ctrl-C keeps the report (real processes)', function () {
  this.timeout(90_000);
  let fleet: Fleet;
  let inventory: string;
  const stopped: number[] = [];
  const children: ChildProcess[] = [];
  before(async () => {
    fleet = await startFleet(2);
    for (const h of fleet.hosts) mkdirSync(h.root, { recursive: true });
    inventory = fleet.writeInventory(join(fleet.dir, 'hosts.ini'), (h) => `root=${h.root}${h.name === 'host01' ? ' hang=yes' : ''}`);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    resume();
    stopSleeps();
    await fleet?.stop();
  });
  /** The hosts' long tasks outlive their sessions once the CLI is gone: stopped by the PID they wrote. */
  const stopSleeps = () => {
    for (const h of fleet?.hosts ?? []) {
      const pid = Number(existsSync(join(h.root, 'started')) ? readFileSync(join(h.root, 'started'), 'utf8') : NaN);
      if (!Number.isInteger(pid) || pid <= 1) continue;
      try {
        // ours only: a process of this fleet's sessions (their HOME is the fleet's), with what it started
        if (!readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`HOME=${join(fleet.dir, 'home')}\0`)) continue;
        for (const p of [...descendantsOf(pid), pid]) process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  const resume = () => {
    for (const pid of stopped.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
  };
  const base = () => ['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--retry-file', join(fleet.dir, 'retry')];

  it('exits with its code and writes the report when a host\'s sshd is stopped in the middle of a task', async () => {
    const report = join(fleet.dir, 'stalled.json');
    const run = startCli([...base(), '--task-timeout', '2', '--report', report]);
    children.push(run.child);
    const h = fleet.hosts[0]!;
    await fileAppears(join(h.root, 'started'), run.child);
    // The host hangs: its sshd and every session process stop answering (the kernel still holds the TCP socket).
    for (const pid of [h.pid, ...descendantsOf(h.pid)]) {
      process.kill(pid, 'SIGSTOP');
      stopped.push(pid);
    }
    const code = await run.exited;
    resume();
    assert.equal(code, 2, run.out().stderr);
    const written = JSON.parse(readFileSync(report, 'utf8')) as RunReport;
    assert.equal(written.hosts.host01?.status, 'failed');
    assert.match(written.hosts.host01?.error ?? '', /timed out after 2 s/);
    assert.equal(written.hosts.host02?.status, 'changed');
    assert.match(run.out().stdout, /host01 .*failed=1/);
  });

  it('a second Ctrl-C stops the task that does not end, marks it interrupted, writes the report and recap, exits 99', async () => {
    const report = join(fleet.dir, 'interrupted.json');
    const h = fleet.hosts[0]!;
    stopSleeps();
    rmSync(join(h.root, 'started'), { force: true });
    const run = startCli([...base(), '--limit', 'host01', '--report', report]);
    children.push(run.child);
    await fileAppears(join(h.root, 'started'), run.child);
    run.child.kill('SIGINT');
    await run.stderrMatches(/no new task starts; waiting for running tasks/);
    run.child.kill('SIGINT');
    const code = await run.exited;
    const { stdout, stderr } = run.out();
    assert.equal(code, 99, stderr);
    assert.match(stderr, /SIGINT again: running tasks stop now, marked interrupted; writing the report and recap/);
    const written = JSON.parse(readFileSync(report, 'utf8')) as RunReport;
    assert.equal(written.interrupted, true);
    const task = written.hosts.host01?.tasks.find((t) => t.name === 'long task');
    assert.equal(task?.status, 'failed');
    assert.match(task?.error ?? '', /interrupted while it ran \(a second Ctrl-C\)/);
    assert.equal(written.hosts.host01?.tasks.some((t) => t.name === 'after it'), false, 'no task starts after it');
    assert.match(stdout, /host01 .*failed=1/, 'the recap is printed');
  });

  it('a Ctrl-C during start-up says what it interrupted', async () => {
    const run = startCli([...base(), '--limit', 'host02', '-K', '-v']);
    children.push(run.child);
    await run.stderrMatches(/reading the BECOME password from stdin/);
    run.child.kill('SIGINT');
    const code = await run.exited;
    assert.equal(code, 130);
    assert.match(run.out().stderr, /provision: SIGINT: interrupted while reading the BECOME password \(-K\); no task ran on any host/);
  });
});
