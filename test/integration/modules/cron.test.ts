// cron through a real sshd host, on cron files (a user's crontab needs cron installed: test/lab/cron.test.ts):
// check predicts, apply does exactly that, a rerun is ok, and a converged check costs what lineinfile's does.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { cron } from '../../../src/modules/cron.js';
import { lineinfile } from '../../../src/modules/lineinfile.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';
import { checkApplyTrips } from '../../helpers/round-trips.js';

describe('cron through sshd (cron files)', function () {
  this.timeout(60_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root });

  /** As a run: check, then apply what it planned. */
  async function run(t: Task) {
    const ctx = ctxFor(false);
    const plan = await t.check(ctx);
    const applied = plan.changed ? await t.apply(ctx, plan) : undefined;
    return { plan, applied };
  }

  before(async () => {
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
    root = join(fleet.hosts[0]!.root, 'cron');
    mkdirSync(root, { recursive: true });
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
  });

  it('--check predicts the job with a diff and changes nothing; the run writes it (0644); a rerun is ok', async () => {
    const path = join(root, 'app');
    const t = cron({ name: 'cleanup', job: '/srv/app/bin/cleanup', minute: 15, hour: '3', user: 'app', cronFile: path });
    const planned = await t.check(ctxFor(true));
    assert.equal(planned.changed, true);
    assert.equal(planned.summary, 'job cleanup added');
    assert.deepEqual(planned.diff?.map((d) => [d.path, d.before, d.after]), [[path, null, '#Ansible: cleanup\n15 3 * * * app /srv/app/bin/cleanup\n']]);
    assert.equal(existsSync(path), false, '--check wrote the file');
    assert.equal((await run(t)).plan.changed, true);
    assert.equal(readFileSync(path, 'utf8'), '#Ansible: cleanup\n15 3 * * * app /srv/app/bin/cleanup\n');
    assert.equal(statSync(path).mode & 0o7777, 0o644);
    assert.equal((await run(t)).plan.changed, false);
  });

  it('manages a file Ansible wrote the same: an env line first, a changed job in place, the header kept', async () => {
    const path = join(root, 'ansible-written');
    writeFileSync(path, '#Ansible: nightly\n0 1 * * * root /usr/bin/nightly\n#Ansible: other\n@reboot root /bin/true\n');
    await run(cron({ name: 'PATH', env: true, value: '/usr/local/bin:/usr/bin:/bin', cronFile: path, user: 'root' }));
    await run(cron({ name: 'nightly', job: '/usr/bin/nightly --quiet', hour: '1', minute: '0', user: 'root', cronFile: path }));
    await run(cron({ name: 'disabled', job: 'x', user: 'root', cronFile: path, disabled: true, specialTime: 'hourly' }));
    assert.equal(readFileSync(path, 'utf8'), 'PATH="/usr/local/bin:/usr/bin:/bin"\n#Ansible: nightly\n0 1 * * * root /usr/bin/nightly --quiet\n#Ansible: other\n@reboot root /bin/true\n#Ansible: disabled\n#@hourly root x\n');
  });

  it('removing the last job of a cron file removes the file, as Ansible does; backup keeps the old crontab in /tmp', async () => {
    const path = join(root, 'last');
    await run(cron({ name: 'a', job: 'a', user: 'root', cronFile: path }));
    await run(cron({ name: 'b', job: 'b', user: 'root', cronFile: path }));
    const removeA = await run(cron({ name: 'a', state: 'absent', cronFile: path, backup: true }));
    assert.equal(readFileSync(path, 'utf8'), '#Ansible: b\n* * * * * root b\n');
    const backup = /\(backup (\/tmp\/crontab\w+)\)$/.exec(removeA.applied?.summary ?? '')?.[1];
    assert.ok(backup, removeA.applied?.summary);
    assert.equal(readFileSync(backup, 'utf8'), '#Ansible: a\n* * * * * root a\n#Ansible: b\n* * * * * root b\n');
    rmSync(backup);
    const last = cron({ name: 'b', state: 'absent', cronFile: path });
    const planned = await last.check(ctxFor(true));
    assert.deepEqual([planned.changed, planned.diff?.[0]?.after], [true, null]);
    await run(last);
    assert.equal(existsSync(path), false);
    assert.equal((await run(last)).plan.changed, false);
  });

  it('a relative cronFile lands in /etc/cron.d; the parameter errors are cron.py\'s, before any host', () => {
    assert.deepEqual(cron({ name: 'x', job: 'y', user: 'root', cronFile: 'app' }).footprint?.writes, [{ path: '/etc/cron.d/app' }]);
    assert.throws(() => cron({ name: 'x', job: 'y', cronFile: 'app' }), /To use cronFile=\.\.\. parameter you must specify user=\.\.\. as well/);
    assert.throws(() => cron({ name: 'x', job: 'y', minute: '5', specialTime: 'reboot' }), /You must specify time and date fields or specialTime/);
    assert.throws(() => cron({ name: 'x' }), /You must specify 'job'/);
    assert.throws(() => cron({ name: 'x', job: 'y', insertAfter: 'A' }), /valid only with env: true/);
    assert.throws(() => cron({ name: 'A B', env: true, job: 'y' }), /Invalid name for environment variable/);
    assert.throws(() => cron({ name: 'x', job: 'y', user: 'root', cronFile: '/etc/crontab' }), /Will not manage \/etc\/crontab/);
    // @ts-expect-error: not one of cron.py's special times
    assert.throws(() => cron({ name: 'x', job: 'y', specialTime: '@reboot' }), /specialTime must be one of 'reboot'/);
  });

  it('a converged check costs the round trips lineinfile\'s does (one), in the batched read; a change one more', async () => {
    const trips = (task: Task) => checkApplyTrips(task, ctxFor, conn);
    writeFileSync(join(root, 'lif'), 'a\n');
    const theirs = await trips(lineinfile({ path: join(root, 'lif'), line: 'b' }));
    assert.deepEqual(await trips(cron({ name: 'rt', job: 'true', user: 'root', cronFile: join(root, 'rt') })), theirs);
    assert.deepEqual(theirs, [1, 1, 1, 0]);
  });
});
