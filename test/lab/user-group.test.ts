// The user and group modules for real on a lab host: a system account created, converged, changed and removed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { startLab, type Lab } from './lab.js';

const playbook = join(repoRoot, 'test/lab/playbooks/accounts.ts');

describe('user and group modules (lab host)', function () {
  this.timeout(300_000);
  let lab: Lab;

  before(async function () {
    lab = await startLab(1);
  });

  after(async function () {
    if (lab) await lab.down();
  });

  async function run(vars: Record<string, unknown>, ...extra: string[]): Promise<{ code: number | null; host: HostReport }> {
    const r = await runCli(['run', playbook, '-i', lab.inventory, '--known-hosts', lab.knownHosts, '--json', '-e', JSON.stringify(vars), ...extra]);
    const host = parseReport(r.stdout).hosts['h1'];
    assert.ok(host, r.stderr);
    return { code: r.code, host };
  }
  const summaries = (h: HostReport) => h.tasks.map((t) => `${t.module}: ${t.changed ? 'changed' : 'ok'}: ${t.summary ?? ''}`);

  it('--check predicts the account and changes nothing; the run makes it as planned; a rerun changes nothing', async function () {
    const check = await run({}, '--check');
    assert.deepEqual(summaries(check.host), [
      'group: changed: absent → present (system group)',
      'user: changed: absent → present (system user, group labapp, home /srv/labapp)',
    ]);
    assert.equal((await lab.ssh(1, 'getent passwd labapp')).code, 2);
    const first = await run({});
    assert.equal(first.code, 0, first.host.error);
    assert.equal(first.host.stats.changed, 2);
    const [passwd, groups] = (await lab.sshOk(1, 'getent passwd labapp; id -Gn labapp')).trim().split('\n');
    const [, , uid, , gecos, home, shell] = (passwd ?? '').split(':');
    assert.ok(Number(uid) < 1000, `a system user has a uid below 1000 (got ${uid})`);
    assert.deepEqual([gecos, home, shell, groups], ['lab application', '/srv/labapp', '/usr/sbin/nologin', 'labapp']);
    assert.equal((await lab.ssh(1, 'test -e /srv/labapp')).code, 1, 'createHome: false made a home');
    const again = await run({});
    assert.equal(again.host.stats.changed, 0, summaries(again.host).join('\n'));
  });

  it('changes the shell and the supplementary groups in one usermod, then is converged', async function () {
    const r = await run({ acct_shell: '/bin/sh', acct_groups: ['adm'] });
    assert.deepEqual(summaries(r.host)[1], 'user: changed: groups +adm, shell /usr/sbin/nologin → /bin/sh');
    assert.equal((await lab.sshOk(1, 'id -Gn labapp; getent passwd labapp | cut -d: -f7')).trim(), 'labapp adm\n/bin/sh');
    assert.equal((await run({ acct_shell: '/bin/sh', acct_groups: ['adm'] })).host.stats.changed, 0);
  });

  it('removes the user, and its group goes with it (userdel does that with USERGROUPS_ENAB); a rerun changes nothing', async function () {
    const r = await run({ acct_state: 'absent' });
    // the group's check sees what userdel left: its plan, made before the user went, is not reused
    assert.deepEqual(summaries(r.host), ['user: changed: present → absent', 'group: ok: absent']);
    assert.equal((await lab.ssh(1, 'getent passwd labapp || getent group labapp')).code, 2);
    assert.equal((await run({ acct_state: 'absent' })).host.stats.changed, 0);
  });

  it("agrees with Ansible's user and group modules: what one makes, the other finds converged", async function () {
    const play = join(lab.inventory, '..', 'accounts-ansible.yml');
    writeFileSync(
      play,
      `- hosts: lab
  gather_facts: false
  tasks:
    - ansible.builtin.group: { name: labapp, system: true }
    - ansible.builtin.user: { name: labapp, system: true, group: labapp, home: /srv/labapp, create_home: false, shell: /usr/sbin/nologin, comment: lab application }
`,
    );
    const ansible = (...extra: string[]) => {
      const r = spawnSync('ansible-playbook', ['-i', lab.inventory, play, ...extra], { encoding: 'utf8', env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True' } });
      assert.equal(r.status, 0, `ansible-playbook: ${r.stdout}${r.stderr}`);
      return /h1\s*:\s*ok=\d+\s+changed=(\d+)/.exec(r.stdout)?.[1];
    };
    try {
      assert.equal(ansible(), '2', 'Ansible made the group and the user');
      const afterAnsible = await run({});
      assert.equal(afterAnsible.host.stats.changed, 0, summaries(afterAnsible.host).join('\n'));
      await run({ acct_state: 'absent' });
      assert.equal((await run({})).host.stats.changed, 2);
      assert.equal(ansible('--check'), '0', 'Ansible finds what provision made converged');
    } finally {
      rmSync(play, { force: true });
    }
  });
});
