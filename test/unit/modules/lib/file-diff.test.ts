// The diffs copy/template/lineinfile show: text before/after, notes for binary and huge files, unified format.
import assert from 'node:assert/strict';
import { buildFileDiff, isText, maxDiffBytes } from '../../../../src/modules/lib/file-diff.js';

describe('buildFileDiff', () => {
  it('keeps text before and after', () => {
    assert.deepEqual(buildFileDiff('/f', Buffer.from('a\n'), Buffer.from('b\n')), { path: '/f', before: 'a\n', after: 'b\n' });
    assert.deepEqual(buildFileDiff('/f', null, Buffer.from('new\n')), { path: '/f', before: null, after: 'new\n' });
  });
  it('notes binary content', () => {
    assert.equal(buildFileDiff('/f', Buffer.from([0, 1]), Buffer.from('x')).note, 'binary differs');
    assert.equal(buildFileDiff('/f', null, Buffer.from([0xff, 0xfe])).note, 'binary file created (2 bytes)');
  });
  it('gives sizes only above the limit, or when the old bytes were not fetched', () => {
    const big = Buffer.alloc(maxDiffBytes + 1, 'a');
    assert.equal(buildFileDiff('/f', Buffer.from('x'), big).note, `size 1 → ${maxDiffBytes + 1} bytes`);
    assert.equal(buildFileDiff('/f', null, Buffer.from('x'), 300000).note, 'size 300000 → 1 bytes');
  });
  it('tells text from binary', () => {
    assert.ok(isText(Buffer.from('héllo ✓\n')));
    assert.ok(!isText(Buffer.from([0x68, 0xc3])));
  });
});
