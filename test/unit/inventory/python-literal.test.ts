// INI value typing must match Python's ast.literal_eval, which Ansible applies.

import { deepStrictEqual, strictEqual } from 'node:assert';
import { evalPythonLiteral, parseIniValue } from '../../../src/inventory/python-literal.js';

describe('parseIniValue (ast.literal_eval typing of INI values)', function () {
  const cases: [string, unknown][] = [
    ['22', 22],
    ['-3', -3],
    ['+5', 5],
    ['-(1)', -1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1_000', 1000],
    ['0x1F', 31],
    ['0o17', 15],
    ['0b101', 5],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'quoted'", 'quoted'],
    ['"it\'s"', "it's"],
    ["'a' 'b'", 'ab'],
    ["'\\n'", '\n'],
    ["'\\x41\\101\\u00e9'", 'AAé'],
    ["r'\\n'", '\\n'],
    ["b'bytes'", 'bytes'],
    ["u'text'", 'text'],
    ["'''triple'''", 'triple'],
    ['[1, 2]', [1, 2]],
    ['[1, 2,]', [1, 2]],
    ['[]', []],
    ['(1, 2)', [1, 2]],
    ['(1,)', [1]],
    ['()', []],
    ['1,', [1]],
    ['1, 2', [1, 2]],
    ["{'a': 1}", { a: 1 }],
    ["{'a': [1, {'b': (2, None)}]}", { a: [1, { b: [2, null] }] }],
    ["{1: 'x', True: 2, None: 3}", { '1': 'x', true: 2, null: 3 }],
    ['1 # a comment', 1],
    ['  7', 7],
  ];
  for (const [text, value] of cases) {
    it(`${text} → ${JSON.stringify(value)}`, function () {
      deepStrictEqual(parseIniValue(text), value);
    });
  }

  const strings = [
    'abc', 'yes', 'true', 'none', '01', '0777', '', 'a b', '1 2', '[1, 2', '1+2', 'not True', '-True', '--1',
    '1abc', '1.5.3', "f'x'", "'a' b'b'", "'unterminated", '# only a comment', '{a:1}', '1j', "'a\\N{DASH}'",
  ];
  for (const text of strings) {
    it(`${JSON.stringify(text)} stays the string`, function () {
      strictEqual(parseIniValue(text), text);
      strictEqual(evalPythonLiteral(text), undefined);
    });
  }

  it('keeps unknown escapes as written, as Python does', function () {
    strictEqual(parseIniValue("'\\q'"), '\\q');
  });
});
