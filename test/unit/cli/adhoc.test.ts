// Ad-hoc arguments read as `ansible -a` reads them, and results printed as Ansible's minimal callback prints them.
import assert from 'node:assert/strict';
import { formatAdhocResult, parseModuleArgs, splitWords } from '../../../src/cli/adhoc.js';
import { file, packages } from '../../../src/modules/index.js';
import { callWithTextParams } from '../../../src/modules/lib/schema.js';
import type { TaskResult } from '../../../src/playbook/types.js';

const result = (over: Partial<TaskResult>): TaskResult => ({ name: 't', module: 'm', status: 'ok', changed: false, duration_ms: 1, ...over });

describe('ad-hoc arguments and output', () => {
  it('splits words as a shell does, keeping each raw', () => {
    assert.deepEqual(splitWords(`a "b c" d='e f'\\ g`), [
      { raw: 'a', value: 'a' },
      { raw: '"b c"', value: 'b c' },
      { raw: "d='e f'\\ g", value: 'd=e f g' },
    ]);
    assert.throws(() => splitWords('"open'), /unbalanced "/);
  });

  it('takes key=value words, a JSON object, and a command module\'s free text with its own keys', () => {
    assert.deepEqual(parseModuleArgs('copy', `dest=/etc/motd content='hi there'`), { dest: '/etc/motd', content: 'hi there' });
    assert.deepEqual(parseModuleArgs('copy', '{"dest": "/x", "mode": "0644"}'), { dest: '/x', mode: '0644' });
    assert.deepEqual(parseModuleArgs('shell', `echo "a  b" | wc -c chdir=/tmp`), { chdir: '/tmp', cmd: 'echo "a  b" | wc -c' });
    assert.deepEqual(parseModuleArgs('command', 'ls -l x=1'), { cmd: 'ls -l x=1' });
    assert.throws(() => parseModuleArgs('copy', 'dest=/x oops'), /the copy module takes key=value arguments/);
    assert.throws(() => parseModuleArgs('shell', ''), /the shell module needs a command/);
    assert.throws(() => parseModuleArgs('copy', '{"a": '), /not a JSON object/);
  });

  it('types text values as the module\'s schema takes them: booleans, numbers, lists; a mode stays text', () => {
    const t = callWithTextParams((p) => file(p as never), { path: '/x', state: 'directory', recurse: 'yes', mode: '0750' });
    assert.deepEqual(t.params, { path: '/x', state: 'directory', recurse: true, mode: '0750' });
    const pk = callWithTextParams((p) => packages(p as never), { present: 'postgresql,nginx', updateCache: 'true' });
    assert.deepEqual(pk.params, { present: ['postgresql', 'nginx'], updateCache: true });
    assert.throws(() => callWithTextParams((p) => file(p as never), { path: '/x', recurse: 'maybe' }), /recurse must be a boolean/);
  });

  it('prints results as ansible does', () => {
    assert.equal(formatAdhocResult('h1', 'shell', result({ status: 'changed', changed: true, rc: 0, stdout: 'hi\n', stderr: 'err\n' })), 'h1 | CHANGED | rc=0 >>\nhierr');
    assert.equal(formatAdhocResult('h1', 'command', result({ status: 'failed', rc: 1, stdout: '', error: 'x' })), 'h1 | FAILED | rc=1 >>\nnon-zero return code');
    assert.equal(formatAdhocResult('h1', 'debug', result({ summary: 'hello' })), 'h1 | SUCCESS => {\n    "msg": "hello"\n}');
    assert.equal(formatAdhocResult('h1', 'file', result({ status: 'failed', error: 'no such dir' })), 'h1 | FAILED! => {\n    "changed": false,\n    "msg": "no such dir"\n}');
    assert.equal(formatAdhocResult('h1', 'copy', result({ status: 'skipped', summary: 'why' })), 'h1 | SKIPPED');
  });
});
