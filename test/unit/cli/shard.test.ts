import assert from 'node:assert/strict';
import { cutShards, mergeShardReports, shardManifest } from '../../../src/cli/shard.js';
import type { HostReport, HostStatus, RunReport } from '../../../src/runner/events.js';

const host = (status: HostStatus): HostReport => ({ status, stats: { ok: 1, changed: 0, failed: status === 'failed' ? 1 : 0, skipped: 0, left_out: 0 }, tasks: [], duration_ms: 5 });
const report = (hosts: Record<string, HostStatus>, extra: Partial<RunReport> = {}): RunReport => ({
  playbook: 'site.ts',
  check: false,
  started: '2026-01-01T00:00:00.000Z',
  finished: '2026-01-01T00:00:01.000Z',
  duration_ms: 1000,
  batches: [Object.keys(hosts)],
  hosts: Object.fromEntries(Object.entries(hosts).map(([n, s]) => [n, host(s)])),
  summary: { hosts: 0, ok: 0, changed: 0, failed: 0, skipped: 0, left_out: 0, unreachable: 0, not_run: 0, halted: 0 },
  ...extra,
});

describe('shards without an engine (provision shard / merge)', () => {
  it('cuts a batch into near-equal shards in order, never an empty one', () => {
    assert.deepEqual(cutShards(['a', 'b', 'c', 'd', 'e'], 2), [['a', 'b', 'c'], ['d', 'e']]);
    assert.deepEqual(cutShards(['a', 'b'], 5), [['a'], ['b']]);
    assert.deepEqual(cutShards(['a', 'b', 'c', 'd', 'e', 'f', 'g'], 3), [['a', 'b', 'c'], ['d', 'e'], ['f', 'g']]);
  });

  it('writes each shard a host list and a command that runs it as one batch, quoting names for the shell', () => {
    const m = shardManifest({ playbook: 'site.ts', inventory: ['inv dir/hosts.ini'], anyErrorsFatal: false, maxFailPercentage: 10, batches: [['h1'], ['h2', 'h3']], shards: 2, out: 'out' });
    assert.equal(m.batches.length, 2);
    assert.deepEqual(m.batches[1]!.shards.map((s) => s.hosts), [['h2'], ['h3']]);
    assert.equal(m.batches[1]!.shards[1]!.limit_file, 'batch-2-shard-2.hosts');
    assert.equal(m.batches[1]!.shards[1]!.command, "provision run site.ts -i 'inv dir/hosts.ini' --limit @out/batch-2-shard-2.hosts --serial 0 --report out/batch-2-shard-2.report.json");
    assert.equal(m.max_fail_percentage, 10);
  });

  it('decides max-fail on the whole batch: two shards each under the line, the batch over it', () => {
    const a = report({ h1: 'failed', h2: 'ok' });
    const b = report({ h3: 'failed', h4: 'ok' });
    const under = mergeShardReports([{ file: 'a.json', report: a }, { file: 'b.json', report: b }], { maxFailPercentage: 50, anyErrorsFatal: false });
    assert.equal(under.halted, undefined);
    assert.equal(under.summary.failed, 2);
    const over = mergeShardReports([{ file: 'a.json', report: a }, { file: 'b.json', report: b }], { maxFailPercentage: 49, anyErrorsFatal: false });
    assert.equal(over.halted, '2 of 4 hosts of batch 1 failed, over the maximum of 49%');
    assert.deepEqual(over.shards.map((s) => [s.report, s.outcome]), [['a.json', 'failed'], ['b.json', 'failed']]);
  });

  it('counts a batch host no report has as unreachable (shard lost), and a batch no report has as not run', () => {
    const merged = mergeShardReports([{ file: 'a.json', report: report({ h1: 'ok', h2: 'ok' }) }], { maxFailPercentage: 30, anyErrorsFatal: false, batches: [['h1', 'h2', 'h3'], ['h4']] });
    assert.equal(merged.hosts.h3?.status, 'unreachable');
    assert.match(merged.hosts.h3?.error ?? '', /shard lost/);
    assert.equal(merged.halted, '1 of 3 hosts of batch 1 failed, over the maximum of 30%');
    assert.equal(merged.hosts.h4?.status, 'not run');
    assert.match(merged.hosts.h4?.reason ?? '', /^halted: 1 of 3/);
  });

  it('refuses a host that two reports ran, and reports of different playbooks or modes', () => {
    assert.throws(() => mergeShardReports([{ file: 'a.json', report: report({ h1: 'ok' }) }, { file: 'b.json', report: report({ h1: 'ok' }) }], { anyErrorsFatal: false }), /host h1 is in both a\.json and b\.json/);
    assert.throws(() => mergeShardReports([{ file: 'a.json', report: report({ h1: 'ok' }) }, { file: 'b.json', report: report({ h2: 'ok' }, { check: true }) }], { anyErrorsFatal: false }), /b\.json is a --check run/);
    assert.throws(() => mergeShardReports([{ file: 'a.json', report: report({ h9: 'ok' }) }], { anyErrorsFatal: false, batches: [['h1']] }), /host h9 of a\.json is in no batch/);
  });

  it('keeps the halt of a shard whose own run halted, naming its report', () => {
    const merged = mergeShardReports([{ file: 'a.json', report: report({ h1: 'failed', h2: 'not run' }, { halted: 'any errors fatal: h1 failed' }) }], { anyErrorsFatal: false });
    assert.equal(merged.halted, 'a.json: any errors fatal: h1 failed');
  });
});
