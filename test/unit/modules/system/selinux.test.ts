// SELinux planning: running mode and /etc/selinux/config from the wanted state.
import { strict as assert } from 'node:assert';
import { planSelinux, selinux, setConfigMode } from '../../../../src/modules/selinux.js';

const config = '# comment SELINUX=enforcing\nSELINUX=enforcing\nSELINUXTYPE=targeted\n';

describe('selinux', () => {
  it('setConfigMode rewrites only the SELINUX= line, adds it when missing, creates the file when absent', () => {
    assert.equal(setConfigMode(config, 'permissive'), '# comment SELINUX=enforcing\nSELINUX=permissive\nSELINUXTYPE=targeted\n');
    assert.equal(setConfigMode('SELINUXTYPE=targeted', 'disabled'), 'SELINUXTYPE=targeted\nSELINUX=disabled\n');
    assert.equal(setConfigMode(null, 'permissive'), 'SELINUX=permissive\n');
  });

  it('enforcing → permissive: setenforce 0 and the config, with a diff', () => {
    const p = planSelinux('enforcing', config, 'permissive');
    assert.equal(p.changed, true);
    assert.deepEqual(p.data, { setenforce: '0', config: setConfigMode(config, 'permissive') });
    assert.equal(p.summary, 'runtime enforcing → permissive, /etc/selinux/config SELINUX=enforcing → permissive');
    assert.equal(p.diff?.[0]?.path, '/etc/selinux/config');
  });

  it('converged: no change', () => {
    const p = planSelinux('permissive', setConfigMode(config, 'permissive'), 'permissive');
    assert.equal(p.changed, false);
    assert.equal(p.summary, 'already permissive');
  });

  it('disabled: permissive now, disabled after reboot, and says so', () => {
    const p = planSelinux('enforcing', config, 'disabled');
    assert.deepEqual(p.data, { setenforce: '0', config: setConfigMode(config, 'disabled') });
    assert.match(p.summary ?? '', /after a reboot/);
  });

  it('a kernel running without SELinux: only the config can change, and a reboot is needed', () => {
    const p = planSelinux('disabled', 'SELINUX=disabled\n', 'enforcing');
    assert.deepEqual(p.data, { config: 'SELINUX=enforcing\n' });
    assert.match(p.summary ?? '', /takes effect after a reboot/);
  });

  it('rejects an unknown state', () => {
    assert.throws(() => selinux({ state: 'off' as never }), /state must be one of 'enforcing', 'permissive', 'disabled'/);
  });
});
