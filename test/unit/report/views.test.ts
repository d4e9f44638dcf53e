// The pure parts of the report views: frames kept within the screen, diffs grouped across hosts, JUnit escaping.
import assert from 'node:assert/strict';
import { formatDiffGroup, groupDiffs, hostList } from '../../../src/report/diff-groups.js';
import { formatJunit } from '../../../src/report/junit.js';
import { fitFrame } from '../../../src/report/progress.js';
import type { RunReport } from '../../../src/runner/events.js';

describe('report views', () => {
  it('fitFrame keeps a frame within the screen, dropping the oldest lines first', () => {
    const frame = Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n');
    assert.equal(fitFrame(frame, 10), frame);
    assert.deepEqual(fitFrame(frame, 4).split('\n'), ['… 7 earlier lines', 'line 7', 'line 8', 'line 9']);
  });

  it('groups identical diffs of the same task, and keeps different ones apart', () => {
    const d = (after: string) => [{ path: '/etc/app.conf', before: 'a\n', after }];
    const groups = groupDiffs([
      { host: 'web1', task: 'config', diff: d('b\n') },
      { host: 'web2', task: 'config', diff: d('b\n') },
      { host: 'web3', task: 'config', diff: d('c\n') },
      { host: 'web4', task: 'other', diff: d('b\n') },
      { host: 'web5', task: 'config', diff: d('b\n') },
    ]);
    assert.deepEqual(groups.map((g) => [g.task, g.hosts]), [['config', ['web1', 'web2', 'web5']], ['config', ['web3']], ['other', ['web4']]]);
    assert.equal(hostList(['a', 'b', 'c']), 'a, b, c');
    assert.equal(hostList(['web01', 'web02', 'web03', 'web04']), '4 hosts: web01 … web04');
    assert.match(formatDiffGroup(groups[0]!, false), /^--- \/etc\/app\.conf\tbefore\n\+\+\+ \/etc\/app\.conf\tafter\n@@ -1,1 \+1,1 @@\n-a\n\+b\n  ↳ config on web1, web2, web5$/);
  });

  it('JUnit: escapes markup and drops characters XML cannot hold', () => {
    const report: RunReport = {
      playbook: 'site.ts', check: false, started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:00:01.000Z', duration_ms: 1000, batches: [['h<1>']],
      hosts: { 'h<1>': { status: 'failed', stats: { ok: 0, changed: 0, failed: 1, skipped: 0, left_out: 0 }, duration_ms: 5, tasks: [{ name: 'a "b" & c', module: 'command', status: 'failed', changed: false, error: 'bad\u0001 <thing>', duration_ms: 5 }] } },
      summary: { hosts: 1, ok: 0, changed: 0, failed: 1, skipped: 0, left_out: 0, unreachable: 0, not_run: 0, halted: 0 },
    };
    const xml = formatJunit(report, 'play');
    assert.match(xml, /<testcase name="\[h&lt;1&gt;\] play: a &quot;b&quot; &amp; c" classname="h&lt;1&gt;" time="0\.005">/);
    assert.match(xml, /<failure message="bad\ufffd &lt;thing&gt;" type="failure">/);
    assert.match(xml, /<testsuite name="site" .*failures="1" skipped="0" tests="1"/);
  });
});
