// Fleet rollouts through the CLI against 20 real sshd hosts: batches, halts, gates, dropped hosts, timeouts, retries, Ctrl-C.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet, type FleetHost } from '../../fleet/fleet.js';
import { bulk } from '../../fixtures/rollout/rollout.js';
import { cliPath, parseReport, repoRoot, runCli, type CliResult } from '../../helpers/cli.js';
import type { RunReport } from '../../../src/runner/events.js';
import { commandsUnder, findTmpFiles, spawnCli, type SpawnedCli, startHealthServer, startResetProxy, waitFor, waitForFile, type HealthServer } from './support.js';

const playbook = join(repoRoot, 'test/fixtures/rollout/rollout.ts');
const gated = join(repoRoot, 'test/fixtures/rollout/gated.ts');
const fleetSize = 20;

/** The report as the README documents it (the shared helper's shape lacks the rollout fields). */

describe('rollouts (20 sshd hosts on loopback, through the CLI)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let work: string;
  let inventory: string;
  let names: string[];
  const servers: HealthServer[] = [];
  /** CLI processes a test spawned itself (each also stopped in its test's finally). */
  const spawned: SpawnedCli[] = [];
  const startCli = (args: string[]) => {
    const cli = spawnCli(cliPath, args, repoRoot);
    spawned.push(cli);
    return cli;
  };

  const host = (i: number): FleetHost => fleet.hosts[i - 1] as FleetHost;
  /** Host names from the i-th to the j-th, counting from 1 as the names do. */
  const range = (from: number, to: number) => names.slice(from - 1, to);
  /** The usual arguments: the rollout playbook, the fleet's inventory and keys, a retry file in the work folder. */
  const base = (inv = inventory, book = playbook, retry = join(work, 'run.retry')) => [
    'run', book, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--retry-file', retry,
  ];
  const runJson = async (args: string[]): Promise<{ r: CliResult; report: RunReport }> => {
    const r = await runCli([...args, '--json']);
    return { r, report: parseReport(r.stdout) };
  };
  const statusOf = (report: RunReport, name: string) => report.hosts[name]?.status;
  const assertDone = (report: RunReport, hosts: string[]) => {
    for (const n of hosts) assert.ok(['ok', 'changed'].includes(statusOf(report, n) ?? ''), `${n}: ${JSON.stringify(report.hosts[n])}`);
  };
  /** The failing host's batch: each other host either finished before the halt or stopped after the task it was on. */
  const assertDoneOrHalted = (report: RunReport, hosts: string[]) => {
    for (const n of hosts) {
      const status = statusOf(report, n) ?? '';
      if (status === 'halted') assert.match(report.hosts[n]!.reason ?? '', /^halted: \d+ of \d+ tasks not run$/, n);
      else assert.ok(['ok', 'changed'].includes(status), `${n}: ${JSON.stringify(report.hosts[n])}`);
    }
  };
  /** Clears the hold task's files on a host, so the next hold waits again. */
  const resetHold = (h: FleetHost) => {
    rmSync(join(h.root, 'holding'), { force: true });
    rmSync(join(h.root, 'go'), { force: true });
  };

  before(async function () {
    this.timeout(180_000);
    fleet = await startFleet(fleetSize);
    names = fleet.hosts.map((h) => h.name);
    work = mkdtempSync(join(tmpdir(), 'provision-rollout-'));
    inventory = fleet.writeInventory(join(work, 'hosts.ini'), (h) => `root=${h.root}`);
  });
  after(async () => {
    await Promise.all(spawned.map((c) => c.stop()));
    await Promise.all(servers.map((s) => s.close()));
    await fleet?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs --serial 1,25%,100% as batches of 1, 5 and 14, each after the last, with plain progress lines', async () => {
    const reportPath = join(work, 'serial.json');
    // No --json: progress goes to stdout, which is a pipe here, and CI is unset so only the pipe decides.
    const r = await runCli([...base(), '--serial', '1,25%,100%', '--report', reportPath, '-e', 'version=serial'], {
      env: { CI: undefined },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport;
    assert.deepEqual(report.batches, [range(1, 1), range(2, 6), range(7, 20)]);
    assertDone(report, names);

    // Batch N+1 started only after batch N was done: its first write is later than the previous batch's last.
    const mtime = (h: string, file: string) => statSync(join(fleet.hosts[names.indexOf(h)]!.root, file), { bigint: true }).mtimeNs;
    for (let b = 1; b < report.batches.length; b++) {
      const lastDone = report.batches[b - 1]!.map((h) => mtime(h, 'done.txt')).reduce((a, c) => (c > a ? c : a));
      const firstStart = report.batches[b]!.map((h) => mtime(h, 'release.txt')).reduce((a, c) => (c < a ? c : a));
      assert.ok(firstStart >= lastDone, `batch ${b + 1} started before batch ${b} was done`);
    }

    // Not a terminal: one plain line per event, no escape codes, no carriage returns.
    assert.ok(!r.stdout.includes('\u001b') && !r.stderr.includes('\u001b'), 'ANSI escape codes in non-terminal output');
    assert.ok(!r.stdout.includes('\r'), 'carriage returns in non-terminal output');
    const lines = r.stdout.split('\n');
    const batchLines = [
      `BATCH 1/3: ${range(1, 1).join(', ')}`,
      `BATCH 2/3: ${range(2, 6).join(', ')}`,
      `BATCH 3/3: ${range(7, 20).join(', ')}`,
    ].map((l) => lines.indexOf(l));
    assert.ok(batchLines.every((i) => i >= 0), r.stdout);
    assert.deepEqual([...batchLines].sort((a, b) => a - b), batchLines, 'batch lines out of order');
    for (const n of names) {
      const done = lines.filter((l) => l.startsWith(`[${n}] done: changed`));
      assert.equal(done.length, 1, `one "done" line for ${n}:\n${r.stdout}`);
      // The host's done line sits under its batch's line.
      const batch = report.batches.findIndex((b) => b.includes(n));
      assert.ok(lines.indexOf(done[0]!) > batchLines[batch]!);
    }
  });

  it('halts on a failure in batch 2 under --max-fail-percentage 0 (exit 8); the retry file reruns the rest', async () => {
    const failing = host(4).name; // batch 2 of 1,25%,100%
    const inv = fleet.writeInventory(join(work, 'halt.ini'), (h) => `root=${h.root}${h.name === failing ? ' fail=yes' : ''}`);
    const retry = join(work, 'halt.retry');
    const args = ['run', playbook, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--retry-file', retry];
    const { r, report } = await runJson([...args, '--serial', '1,25%,100%', '--max-fail-percentage', '0', '-e', 'version=halt']);
    assert.equal(r.code, 8, r.stderr);
    assert.match(report.halted ?? '', /batch 2/);
    assert.equal(statusOf(report, failing), 'failed');
    assert.equal(report.hosts[failing]!.tasks.find((t) => t.status === 'failed')?.name, 'fail where asked');
    assertDone(report, range(1, 1));
    assertDoneOrHalted(report, range(2, 6).filter((n) => n !== failing));
    for (const n of range(7, 20)) {
      assert.equal(statusOf(report, n), 'not run', n);
      assert.match(report.hosts[n]!.reason ?? '', /^halted/, n);
      assert.deepEqual(report.hosts[n]!.tasks, []);
    }
    assert.equal(report.summary.not_run, 14);
    assert.match(r.stderr, /HALTED/);

    // The failed host, the hosts the halt cut short and the hosts that did not run, and nothing else.
    assert.equal(report.retry_file, retry);
    const listed = readFileSync(retry, 'utf8').trim().split('\n');
    const cut = range(2, 6).filter((n) => statusOf(report, n) === 'halted');
    assert.equal(report.summary.halted, cut.length);
    assert.deepEqual(listed, [...range(2, 6).filter((n) => n === failing || cut.includes(n)), ...range(7, 20)]);

    // The cause fixed (extra vars win over the inventory), the retry file targets exactly those hosts.
    const again = await runJson([...args, '--limit', `@${retry}`, '-e', 'fail=no', '-e', 'version=halt']);
    assert.equal(again.r.code, 0, again.r.stderr);
    assert.deepEqual(Object.keys(again.report.hosts), listed);
    assertDone(again.report, listed);
  });

  it('halts the next batch when a health gate fails on one host (playbook serial, maxFailPercentage, gate)', async () => {
    const unhealthy = host(3).name; // batch 2
    const health = new Map<string, HealthServer>();
    for (const h of fleet.hosts) {
      const s = await startHealthServer(h.name === unhealthy ? 500 : 200);
      servers.push(s);
      health.set(h.name, s);
    }
    const inv = fleet.writeInventory(join(work, 'gated.ini'), (h) => `root=${h.root} health_port=${health.get(h.name)!.port}`);
    const { r, report } = await runJson(base(inv, gated));
    assert.equal(r.code, 8, r.stderr);
    assert.deepEqual(report.batches, [range(1, 1), range(2, 6), range(7, 20)]);
    assert.equal(statusOf(report, unhealthy), 'failed');
    assert.match(report.hosts[unhealthy]!.error ?? '', /health gate failed/);
    assert.match(report.hosts[unhealthy]!.error ?? '', /500/);
    // The gate ran after the host's tasks: the change was made, then judged.
    assert.equal(readFileSync(join(host(3).root, 'gated.txt'), 'utf8'), `gated on ${unhealthy}\n`);
    assertDone(report, range(1, 1));
    assertDoneOrHalted(report, range(2, 6).filter((n) => n !== unhealthy));
    // every host that finished its tasks was gated; one cut short by the halt was not
    for (const n of range(1, 6)) if (statusOf(report, n) !== 'halted') assert.ok(health.get(n)!.requests >= 1, `no gate request for ${n}`);
    for (const n of range(7, 20)) {
      assert.equal(statusOf(report, n), 'not run', n);
      assert.match(report.hosts[n]!.reason ?? '', /^halted/);
      assert.equal(health.get(n)!.requests, 0, `${n} was gated though its batch never ran`);
    }
  });

  it('marks a host whose sshd is killed mid-run unreachable, with the task it was on; no other host fails', async () => {
    const victim = host(5);
    resetHold(victim);
    try {
      const pending = runJson([...base(), '--forks', String(fleetSize), '-e', `hold_on=${victim.name}`, '-e', 'version=kill']);
      await waitForFile(join(victim.root, 'holding'));
      await victim.kill();
      const { r, report } = await pending;
      assert.equal(r.code, 4, r.stderr);
      assert.equal(statusOf(report, victim.name), 'unreachable');
      assert.match(report.hosts[victim.name]!.error ?? '', /hold/);
      assertDone(report, names.filter((n) => n !== victim.name));
      assert.equal(report.summary.unreachable, 1);
      assert.equal(report.summary.failed, 0);
      assert.deepEqual(readFileSync(join(work, 'run.retry'), 'utf8').trim().split('\n'), [victim.name]);
    } finally {
      await victim.restart();
      resetHold(victim);
    }
  });

  it('fails a task past its timeout with "timed out after N s"; that host stops, the others finish', async () => {
    const slow = host(3);
    const started = Date.now();
    const { r, report } = await runJson([...base(), '-e', `hang_on=${slow.name}`, '-e', 'hang_timeout=2', '-e', 'version=timeout']);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(Date.now() - started < 50_000, 'the hanging task was not cut at its timeout');
    const hr = report.hosts[slow.name]!;
    assert.equal(hr.status, 'failed');
    const last = hr.tasks.at(-1);
    assert.equal(last?.name, 'hang');
    assert.equal(last?.status, 'failed');
    assert.match(last?.error ?? '', /^timed out after 2 s/);
    // The host's later tasks did not run.
    assert.deepEqual(hr.tasks.map((t) => t.name), ['release', 'hold', 'hang']);
    const done = join(slow.root, 'done.txt');
    assert.ok(!existsSync(done) || readFileSync(done, 'utf8') !== 'done timeout\n', 'a task after the timed-out one ran');
    // Stopped on the host too, not only given up on by the controller.
    await waitFor('the hung command to be killed on its host', () => !commandsUnder(slow.pid).some((c) => /sleep 60/.test(c)), 10_000);
    assertDone(report, names.filter((n) => n !== slow.name));
    for (const h of fleet.hosts.filter((x) => x !== slow)) assert.equal(readFileSync(join(h.root, 'done.txt'), 'utf8'), 'done timeout\n');
  });

  it('applies --task-timeout as every task\'s default', async () => {
    const slow = host(2);
    const { r, report } = await runJson([...base(), '--limit', `${host(1).name}:${slow.name}`, '--task-timeout', '5', '-e', `hang_on=${slow.name}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(report.hosts[slow.name]!.tasks.at(-1)?.error ?? '', /^timed out after 5 s/);
    assertDone(report, [host(1).name]);
  });

  it('retries a connection reset during connect (--connect-retries) and gives up after the last retry', async () => {
    const target = host(fleetSize);
    const proxy = await startResetProxy(target.port);
    try {
      const inv = join(work, 'proxy.ini');
      writeFileSync(
        inv,
        `${target.name} ansible_host=127.0.0.1 ansible_port=${proxy.port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath} root=${target.root}\n`,
      );
      const known = join(work, 'proxy_known_hosts');
      writeFileSync(known, `[127.0.0.1]:${proxy.port} ${target.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`);
      const args = ['run', playbook, '-i', inv, '--known-hosts', known, '--retry-file', join(work, 'proxy.retry')];

      proxy.resetNext = 2;
      const ok = await runJson([...args, '--connect-retries', '2']);
      assert.equal(ok.r.code, 0, ok.r.stderr);
      assertDone(ok.report, [target.name]);
      assert.equal(proxy.connections, 3, 'two resets, then the connection that worked');

      proxy.connections = 0;
      proxy.resetNext = 1;
      const gaveUp = await runJson([...args, '--connect-retries', '0']);
      assert.equal(gaveUp.r.code, 4, gaveUp.r.stderr);
      assert.equal(statusOf(gaveUp.report, target.name), 'unreachable');
      assert.match(gaveUp.report.hosts[target.name]!.error ?? '', /ECONNRESET|reset|handshake/i);
      assert.equal(proxy.connections, 1, 'retried though --connect-retries is 0');
    } finally {
      await proxy.close();
    }
  });

  it('retries a refused connect with backoff until the sshd is back', async () => {
    const down = host(6);
    const witness = host(7);
    await down.kill();
    try {
      const pending = runJson([...base(), '--limit', `${down.name}:${witness.name}`, '--connect-retries', '6', '-e', 'version=refused']);
      // Both hosts start together; once the witness has written its first file, the stopped host's first connect
      // (refused at once on loopback) is long past and it is waiting in its backoff (0.25 s, 0.5 s, … 8 s: 15.75 s in all).
      await waitFor('the witness host to write', () => {
        try {
          return readFileSync(join(witness.root, 'release.txt'), 'utf8').includes('release refused');
        } catch {
          return false;
        }
      });
      await down.restart();
      const { r, report } = await pending;
      assert.equal(r.code, 0, r.stderr);
      assertDone(report, [down.name, witness.name]);
      assert.ok(report.hosts[down.name]!.duration_ms >= 250, 'no backoff was waited');
    } finally {
      await down.restart().catch(() => {}); // back up even when the test failed before restarting it
    }
  });

  // Hosts whose play an interruption or a fatal failure cut short, and the retry file of that run (for the test below).
  const cutShort: Array<{ run: string; hosts: string[]; retry: string[] }> = [];
  /** Hosts that ran some tasks but not the playbook's last one, and did not fail. */
  const unfinished = (report: RunReport) =>
    names.filter(
      (n) => statusOf(report, n) === 'halted' || (['ok', 'changed'].includes(statusOf(report, n) ?? '') && report.hosts[n]!.tasks.at(-1)?.name !== 'done'),
    );

  it('halts the rollout at the first failure under --any-errors-fatal: no new task on any host (exit 8)', async () => {
    const failing = host(2);
    const held = host(3); // same batch, still running when host02 fails
    resetHold(failing);
    resetHold(held);
    const inv = fleet.writeInventory(join(work, 'fatal.ini'), (h) => `root=${h.root}${h === failing ? ' fail=yes' : ''}`);
    const retry = join(work, 'fatal.retry');
    const reportPath = join(work, 'fatal.json');
    const cli = startCli([
      ...base(inv, playbook, retry), '--report', reportPath, '--serial', '5', '--any-errors-fatal',
      '-e', `hold_on=${failing.name},${held.name}`, '-e', 'version=fatal',
    ]);
    try {
      // Both held; then the failing host goes on and fails while the other is still on its task.
      await waitForFile(join(held.root, 'holding'));
      await waitForFile(join(failing.root, 'holding'));
      writeFileSync(join(failing.root, 'go'), '');
      await waitFor(`${failing.name} to fail`, () => cli.stdout().includes(`[${failing.name}] FAILED`));
      writeFileSync(join(held.root, 'go'), '');
      assert.equal(await cli.exited, 8, cli.stdout() + cli.stderr());
    } finally {
      await cli.stop();
      resetHold(failing);
      resetHold(held);
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport;
    assert.ok(report.halted, 'the report does not say the rollout halted');
    assert.equal(statusOf(report, failing.name), 'failed');
    assert.equal(report.hosts[failing.name]!.tasks.at(-1)?.name, 'fail where asked');
    // The held host finished the task it was on and started no other.
    assert.deepEqual(report.hosts[held.name]!.tasks.map((t) => t.name), ['release', 'hold']);
    for (const n of range(6, 20)) {
      assert.equal(statusOf(report, n), 'not run', n);
      assert.match(report.hosts[n]!.reason ?? '', /^halted/);
    }
    cutShort.push({ run: '--any-errors-fatal', hosts: unfinished(report), retry: readFileSync(retry, 'utf8').trim().split('\n') });
  });

  it('on SIGINT starts no new task, writes the report, exits 99, leaves no temporary file; a rerun converges', async () => {
    const held = host(1);
    resetHold(held);
    const reportPath = join(work, 'sigint.json');
    const retry = join(work, 'sigint.retry');
    const cli = startCli([
      ...base(inventory, playbook, retry), '--forks', '4', '--report', reportPath, '-e', `hold_on=${held.name}`, '-e', 'version=sigint',
    ]);
    try {
      await waitForFile(join(held.root, 'holding'));
      process.kill(cli.pid, 'SIGINT');
      await waitFor('the CLI to acknowledge SIGINT', () => /SIGINT: no new task starts/.test(cli.stderr()));
      // The running task finishes its step: let the held host's task end.
      writeFileSync(join(held.root, 'go'), '');
      assert.equal(await cli.exited, 99, cli.stdout() + cli.stderr());
    } finally {
      await cli.stop();
      resetHold(held);
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport;
    assert.equal(report.interrupted, true);
    assert.deepEqual(report.hosts[held.name]!.tasks.map((t) => t.name), ['release', 'hold']);
    assert.ok(report.summary.not_run > 0, 'every host ran: the interruption came too late to test anything');
    for (const n of names.filter((x) => statusOf(report, x) === 'not run')) {
      assert.match(report.hosts[n]!.reason ?? '', /^halted/);
    }
    assert.match(cli.stdout(), /PLAY RECAP/, 'no recap printed');
    for (const h of fleet.hosts) assert.deepEqual(findTmpFiles(h.root), [], `temporary files left on ${h.name}`);
    cutShort.push({ run: 'SIGINT', hosts: unfinished(report), retry: readFileSync(retry, 'utf8').trim().split('\n') });

    const rerun = await runJson([...base(), '-e', 'version=sigint']);
    assert.equal(rerun.r.code, 0, rerun.r.stderr);
    assertDone(rerun.report, names);
    const converged = await runJson([...base(), '-e', 'version=sigint']);
    assert.equal(converged.r.code, 0, converged.r.stderr);
    assert.equal(converged.report.summary.changed, 0);
  });

  it('on a second signal (SIGTERM, then SIGINT) exits 99 at once, leaving no temporary or half-written file; a rerun succeeds', async () => {
    const held = host(1);
    resetHold(held);
    const cli = startCli([...base(), '--forks', String(fleetSize), '-e', `hold_on=${held.name}`, '-e', 'version=abort']);
    try {
      await waitForFile(join(held.root, 'holding'));
      process.kill(cli.pid, 'SIGTERM');
      await waitFor('the CLI to acknowledge SIGTERM', () => /SIGTERM: no new task starts/.test(cli.stderr()));
      process.kill(cli.pid, 'SIGINT');
      // At once: the held task is still running on its host (it has not been let go).
      assert.equal(await cli.exited, 99, cli.stdout() + cli.stderr());
      assert.ok(existsSync(join(held.root, 'holding')) && !existsSync(join(held.root, 'go')));
    } finally {
      await cli.stop();
      // Ends the hold loop left running on the host; `go` stays so that it sees it (later tests reset it first).
      writeFileSync(join(held.root, 'go'), '');
    }
    // Writes cut by the dropped connections clean up after themselves on the host (short write, trap): wait for that.
    await waitFor('temporary files to be removed', () => fleet.hosts.every((h) => findTmpFiles(h.root).length === 0), 15_000);
    for (const h of fleet.hosts) {
      const config = readFileSync(join(h.root, 'config.txt'), 'utf8');
      assert.match(config, /^version \w+\n/);
      assert.ok(config.endsWith(bulk) && config.length === config.indexOf('\n') + 1 + bulk.length, `half-written config on ${h.name}`);
    }
    const rerun = await runJson([...base(), '-e', 'version=abort']);
    assert.equal(rerun.r.code, 0, rerun.r.stderr);
  });

  it('lists in the retry file every host whose play was cut short (not only failed, unreachable and not run)', () => {
    assert.equal(cutShort.length, 2, 'needs the --any-errors-fatal and SIGINT tests above');
    const missing: Record<string, string[]> = {};
    for (const c of cutShort) {
      assert.ok(c.hosts.length > 0, `${c.run}: no host was cut short`);
      missing[c.run] = c.hosts.filter((h) => !c.retry.includes(h));
    }
    assert.deepEqual(missing, { '--any-errors-fatal': [], SIGINT: [] }, 'hosts whose later tasks never ran are missing from the retry file');
  });
});
