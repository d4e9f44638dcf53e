// A playbook file exporting several plays, through the CLI against sshd: run in order, one report and recap, and a
// host that failed in a play takes no part in the later ones (as ansible-playbook does).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/two-plays.ts');

describe('a playbook of several plays (3 sshd hosts)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(3);
    fleet.writeInventory(join(fleet.dir, 'hosts.ini'), (h) => `root=${h.root} ${h.name === 'host02' ? 'fail_here=yes' : ''}`);
  });
  after(async () => fleet?.stop());
  const run = (...args: string[]) =>
    runCli(['run', playbook, '-i', join(fleet.dir, 'hosts.ini'), '--known-hosts', fleet.knownHostsPath, '--retry-file', join(fleet.dir, 'r'), ...args]);

  it('runs the plays in order, drops a failed host from the later ones, and reports them as one run', async () => {
    const r = await run('--json');
    assert.equal(r.code, 2, r.stderr);
    const report = parseReport(r.stdout);
    assert.deepEqual(report.plays, [
      { name: 'prepare', hosts: ['host01', 'host02', 'host03'] },
      { name: 'deploy', hosts: ['host01', 'host03'] },
    ]);
    assert.equal(readFileSync(join(fleet.hosts[0]!.root, 'app/marker'), 'utf8'), 'deployed host01\n', "the second play's own vars");
    assert.equal(existsSync(join(fleet.hosts[1]!.root, 'app/marker')), false, 'host02 failed in the first play');
    assert.equal(report.hosts.host02?.status, 'failed');
    assert.deepEqual(report.hosts.host01?.tasks.map((t) => [t.id, t.status]), [['task 1', 'changed'], ['task 2', 'skipped'], ['play 2 task 1', 'changed']]);
    assert.deepEqual(report.summary, { hosts: 3, ok: 0, changed: 5, failed: 1, skipped: 2, left_out: 0, unreachable: 0, not_run: 0, halted: 0 });
    assert.equal(readFileSync(join(fleet.dir, 'r'), 'utf8'), 'host02\n');
    // The plain progress names both plays.
    const text = await run();
    assert.match(text.stdout, /^PLAY prepare on 3 hosts$/m);
    assert.match(text.stdout, /^PLAY deploy on 2 hosts$/m);
  });

  it('lists the hosts of each play without contacting them', async () => {
    const r = await run('--list-hosts');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /play: prepare \(hosts: all\)\n  hosts \(3\):/);
    assert.match(r.stdout, /play: deploy \(hosts: all\)\n  hosts \(3\):/);
  });
});
