// INI host lines are split like Python's shlex; quoting and comments must match.

import { deepStrictEqual, throws } from 'node:assert';
import { shlexSplit } from '../../../src/inventory/shlex.js';

describe('shlexSplit (Python shlex.split with comments)', function () {
  const cases: [string, string[]][] = [
    ['host a=1 b=2', ['host', 'a=1', 'b=2']],
    ['host a="x y"', ['host', 'a=x y']],
    ["host a='x \"y\"'", ['host', 'a=x "y"']],
    ['host a="t\\"q"', ['host', 'a=t"q']],
    ['host a="\\n"', ['host', 'a=\\n']],
    ['host a=x\\ y', ['host', 'a=x y']],
    ['host # comment', ['host']],
    ['host a=b#c', ['host', 'a=b']],
    ['host a="#not a comment"', ['host', 'a=#not a comment']],
    ['host a=b;c', ['host', 'a=b;c']],
    ['host a=""', ['host', 'a=']],
    ['host ""', ['host', '']],
    ['  host\tb=1  ', ['host', 'b=1']],
  ];
  for (const [line, tokens] of cases) {
    it(JSON.stringify(line), function () {
      deepStrictEqual(shlexSplit(line), tokens);
    });
  }

  it('refuses an unclosed quote', function () {
    throws(() => shlexSplit('host a="open'), /No closing quotation/);
  });

  it('refuses a trailing backslash', function () {
    throws(() => shlexSplit('host a\\'), /No escaped character/);
  });
});
