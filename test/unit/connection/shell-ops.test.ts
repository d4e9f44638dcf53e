import assert from 'node:assert/strict';
import { prepareCommand } from '../../../src/connection/shell-ops.js';

describe('prepareCommand', () => {
  it('runs the script as it is without become', () => {
    assert.deepEqual(prepareCommand(['id', '-u'], {}, { become: false, loginUser: 'deploy' }, false), { script: 'id -u', stdin: undefined });
  });
  it('uses sudo -n to become another user, the script quoted whole', () => {
    const p = prepareCommand("echo 'hi'", {}, { become: true, loginUser: 'deploy' }, false);
    assert.equal(p.script, `sudo -n -H -u root -- sh -c 'echo '"'"'hi'"'"''`);
  });
  it('needs no sudo when the login user already is the become user', () => {
    assert.equal(prepareCommand('id -u', {}, { become: true, loginUser: 'root' }, false).script, 'id -u');
    assert.match(prepareCommand('id -u', {}, { become: true, becomeUser: 'www-data', loginUser: 'root' }, false).script, /^sudo -n -H -u www-data /);
  });
  it('sends the password on stdin, before the command’s own input, never on the command line', () => {
    const p = prepareCommand('cat', { stdin: 'data' }, { become: true, becomePassword: 's3cret', loginUser: 'deploy' }, true);
    assert.match(p.script, /^sudo -k -S -p '' -H -u root -- sh -c cat$/);
    assert.doesNotMatch(p.script, /s3cret/);
    assert.equal(p.stdin?.toString(), 's3cret\ndata');
  });
});
