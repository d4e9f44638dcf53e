// The runner end to end through the CLI, against real sshd processes on loopback.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/basic.ts');

describe('provision run (5 sshd hosts on loopback)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let work: string;
  let inventory: string;

  before(async () => {
    fleet = await startFleet(5);
    work = mkdtempSync(join(tmpdir(), 'provision-run-'));
    inventory = join(work, 'hosts.ini');
    const lines = ['[web]'];
    for (const h of fleet.hosts) {
      lines.push(
        `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath} root=${h.root}`,
      );
    }
    writeFileSync(inventory, `${lines.join('\n')}\n`);
  });
  after(async () => {
    await fleet?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const base = () => ['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(work, 'basic.retry')];

  it('runs on every host in parallel, then converges to changed=0', async () => {
    const first = await runCli([...base(), '--report', join(work, 'first.json')]);
    assert.equal(first.code, 0, first.stderr);
    const report = parseReport(first.stdout);
    assert.deepEqual(Object.keys(report.hosts), fleet.hosts.map((h) => h.name));
    for (const h of fleet.hosts) {
      const hr = report.hosts[h.name];
      assert.ok(hr);
      assert.equal(hr.status, 'changed');
      assert.deepEqual(hr.stats, { ok: 0, changed: 4, failed: 0, skipped: 1, left_out: 0 });
      assert.equal(readFileSync(join(h.root, 'app/marker'), 'utf8'), `${h.name}\n`);
    }
    // The report file holds the same report as stdout.
    assert.deepEqual(JSON.parse(readFileSync(join(work, 'first.json'), 'utf8')).summary, report.summary);
    assert.deepEqual(report.summary, { hosts: 5, ok: 0, changed: 20, failed: 0, skipped: 5, left_out: 0, unreachable: 0, not_run: 0, halted: 0 });

    const second = await runCli(base());
    assert.equal(second.code, 0, second.stderr);
    const again = parseReport(second.stdout);
    assert.equal(again.summary.changed, 0);
    for (const hr of Object.values(again.hosts)) assert.equal(hr.status, 'ok');
  });

  it('reports the JSON schema the README documents', async () => {
    const r = await runCli(base());
    const report = parseReport(r.stdout);
    assert.equal(report.playbook, playbook);
    assert.equal(report.check, false);
    assert.ok(!Number.isNaN(Date.parse(report.started)) && !Number.isNaN(Date.parse(report.finished)));
    assert.equal(typeof report.duration_ms, 'number');
    const host = report.hosts[fleet.hosts[0]!.name]!;
    assert.deepEqual(Object.keys(host.stats).sort(), ['changed', 'failed', 'left_out', 'ok', 'skipped']);
    for (const t of host.tasks) {
      assert.equal(typeof t.name, 'string');
      assert.equal(typeof t.module, 'string');
      assert.ok(['ok', 'changed', 'skipped', 'failed'].includes(t.status));
      assert.equal(typeof t.changed, 'boolean');
      assert.equal(typeof t.duration_ms, 'number');
    }
    assert.deepEqual(Object.keys(report.summary).sort(), ['changed', 'failed', 'halted', 'hosts', 'left_out', 'not_run', 'ok', 'skipped', 'unreachable']);
  });

  it('restricts the run with --limit', async () => {
    const [a, , c] = fleet.hosts;
    const r = await runCli([...base(), '--limit', `${a!.name}:${c!.name}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(parseReport(r.stdout).hosts), [a!.name, c!.name]);
  });

  it('exits 2 when a task fails on one host, the others finishing, and writes a retry file', async () => {
    const target = fleet.hosts[1]!.name;
    const retry = join(work, 'basic.retry');
    const failing = await runCli([...base(), '--retry-file', retry, '-e', 'fail_here=yes', '--limit', target]);
    assert.equal(failing.code, 2, failing.stderr);
    const report = parseReport(failing.stdout);
    const hr = report.hosts[target]!;
    assert.equal(hr.status, 'failed');
    const failed = hr.tasks.find((t) => t.status === 'failed');
    assert.equal(failed?.name, 'fail where asked');
    assert.match(failed?.error ?? '', /exit code 1/);
    assert.equal(report.retry_file, retry);
    assert.equal(readFileSync(retry, 'utf8'), `${target}\n`);
  });

  it('marks a host with no sshd unreachable and finishes the others (exit 4)', async () => {
    const inv = join(work, 'with-dead.ini');
    const dead = await freePort();
    writeFileSync(
      inv,
      `${readFileSync(inventory, 'utf8')}ghost ansible_host=127.0.0.1 ansible_port=${dead} ansible_user=root root=${work}/ghost\n`,
    );
    const r = await runCli(['run', playbook, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(work, 'r')]);
    assert.equal(r.code, 4, r.stderr);
    const report = parseReport(r.stdout);
    assert.equal(report.hosts.ghost?.status, 'unreachable');
    assert.match(report.hosts.ghost?.error ?? '', /refused|ECONNREFUSED/i);
    for (const h of fleet.hosts) assert.ok(['ok', 'changed'].includes(report.hosts[h.name]!.status));
    assert.equal(report.summary.unreachable, 1);
    assert.ok(!existsSync(`${work}/ghost`));
  });

  it('refuses an unknown host key, says how to accept it, and accepts it with the flag', async () => {
    const known = join(work, 'known_hosts_empty');
    writeFileSync(known, '');
    const h = fleet.hosts[0]!;
    const args = ['run', playbook, '-i', inventory, '--limit', h.name, '--known-hosts', known, '--json', '--retry-file', join(work, 'r')];
    const refused = await runCli(args, { env: { HOME: work } });
    assert.equal(refused.code, 4);
    assert.match(parseReport(refused.stdout).hosts[h.name]!.error ?? '', /--accept-new-host-keys/);
    const accepted = await runCli([...args, '--accept-new-host-keys'], { env: { HOME: work } });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(readFileSync(known, 'utf8'), new RegExp(`\\[127\\.0\\.0\\.1\\]:${h.port} `));
    const again = await runCli(args, { env: { HOME: work } });
    assert.equal(again.code, 0, again.stderr);
  });

  it('reads a private key path starting with ~/ from the home directory, as ssh does', async () => {
    const h = fleet.hosts[0]!;
    mkdirSync(join(work, 'home', '.ssh'), { recursive: true });
    copyFileSync(fleet.clientKeyPath, join(work, 'home', '.ssh', 'fleet_key'));
    const inv = join(work, 'tilde.ini');
    writeFileSync(inv, `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=~/.ssh/fleet_key root=${h.root}\n`);
    const r = await runCli(['run', playbook, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(work, 'r')], {
      env: { HOME: join(work, 'home') },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('always refuses a changed host key', async () => {
    const h = fleet.hosts[0]!;
    const other = fleet.hosts[1]!;
    const known = join(work, 'known_hosts_changed');
    // Record the other host's key under this host's address: the key this host shows is then "changed".
    writeFileSync(known, `[127.0.0.1]:${h.port} ${other.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`);
    const r = await runCli(
      ['run', playbook, '-i', inventory, '--limit', h.name, '--known-hosts', known, '--accept-new-host-keys', '--json', '--retry-file', join(work, 'r')],
      { env: { HOME: work } },
    );
    assert.equal(r.code, 4);
    assert.match(parseReport(r.stdout).hosts[h.name]!.error ?? '', /CHANGED/);
  });

  it('exits 1 with file and line for a malformed inventory', async () => {
    const bad = join(work, 'bad.ini');
    writeFileSync(bad, '[web]\nhost1\n[broken\n');
    const r = await runCli(['run', playbook, '-i', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.ini:3/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/); // no stack trace
  });

  it('exits 1 with a clear message for a playbook that does not load or export one', async () => {
    const none = await runCli(['run', join(repoRoot, 'test/fixtures/playbooks/not-a-playbook.ts'), '-i', inventory]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /not-a-playbook\.ts: must default-export a playbook/);
    const syntax = await runCli(['run', join(repoRoot, 'test/fixtures/playbooks/syntax-error.ts'), '-i', inventory]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /syntax-error\.ts:2:\d+/);
    const missing = await runCli(['run', 'nope.ts', '-i', inventory]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.ts: no such playbook file/);
  });

  it('plans with --check without changing anything', async () => {
    const fresh = await startFleet(1);
    try {
      const h = fresh.hosts[0]!;
      const inv = join(work, 'fresh.ini');
      writeFileSync(inv, `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${fresh.clientKeyPath} root=${h.root}\n`);
      const r = await runCli(['run', playbook, '-i', inv, '--known-hosts', fresh.knownHostsPath, '--check', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r.stdout);
      assert.equal(report.check, true);
      assert.equal(report.hosts[h.name]!.stats.changed, 4);
      assert.ok(!existsSync(join(h.root, 'app')), 'check mode created files');
    } finally {
      await fresh.stop();
    }
  });
});
