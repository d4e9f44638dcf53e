// editLines against Ansible's lineinfile: each fixture case's `after` was produced by ansible-core 2.14's lineinfile.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { editLines, expandMatch, planLineEdit, pyRegex, readLines, type EditLinesParams } from '../../../../src/modules/lib/edit-lines.js';

interface Case {
  before: string;
  p: EditLinesParams;
  after: string;
  /** Where we knowingly differ from Ansible, and why. */
  deviation?: string;
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/lineinfile-cases.json', import.meta.url), 'utf8')) as Case[];

describe('editLines (lineinfile)', () => {
  for (const c of cases) {
    it(`${JSON.stringify(c.p)} on ${JSON.stringify(c.before)}${c.deviation ? ` (deviation: ${c.deviation})` : ''}`, () => {
      assert.equal(editLines(c.before, c.p), c.after);
    });
  }

  it('is idempotent on every Ansible case that did not use backrefs to rewrite', () => {
    for (const c of cases) {
      if (c.p.backrefs || c.p.state === 'absent') continue;
      assert.equal(editLines(c.after, c.p), c.after, JSON.stringify(c));
    }
  });

  it("reports Ansible's messages", () => {
    const msg = (before: string, p: EditLinesParams) => planLineEdit(Buffer.from(before), p).msg;
    assert.equal(msg('a\n', { line: 'b' }), 'line added');
    assert.equal(msg('x=1\n', { line: 'x=2', regexp: '^x=' }), 'line replaced');
    assert.equal(msg('a\nb\na\n', { line: 'a', state: 'absent' }), '2 line(s) removed');
    assert.equal(msg('a\n', { line: 'a' }), '');
  });

  it('keeps non-UTF-8 bytes exactly', () => {
    const before = Buffer.from([0x61, 0xff, 0x0a, 0x62, 0x0a]);
    const r = planLineEdit(before, { line: 'c' });
    assert.deepEqual([...r.after], [0x61, 0xff, 0x0a, 0x62, 0x0a, 0x63, 0x0a]);
  });
});

describe('readLines', () => {
  it('splits as Python readlines()', () => {
    assert.deepEqual(readLines(''), []);
    assert.deepEqual(readLines('a\nb'), ['a\n', 'b']);
    assert.deepEqual(readLines('a\r\n\n'), ['a\r\n', '\n']);
  });
});

describe('pyRegex and expandMatch', () => {
  it('translates named groups and inline flags', () => {
    const m = pyRegex('(?i)^(?P<k>port)=(?P=k)?(\\d+)').exec('PORT=80');
    assert.ok(m);
    assert.equal(expandMatch(m, 'Listen \\g<k>:\\2 \\g<2>\\\\\\t'), 'Listen PORT:80 80\\\t');
  });
  it('gives unmatched groups as empty strings and rejects unknown letter escapes', () => {
    const m = /^(a)(b)?/.exec('a');
    assert.ok(m);
    assert.equal(expandMatch(m, '[\\1][\\2]\\.'), '[a][]\\.');
    assert.throws(() => expandMatch(m, '\\q'), /bad escape/);
  });
});
