// The one check every task's parameters pass when the task is built: user and group names, and NUL bytes.
import assert from 'node:assert/strict';
import { InputError } from '../../../src/errors.js';
import { command, copy, file, sync } from '../../../src/modules/index.js';
import { checkIdentity } from '../../../src/playbook/validate-values.js';

describe('task values checked when the task is built', () => {
  it('takes user and group names and numeric ids as chown does', () => {
    for (const ok of ['www-data', 'root', '33', '0', 'first.last', 'svc_1', 'MACHINE$', 'user@realm', '_apt']) {
      assert.doesNotThrow(() => checkIdentity(ok, 'owner', 'test'), ok);
    }
  });

  it('refuses names that would read as options or carry separators', () => {
    for (const bad of ['--reference=/etc/shadow', '--help', '-1', '-', '', 'a b', 'a:b', 'a/b', 'a\nb', 'a$b', "a'b", 'x'.repeat(257)]) {
      assert.throws(() => file({ path: '/srv/f', state: 'touch', owner: bad }), (err: Error) => err instanceof InputError && /owner must be a user or group name|owner must be/.test(err.message), JSON.stringify(bad));
      assert.throws(() => copy({ dest: '/srv/f', content: 'x', group: bad }), (err: Error) => err instanceof InputError && /group must be/.test(err.message), JSON.stringify(bad));
    }
    assert.throws(() => sync({ src: 'files', dest: '/srv/s', owner: '--from=root' }), /sync task .*: owner must be a user or group name .* \(got "--from=root"\)/);
  });

  it('refuses a NUL byte in a path, an argument, env, chdir or a link source, naming the parameter', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => file({ path: '/srv/a\0b', state: 'touch' }), /: path contains a NUL byte \(at character 6\)/],
      [() => file({ path: '/srv/l', state: 'link', src: '/etc/\0passwd' }), /: src contains a NUL byte/],
      [() => command({ cmd: ['touch', 'a\0b'] }), /: cmd\[1\] contains a NUL byte/],
      [() => command({ cmd: 'echo a\0b' }), /: cmd contains a NUL byte/],
      [() => command({ cmd: ['true'], env: { A: 'x\0y' } }), /: env\.A contains a NUL byte/],
      [() => command({ cmd: ['true'], chdir: '/tmp\0/x' }), /: chdir contains a NUL byte/],
      [() => copy({ dest: '/srv/a\0', content: 'x' }), /: dest contains a NUL byte/],
    ];
    for (const [build, message] of cases) {
      assert.throws(build, (err: Error) => err instanceof InputError && message.test(err.message), String(message));
    }
  });

  it('keeps content binary-exact: NUL in file content and stdin is fine', () => {
    assert.doesNotThrow(() => copy({ dest: '/srv/bin', content: 'a\0b' }));
    assert.doesNotThrow(() => copy({ dest: '/srv/bin', content: Buffer.from([0, 1, 0]) }));
    assert.doesNotThrow(() => command({ cmd: ['cat'], stdin: 'a\0b' }));
  });
});
