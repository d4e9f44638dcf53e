// Splitting a command string into argv the way Ansible's command module does (shlex, no shell features).
import { strict as assert } from 'node:assert';
import { splitArgs } from '../../../../src/modules/lib/sys/split-args.js';

describe('splitArgs', () => {
  it('splits on whitespace and honours single and double quotes', () => {
    assert.deepEqual(splitArgs(`touch  "a b" 'c "d"' e\\ f`), ['touch', 'a b', 'c "d"', 'e f']);
  });

  it('keeps shell characters literal: no pipes, variables, globs or comments', () => {
    assert.deepEqual(splitArgs('echo $HOME | wc -l # not a comment *'), ['echo', '$HOME', '|', 'wc', '-l', '#', 'not', 'a', 'comment', '*']);
    assert.deepEqual(splitArgs('curl http://x/#frag'), ['curl', 'http://x/#frag']);
  });

  it('handles empty quoted words, escapes inside double quotes and non-ASCII', () => {
    assert.deepEqual(splitArgs(`printf '' "x\\"y\\\\z\\n" é`), ['printf', '', 'x"y\\z\\n', 'é']);
  });

  it('splits as Python shlex.split, as Ansible command does: in double quotes a backslash stays unless before " or \\', () => {
    // python3 -c 'import shlex; print(shlex.split(r"""printf "%s\n" "a\$b" "c\`d" '"'"'e\f'"'"'"""))'
    assert.deepEqual(splitArgs(String.raw`printf "%s\n" "a\$b" "c\`d" 'e\f'`), ['printf', '%s\\n', 'a\\$b', 'c\\`d', 'e\\f']);
  });

  it('rejects an unclosed quote or a trailing backslash with a clear error', () => {
    assert.throws(() => splitArgs(`echo 'oops`), /no closing quotation/);
    assert.throws(() => splitArgs('echo \\'), /trailing backslash/);
  });
});
