// The one check every task's parameters pass when the task is built: user and group names, and NUL bytes.
import assert from 'node:assert/strict';
import { InputError } from '../../../src/errors.js';
import { command, copy, file, sync } from '../../../src/modules/index.js';
import { type PathStat, checkFollow } from '../../../src/modules/lib/stat.js';
import { checkIdentity } from '../../../src/playbook/validate-values.js';
import { terminalSafe } from '../../../src/report/terminal-safe.js';

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

describe('checkFollow: whether a followed link may be trusted', () => {
  const st = (over: Partial<PathStat>): PathStat => ({ type: 'file', mode: 0o600, uid: 0, owner: 'root', gid: 0, group: 'root', size: 1, sha256: null, ...over });
  it('acts on the target of a link the become user owns, or the target owner owns', () => {
    assert.equal(checkFollow(st({ realPath: '/srv/real', linkUid: 0, selfUid: 0, uid: 1000 }), '/srv/l'), '/srv/real');
    assert.equal(checkFollow(st({ realPath: '/srv/real', linkUid: 1000, selfUid: 0, uid: 1000 }), '/srv/l'), '/srv/real');
    assert.equal(checkFollow(st({}), '/srv/plain'), '/srv/plain');
  });
  it('refuses a link someone else planted to a file they do not own', () => {
    assert.throws(
      () => checkFollow(st({ realPath: '/root/victim', linkUid: 1000, selfUid: 0, uid: 0 }), '/srv/l'),
      /\/srv\/l is a symbolic link owned by uid 1000 to \/root\/victim owned by root \(uid 0\); refusing to follow it/,
    );
    assert.throws(() => checkFollow(st({ realPath: '/x', selfUid: 0, uid: 0 }), '/srv/l'), /refusing to follow it/);
  });
});

describe('terminalSafe', () => {
  it('shows control characters as escapes and keeps newlines, tabs and text', () => {
    assert.equal(terminalSafe('a\u001b[2Jb\u0007c\rd\te\nf é✓\u009b'), 'a\\x1b[2Jb\\x07c\\rd\te\nf é✓\\x9b');
  });
});
