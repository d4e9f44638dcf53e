// One report of several plays: a host's tasks of every play in order, its worst status, counts summed.
import assert from 'node:assert/strict';
import type { HostReport, RunReport } from '../../../src/runner/events.js';
import { mergeReports, summarize } from '../../../src/runner/merge-reports.js';

const host = (status: HostReport['status'], tasks: string[], extra: Partial<HostReport> = {}): HostReport => ({
  status,
  stats: { ok: 0, changed: tasks.length, failed: status === 'failed' ? 1 : 0, skipped: 0, left_out: 0 },
  tasks: tasks.map((name) => ({ name, module: 'file', status: 'changed', changed: true, duration_ms: 1 })),
  duration_ms: 10,
  ...extra,
});
const report = (started: string, finished: string, hosts: Record<string, HostReport>, extra: Partial<RunReport> = {}): RunReport => ({
  playbook: 'site.ts', check: false, started, finished, duration_ms: 0, batches: [Object.keys(hosts)], hosts, summary: summarize(Object.values(hosts)), ...extra,
});

describe('mergeReports', () => {
  it('joins each host across plays, keeps its worst status, and names the plays with their hosts', () => {
    const merged = mergeReports(
      [
        report('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:02.000Z', { a: host('changed', ['a1']), b: host('failed', ['b1'], { error: 'boom' }) }),
        report('2026-01-01T00:00:02.000Z', '2026-01-01T00:00:05.000Z', { a: host('ok', []), c: host('changed', ['c1']) }, { halted: 'max fail' }),
      ],
      ['one', 'two'],
    );
    assert.deepEqual(Object.keys(merged.hosts), ['a', 'b', 'c']);
    assert.equal(merged.hosts.a?.status, 'changed');
    assert.equal(merged.hosts.a?.duration_ms, 20);
    assert.deepEqual(merged.hosts.a?.tasks.map((t) => t.name), ['a1']);
    assert.equal(merged.hosts.b?.error, 'boom');
    assert.deepEqual(merged.plays, [{ name: 'one', hosts: ['a', 'b'] }, { name: 'two', hosts: ['a', 'c'] }]);
    assert.deepEqual(merged.batches, [['a', 'b'], ['a', 'c']]);
    assert.equal(merged.duration_ms, 5000);
    assert.equal(merged.halted, 'max fail');
    assert.deepEqual(merged.summary, { hosts: 3, ok: 0, changed: 3, failed: 1, skipped: 0, left_out: 0, unreachable: 0, not_run: 0, halted: 0 });
  });
});
