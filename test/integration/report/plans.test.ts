// Saved plans through the CLI against real sshd hosts: apply does exactly what the plan showed, and refuses per host a
// task whose host state no longer matches; an edited plan, a changed playbook and other hosts are refused.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
