// The service module's systemd path for real: start, stop, restart, reload, enable, disable, daemonReload and masked units on a lab host booted with systemd.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { RunReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { startLab, type Lab } from './lab.js';

const playbook = join(repoRoot, 'test/lab/playbooks/service.ts');

// A long-running unit whose reloads leave a trace, so a reload can be told from a restart. In /lib, as a
// package installs it: `systemctl mask` refuses a unit whose file is in /etc/systemd/system.
const unit = (env: string) => `[Unit]
Description=provision lab test service
[Service]
Environment=LABSVC=${env}
ExecStart=/bin/sleep infinity
ExecReload=/bin/sh -c 'echo reload >> /run/labsvc.reloads'
[Install]
WantedBy=multi-user.target
`;

describe('service module under systemd (lab host)', function () {
  this.timeout(300_000);
  let lab: Lab;

  before(async function () {
    lab = await startLab(1);
    await lab.sshOk(1, `cat > /lib/systemd/system/labsvc.service <<'UNIT'\n${unit('one')}UNIT\nsystemctl daemon-reload`);
  });

  after(async function () {
    if (lab) await lab.down();
  });

  async function run(vars: Record<string, unknown>, ...extra: string[]): Promise<{ code: number | null; report: RunReport }> {
    const r = await runCli(['run', playbook, '-i', lab.inventory, '--known-hosts', lab.knownHosts, '--json', '-e', JSON.stringify(vars), ...extra]);
    return { code: r.code, report: parseReport(r.stdout) };
  }

  async function task(vars: Record<string, unknown>, ...extra: string[]) {
    const { code, report } = await run(vars, ...extra);
    const t = report.hosts['h1']?.tasks[0];
    assert.ok(t, `no task result: ${JSON.stringify(report)}`);
    return { code, t };
  }

  const state = async () => (await lab.sshOk(1, 'systemctl is-active labsvc; systemctl is-enabled labsvc; systemctl show -p MainPID --value labsvc')).trim().split('\n');

  it('starts and enables (--check first changes nothing), then a rerun is converged', async function () {
    const check = await task({ svc_state: 'started', svc_enabled: true }, '--check');
    assert.equal(check.t.summary, 'stopped → started, disabled → enabled');
    assert.deepEqual((await state()).slice(0, 2), ['inactive', 'disabled']);
    const first = await task({ svc_state: 'started', svc_enabled: true });
    assert.equal(first.code, 0);
    assert.equal(first.t.changed, true);
    assert.deepEqual((await state()).slice(0, 2), ['active', 'enabled']);
    const again = await task({ svc_state: 'started', svc_enabled: true });
    assert.equal(again.t.changed, false);
    assert.equal(again.t.summary, 'running, enabled');
  });

  it('reloaded runs ExecReload in the same process; restarted gives a new main process', async function () {
    const [, , pid] = await state();
    const reload = await task({ svc_state: 'reloaded' });
    assert.equal(reload.t.summary, 'reload');
    assert.equal((await lab.sshOk(1, 'wc -l < /run/labsvc.reloads')).trim(), '1');
    assert.equal((await state())[2], pid, 'a reload must not replace the main process');
    const restart = await task({ svc_state: 'restarted' });
    assert.equal(restart.t.summary, 'restart');
    const [active, , newPid] = await state();
    assert.equal(active, 'active');
    assert.notEqual(newPid, pid);
  });

  it('an enabled service is running again after the host reboots, with no run', async function () {
    await lab.restart(1);
    assert.equal((await state())[0], 'active');
  });

  it('daemonReload: a changed unit file is loaded (and only then), then the service restarts with it', async function () {
    await lab.sshOk(1, `cat > /lib/systemd/system/labsvc.service <<'UNIT'\n${unit('two')}UNIT`);
    assert.equal((await lab.sshOk(1, 'systemctl show -p NeedDaemonReload --value labsvc')).trim(), 'yes');
    const r = await task({ svc_state: 'restarted', svc_daemon_reload: true });
    assert.equal(r.t.summary, 'daemon-reload, restart');
    assert.equal((await lab.sshOk(1, 'systemctl show -p NeedDaemonReload --value labsvc')).trim(), 'no');
    const env = await lab.sshOk(1, 'tr "\\0" "\\n" < /proc/$(systemctl show -p MainPID --value labsvc)/environ | grep LABSVC');
    assert.equal(env.trim(), 'LABSVC=two');
    const again = await task({ svc_state: 'started', svc_daemon_reload: true });
    assert.equal(again.t.changed, false);
  });

  it('stops and disables, then a rerun is converged', async function () {
    const r = await task({ svc_state: 'stopped', svc_enabled: false });
    assert.equal(r.t.summary, 'started → stopped, enabled → disabled');
    assert.deepEqual((await state()).slice(0, 2), ['inactive', 'disabled']);
    assert.equal((await task({ svc_state: 'stopped', svc_enabled: false })).t.changed, false);
  });

  it('a masked unit: starting it fails before anything runs, naming the host and how to unmask; stopped is converged', async function () {
    await lab.sshOk(1, 'systemctl mask labsvc');
    for (const extra of [['--check'], []]) {
      const r = await task({ svc_state: 'started' }, ...extra);
      assert.equal(r.code, 2);
      assert.equal(r.t.status, 'failed');
      assert.match(r.t.error ?? '', /labsvc is masked on h1: .*systemctl unmask labsvc/);
    }
    assert.equal((await state())[0], 'inactive');
    assert.equal((await task({ svc_state: 'stopped' })).t.changed, false);
    await lab.sshOk(1, 'systemctl unmask labsvc');
  });
});
