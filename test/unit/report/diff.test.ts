import assert from 'node:assert/strict';
import { applyPatch } from 'diff';
import { formatDiff } from '../../../src/report/diff.js';

describe('formatDiff', () => {
  it('renders a unified diff of before → after that applies back', () => {
    const before = 'a\nb\nc\n';
    const after = 'a\nB\nc\nd\n';
    const out = formatDiff({ path: '/etc/x.conf', before, after });
    assert.match(out, /^--- \/etc\/x\.conf\tbefore\n\+\+\+ \/etc\/x\.conf\tafter\n@@ -1,3 \+1,4 @@\n a\n-b\n\+B\n c\n\+d\n$/);
    assert.equal(applyPatch(before, out), after);
  });
  it('uses /dev/null for a created file, and the note when there is one', () => {
    assert.match(formatDiff({ path: '/n', before: null, after: 'x\n' }), /^--- \/dev\/null/);
    assert.equal(formatDiff({ path: '/b', before: null, after: null, note: 'binary differs' }), '/b: binary differs\n');
  });
  it('colours added and removed lines only when asked', () => {
    const d = { path: '/p', before: 'old\n', after: 'new\n' };
    assert.doesNotMatch(formatDiff(d), /\u001b\[/);
    assert.match(formatDiff(d, true), /\u001b\[31m-old\u001b\[0m/);
    assert.match(formatDiff(d, true), /\u001b\[32m\+new\u001b\[0m/);
  });
});
