// Mode parsing and resolution, checked against GNU chmod's own results.
import assert from 'node:assert/strict';
import { chmodArg, formatMode, resolveMode, validateMode, type FileMode } from '../../../../src/modules/lib/mode.js';
import { InputError } from '../../../../src/errors.js';

describe('validateMode', () => {
  it('accepts numeric strings and symbolic modes with who', () => {
    for (const m of ['0770', '770', '2775', 'u=rwx,g=rx,o=', 'a+X', 'g+s', 'u=rw,go=r', 'g=u']) validateMode(m, 't');
  });
  it('rejects invalid modes with a clear message', () => {
    for (const m of ['999', '0o770', '77', '07777x', '+x', 'u=rwz', '', 'rwxr-xr-x']) {
      assert.throws(() => validateMode(m, 'file /x'), (e: Error) => e instanceof InputError && /file \/x: invalid mode/.test(e.message), m);
    }
    assert.throws(() => validateMode(770, 'file /x'), /must be a string such as '0644'/);
  });
  it('makes 999 and numbers type errors', () => {
    // @ts-expect-error: '999' is not an octal mode
    const bad: FileMode = '999';
    // @ts-expect-error: numbers are not modes
    const num: FileMode = 0o770;
    const ok: FileMode[] = ['0770', '644', 'u=rwx,g=rx'];
    assert.ok(bad && num && ok);
  });
});

describe('resolveMode', () => {
  it('treats numeric modes as absolute', () => {
    assert.equal(resolveMode('0770', 0o2755, true), 0o770);
    assert.equal(resolveMode('2770', 0o755, true), 0o2770);
    assert.equal(resolveMode('644', 0o777, false), 0o644);
  });
  // Expected values are what GNU chmod produced from the same starting mode.
  const cases: Array<[FileMode, number, boolean, number]> = [
    ['g=rx', 0o2775, true, 0o2755],
    ['a=rx', 0o2775, true, 0o2555],
    ['g=rx', 0o6775, false, 0o4755],
    ['o=rx', 0o3777, true, 0o2775],
    ['u=rwx,g=rx,o=', 0o644, false, 0o750],
    ['a+X', 0o644, false, 0o644],
    ['a+X', 0o744, false, 0o755],
    ['a+X', 0o600, true, 0o711],
    ['go-w', 0o777, false, 0o755],
    ['g+s', 0o755, true, 0o2755],
    ['o+t', 0o777, true, 0o1777],
    ['g=u', 0o640, false, 0o660],
  ];
  for (const [mode, from, dir, want] of cases) {
    it(`${mode} on ${formatMode(from)}${dir ? ' (dir)' : ''} → ${formatMode(want)}`, () => {
      assert.equal(formatMode(resolveMode(mode, from, dir)), formatMode(want));
    });
  }
  it('formats chmod arguments with five digits so setgid on directories is cleared too', () => {
    assert.equal(chmodArg(0o770), '00770');
    assert.equal(chmodArg(0o2770), '02770');
  });
});
