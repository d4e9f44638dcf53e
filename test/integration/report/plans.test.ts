// Saved plans through the CLI against real sshd hosts: apply does exactly what the plan showed, and refuses per host a
// task whose host state no longer matches; an edited plan, a changed playbook and other hosts are refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

describe('saved plans: run --check --plan-out, then provision apply (3 sshd hosts)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let playbook: string;
  let inventory: string;
  const plan = () => join(fleet.dir, 'plan.json');
  const connection = () => ['--known-hosts', fleet.knownHostsPath, '--retry-file', join(fleet.dir, 'r.retry')];
  const makePlan = (...extra: string[]) => runCli(['run', playbook, '-i', inventory, ...connection(), '--check', '--plan-out', plan(), ...extra], { cwd: fleet.dir });
  const apply = (...extra: string[]) => runCli(['apply', plan(), ...connection(), '--json', ...extra], { cwd: fleet.dir });
  const conf = (i: number) => join(fleet.hosts[i]!.root, 'etc/app.conf');
  const reset = () => {
    for (const h of fleet.hosts) for (const f of ['etc', 'motd']) rmSync(join(h.root, f), { recursive: true, force: true });
  };

  before(async () => {
    fleet = await startFleet(3);
    // The playbook and inventory live beside each other, as in a user's repository; plans name them relatively.
    playbook = 'site.ts';
    copyFileSync(join(repoRoot, 'test/fixtures/playbooks/plan.ts'), join(fleet.dir, playbook));
    inventory = 'hosts.ini';
    fleet.writeInventory(join(fleet.dir, inventory), (h) => `root=${h.root}`);
  });
  after(async () => {
    await fleet?.stop();
  });

  it('applies exactly the planned changes, and a later run finds nothing to do', async () => {
    reset();
    const made = await makePlan();
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /plan written to .*plan\.json; apply exactly it with: provision apply/);
    assert.equal(existsSync(conf(0)), false, '--check changed nothing');
    const saved = JSON.parse(readFileSync(plan(), 'utf8')) as { hosts: Record<string, Array<{ id: string; changed: boolean }>> };
    assert.deepEqual(Object.keys(saved.hosts), ['host01', 'host02', 'host03']);
    assert.deepEqual(saved.hosts.host01?.map((t) => [t.id, t.changed]), [['task 1', true], ['task 2', true], ['task 3', true], ['handler config changed', true]]);

    const r = await apply();
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r.stdout);
    assert.equal(report.summary.changed, 12);
    assert.equal(readFileSync(conf(2), 'utf8'), 'port 8080\n');
    const again = await runCli(['run', playbook, '-i', inventory, ...connection(), '--json'], { cwd: fleet.dir });
    assert.equal(parseReport(again.stdout).summary.changed, 0);
  });

  it('refuses, on the host alone, a task whose state changed since the plan, showing the new diff', async () => {
    reset();
    assert.equal((await makePlan()).code, 0);
    // Someone edits host02 after the plan: its motd now holds another line, so the planned diff is stale.
    writeFileSync(join(fleet.hosts[1]!.root, 'motd'), 'hello\n');
    const r = await apply();
    assert.equal(r.code, 2, r.stderr);
    const report = parseReport(r.stdout);
    assert.equal(report.hosts.host01?.status, 'changed');
    assert.equal(report.hosts.host03?.status, 'changed');
    const refused = report.hosts.host02?.tasks.find((t) => t.status === 'failed');
    assert.equal(refused?.name, 'motd line');
    assert.match(refused?.error ?? '', /the host changed since the plan/);
    assert.equal(refused?.diff?.[0]?.before, 'hello\n', 'the refusal carries the diff it would apply now');
    assert.equal(readFileSync(join(fleet.hosts[1]!.root, 'motd'), 'utf8'), 'hello\n', 'the refused change was not made');
    // the config changed before the refusal: the handler it notified still ran, as with Ansible's force_handlers
    assert.equal(readFileSync(conf(1), 'utf8'), 'port 8080\n');
    assert.equal(report.hosts.host02?.tasks.at(-1)?.id, 'handler config changed');
    assert.equal(readFileSync(join(fleet.hosts[1]!.root, 'etc/taken-up'), 'utf8'), 'taken up\n');
  });

  it('refuses a change the plan did not show', async () => {
    reset();
    // Converged first: the plan shows no change at all.
    assert.equal((await runCli(['run', playbook, '-i', inventory, ...connection()], { cwd: fleet.dir })).code, 0);
    assert.equal((await makePlan()).code, 0);
    writeFileSync(conf(0), 'port 1\n');
    const r = await apply();
    assert.equal(r.code, 2);
    const refused = parseReport(r.stdout).hosts.host01?.tasks.find((t) => t.status === 'failed');
    assert.match(refused?.error ?? '', /the plan showed no change here/);
    assert.equal(readFileSync(conf(0), 'utf8'), 'port 1\n');
  });

  /** Edits the saved plan as an attacker would, then signs it again (the checksum is an unkeyed SHA-256). */
  const resign = (edit: (p: { options: { inventory: string[] }; hosts: Record<string, Array<Record<string, unknown>>> }) => void) => {
    const p = JSON.parse(readFileSync(plan(), 'utf8')) as Record<string, unknown> & Parameters<typeof edit>[0];
    edit(p);
    delete p.checksum;
    p.checksum = createHash('sha256').update(JSON.stringify(p)).digest('hex');
    writeFileSync(plan(), JSON.stringify(p));
  };

  it('refuses, before connecting, a re-signed plan whose diff no longer is what its fingerprint says the check found', async () => {
    reset();
    assert.equal((await makePlan()).code, 0);
    // The reviewer is shown "port 9999"; the fingerprint (of "port 8080") is kept so that the fresh check matches.
    resign((p) => {
      const task = p.hosts.host01?.find((t) => t.name === 'app config') as { diff: Array<{ after: string }>; summary: string };
      task.diff[0]!.after = 'port 9999\n';
    });
    const r = await apply();
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /plan\.json: host host01, task 2 "app config": its summary or diff is not what its fingerprint says/);
    assert.equal(r.stdout, '', 'no run, no report');
    assert.equal(existsSync(conf(0)), false);

    // A fingerprint dropped to make a task unchecked is refused too: no planned change comes before the first task.
    assert.equal((await makePlan()).code, 0);
    resign((p) => {
      p.hosts.host02![0]!.fingerprint = null;
    });
    const dropped = await apply();
    assert.equal(dropped.code, 1, dropped.stderr);
    assert.match(dropped.stderr, /host host02, task 1 .*: no fingerprint, but no planned change comes before it/);
  });

  it('shows the plan\'s options and inventory before connecting, and runs an executable inventory only when the user names it', async () => {
    reset();
    assert.equal((await makePlan('--limit', 'host01,host02,host03')).code, 0);
    const plain = await apply();
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /provision: applying .*plan\.json, made .* for site\.ts\n  inventory: hosts\.ini\n  limit: host01,host02,host03\n  hosts: host01 \(4 to change\), host02 \(4 to change\), host03 \(4 to change\)/);

    // The plan now names a script printing the same hosts: apply from the plan alone must not run it.
    reset();
    assert.equal((await makePlan()).code, 0);
    const list = (await runCli(['inventory', '-i', inventory, '--list'], { cwd: fleet.dir })).stdout;
    const ran = join(fleet.dir, 'script-ran');
    writeFileSync(join(fleet.dir, 'dyn.sh'), `#!/bin/sh\ntouch ${ran}\ncat <<'EOF'\n${list}\nEOF\n`);
    chmodSync(join(fleet.dir, 'dyn.sh'), 0o755);
    resign((p) => {
      p.options.inventory = ['dyn.sh'];
    });
    const refused = await apply();
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /dyn\.sh: an executable inventory, not run: it is named only by the saved plan .*plan\.json; to run it, name it yourself: provision apply .*plan\.json -i dyn\.sh/);
    assert.equal(existsSync(ran), false, 'the script named by the plan did not run');

    const other = await apply('-i', inventory);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /apply takes -i from the plan: give it only to confirm the plan's own \(-i dyn\.sh\)/);

    const named = await apply('-i', 'dyn.sh');
    assert.equal(named.code, 0, named.stderr);
    assert.equal(existsSync(ran), true, 'named by the user, it runs');
    assert.equal(readFileSync(conf(1), 'utf8'), 'port 8080\n');
  });

  it('keeps vault-decrypted values out of the plan (********), binds them by the fingerprint, writes the plan 0600', async () => {
    reset();
    const dir = join(fleet.dir, 'vaulted');
    mkdirSync(join(dir, 'group_vars'), { recursive: true });
    fleet.writeInventory(join(dir, 'hosts.ini'), (h) => `root=${h.root}`);
    writeFileSync(join(dir, 'pw'), 'vault-pw\n');
    writeFileSync(join(dir, 'group_vars', 'all.yml'), "port: 'p4ss-vault-77'\n");
    execFileSync('ansible-vault', ['encrypt', '--vault-password-file', join(dir, 'pw'), join(dir, 'group_vars', 'all.yml')], { stdio: 'ignore' });
    const vault = ['--vault-password-file', join(dir, 'pw')];
    const made = await runCli(['run', playbook, '-i', 'vaulted/hosts.ini', ...connection(), ...vault, '--check', '--diff', '--plan-out', plan()], { cwd: fleet.dir });
    assert.equal(made.code, 0, made.stderr);
    const text = readFileSync(plan(), 'utf8');
    assert.doesNotMatch(text, /p4ss-vault-77/);
    assert.match(text, /port \*{8}\\n/);
    assert.equal(statSync(plan()).mode & 0o777, 0o600);

    const r = await apply(...vault);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(conf(0), 'utf8'), 'port p4ss-vault-77\n', 'the real value is applied');

    // The fingerprint binds the hidden value: another secret shown as the same ******** is refused on the host.
    reset();
    assert.equal((await runCli(['run', playbook, '-i', 'vaulted/hosts.ini', ...connection(), ...vault, '--check', '--plan-out', plan()], { cwd: fleet.dir })).code, 0);
    writeFileSync(join(dir, 'group_vars', 'all.yml'), "port: 'other-secret-88'\n");
    execFileSync('ansible-vault', ['encrypt', '--vault-password-file', join(dir, 'pw'), join(dir, 'group_vars', 'all.yml')], { stdio: 'ignore' });
    const changed = await apply(...vault);
    assert.equal(changed.code, 2, changed.stderr);
    assert.match(parseReport(changed.stdout).hosts.host01?.tasks.find((t) => t.status === 'failed')?.error ?? '', /the host changed since the plan/);
    assert.equal(existsSync(conf(0)), false);
  });

  it('refuses an edited plan, a changed playbook, other hosts, and options that belong to the plan', async () => {
    reset();
    assert.equal((await makePlan()).code, 0);
    const text = readFileSync(plan(), 'utf8');

    writeFileSync(plan(), text.replace('port 8080', 'port 9999'));
    let r = await apply();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /plan\.json: the plan was edited after it was written/);

    writeFileSync(plan(), text);
    const pb = join(fleet.dir, playbook);
    const source = readFileSync(pb, 'utf8');
    writeFileSync(pb, source.replace("mode: '0755'", "mode: '0750'"));
    r = await apply();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the playbook site\.ts changed since the plan was made/);
    writeFileSync(pb, source);

    const inv = readFileSync(join(fleet.dir, inventory), 'utf8');
    writeFileSync(join(fleet.dir, inventory), inv.split('\n').filter((l) => !l.startsWith('host03')).join('\n'));
    r = await apply();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /plan\.json: the plan was made for other hosts; not selected now: host03/);
    writeFileSync(join(fleet.dir, inventory), inv);

    r = await apply('-e', 'port=1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /apply takes -e from the plan/);
    assert.equal(existsSync(conf(0)), false, 'nothing was applied by a refused plan');

    const misuse = await runCli(['run', playbook, '-i', inventory, ...connection(), '--plan-out', plan()], { cwd: fleet.dir });
    assert.equal(misuse.code, 1);
    assert.match(misuse.stderr, /--plan-out .* use it with --check/);
  });
});
