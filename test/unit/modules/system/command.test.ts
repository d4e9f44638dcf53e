// command/shell task values: names, argv from strings, and parameter errors.
import { strict as assert } from 'node:assert';
import { command, shell } from '../../../../src/modules/command.js';

describe('command and shell: building', () => {
  it('names the task after the command, shortened', () => {
    assert.equal(command({ cmd: ['echo', 'a b'] }).name, "echo 'a b'");
    assert.equal(command({ cmd: 'touch /tmp/x' }).name, 'touch /tmp/x');
    assert.equal(shell({ cmd: `echo ${'y'.repeat(80)}\nmore` }).name.length, 60);
    assert.equal(command({ cmd: 'true', name: 'mine' }).name, 'mine');
  });

  it('rejects an empty command or an unusable guard', () => {
    assert.throws(() => command({ cmd: '' }), /cmd is empty/);
    assert.throws(() => command({ cmd: [] }), /cmd is empty/);
    assert.throws(() => command({ cmd: `echo 'x` }), /no closing quotation/);
    assert.throws(() => shell({ cmd: '  ' }), /cmd is empty/);
    assert.throws(() => command({ cmd: 'true', creates: '' }), /creates must be a non-empty path/);
    assert.throws(() => shell({ cmd: 'true', env: { 'A-B': 'x' } }), /"A-B" is not an environment variable name/);
  });
});
