// Service state: systemd and SysV probes read into one shape, and the change planned from it.
import { strict as assert } from 'node:assert';
import { service, planServiceChange, serviceFootprint } from '../../../../src/modules/service.js';
import { planStillHolds } from '../../../../src/runner/footprint.js';
import { actionScript, enableScript, parseSystemdShow, parseSysvState, type ServiceState } from '../../../../src/modules/lib/sys/service-state.js';

const sysv = (running: boolean, enabled: boolean | null): ServiceState => ({
  exists: true, running, enabled, enableTool: enabled === null ? 'none' : 'update-rc.d',
});

describe('service: reading state', () => {
  it('systemctl show: loaded/active/enabled, inactive/disabled, static, not-found', () => {
    assert.deepEqual(parseSystemdShow('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n'),
      { exists: true, running: true, enabled: true, enableTool: 'systemctl' });
    assert.deepEqual(parseSystemdShow('LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n'),
      { exists: true, running: false, enabled: false, enableTool: 'systemctl' });
    assert.equal(parseSystemdShow('LoadState=loaded\nActiveState=failed\nUnitFileState=static\n').enabled, true);
    assert.equal(parseSystemdShow('LoadState=not-found\nActiveState=inactive\nUnitFileState=\n').exists, false);
  });

  it('systemctl show: a masked unit and a unit whose file changed since systemd loaded it', () => {
    const masked = parseSystemdShow('LoadState=masked\nActiveState=inactive\nUnitFileState=masked\nNeedDaemonReload=no\n');
    assert.equal(masked.masked, true);
    assert.equal(masked.enabled, false);
    assert.equal(masked.needsDaemonReload, undefined);
    const stale = parseSystemdShow('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=yes\n');
    assert.equal(stale.needsDaemonReload, true);
    assert.equal(stale.masked, undefined);
  });

  it('SysV: LSB status 0 is running, 1-4 are not; a missing script is not found; enable tool noted', () => {
    assert.deepEqual(parseSysvState('status=0\nenabled=yes tool=update-rc.d\n'), { exists: true, running: true, enabled: true, enableTool: 'update-rc.d' });
    assert.deepEqual(parseSysvState('status=3\nenabled=no tool=chkconfig\n'), { exists: true, running: false, enabled: false, enableTool: 'chkconfig' });
    assert.equal(parseSysvState('status=4\ntool=none\n').running, false);
    assert.deepEqual(parseSysvState('status=missing\ntool=none\n'), { exists: false, running: false, enabled: null, enableTool: 'none' });
  });
});

describe('service: planning', () => {
  it('started/stopped change only when the state differs', () => {
    assert.equal(planServiceChange('sysv', sysv(false, true), { state: 'started' }).summary, 'stopped → started');
    assert.equal(planServiceChange('sysv', sysv(true, true), { state: 'started' }).changed, false);
    assert.equal(planServiceChange('sysv', sysv(true, true), { state: 'stopped' }).summary, 'started → stopped');
    assert.equal(planServiceChange('sysv', sysv(false, true), { state: 'stopped' }).changed, false);
  });

  it('restarted and reloaded always change; a stopped service is started instead', () => {
    assert.deepEqual(planServiceChange('systemd', sysv(true, true), { state: 'restarted' }).data, { init: 'systemd', action: 'restart' });
    assert.deepEqual(planServiceChange('systemd', sysv(false, true), { state: 'reloaded' }).data, { init: 'systemd', action: 'start' });
    assert.equal(planServiceChange('sysv', sysv(true, true), { state: 'reloaded' }).summary, 'reload');
  });

  it('daemonReload: planned only when systemd says the unit file changed; said when there is no systemd', () => {
    const stale: ServiceState = { ...sysv(true, true), enableTool: 'systemctl', needsDaemonReload: true };
    const p = planServiceChange('systemd', stale, { state: 'started', daemonReload: true });
    assert.equal(p.summary, 'daemon-reload');
    assert.deepEqual(p.data, { init: 'systemd', daemonReload: true, action: undefined });
    assert.equal(planServiceChange('systemd', { ...stale, needsDaemonReload: false }, { state: 'started', daemonReload: true }).changed, false);
    assert.match(planServiceChange('sysv', sysv(true, true), { state: 'started', daemonReload: true }).summary ?? '', /daemonReload not done: no systemd/);
  });

  it('enabled: changes through the tool found, or notes that it cannot', () => {
    const p = planServiceChange('sysv', sysv(true, false), { state: 'started', enabled: true });
    assert.equal(p.summary, 'disabled → enabled');
    assert.deepEqual(p.data, { init: 'sysv', action: undefined, enable: { tool: 'update-rc.d', value: true } });
    const none = planServiceChange('sysv', sysv(true, null), { enabled: true });
    assert.equal(none.changed, false);
    assert.match(none.summary ?? '', /enabled not managed/);
    assert.equal(planServiceChange('sysv', sysv(true, true), { state: 'started', enabled: true }).summary, 'running, enabled');
  });

  it('builds commands with the name quoted; SysV output goes through a file, not the pipe', () => {
    assert.equal(actionScript('systemd', 'httpd', 'restart'), 'systemctl restart -- httpd');
    assert.match(actionScript('sysv', 'apache2', 'start'), /service "\$n" start >"\$o" 2>&1 <\/dev\/null/);
    assert.equal(enableScript('update-rc.d', 'apache2', true), 'update-rc.d apache2 defaults >/dev/null && update-rc.d apache2 enable');
    assert.equal(enableScript('chkconfig', 'httpd', false), 'chkconfig httpd off');
    assert.equal(enableScript('systemctl', 'httpd', true), 'systemctl enable -- httpd');
  });

  it('name is the service (as in Ansible): the task is titled after it and params keep it', () => {
    const t = service({ name: 'apache2', state: 'started', enabled: true });
    assert.equal(t.name, 'service apache2 started, enabled');
    assert.equal((t.params as { name: string }).name, 'apache2');
    assert.equal(t.options.name, undefined);
  });

  it('rejects bad parameters when the task is built', () => {
    assert.throws(() => service({ name: 'x; rm -rf /', state: 'started' }), /not a service name/);
    assert.throws(() => service({ name: 'apache2' }), /give state and\/or enabled/);
    assert.throws(() => service({ name: 'apache2', state: 'running' as never }), /state must be one of/);
  });
});

describe('service: footprint', () => {
  const stale = (name: string, path: string) => !planStillHolds(serviceFootprint(name), [[{ path }]]);

  it('a write of its unit file, a drop-in or an enable link in any unit directory makes a plan read ahead stale', () => {
    for (const dir of ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system']) {
      assert.ok(stale('appsrv', `${dir}/appsrv.service`), dir);
      assert.ok(stale('appsrv', `${dir}/appsrv.service.d/override.conf`), dir);
    }
    assert.ok(stale('appsrv', '/etc/systemd/system/multi-user.target.wants/appsrv.service'));
    assert.ok(stale('appsrv', '/etc/init.d/appsrv'));
    assert.ok(stale('appsrv', 'service:appsrv'));
    assert.ok(stale('web.socket', '/lib/systemd/system/web.socket'));
  });
  it('an instance reads its template unit and the template\'s drop-ins', () => {
    assert.ok(stale('getty@tty1', '/lib/systemd/system/getty@.service'));
    assert.ok(stale('getty@tty1.service', '/usr/lib/systemd/system/getty@.service.d/x.conf'));
    assert.ok(stale('getty@tty1', '/lib/systemd/system/getty@tty1.service'));
  });
  it('holds after writes of other services\' vendor units and unrelated files', () => {
    assert.ok(!stale('appsrv', '/lib/systemd/system/other.service'));
    assert.ok(!stale('appsrv', '/etc/appsrv.conf'));
    assert.ok(!stale('appsrv', 'service:other'));
    assert.deepEqual(service({ name: 'appsrv', state: 'started' }).footprint?.writes, [{ path: 'service:appsrv' }]);
  });
});
