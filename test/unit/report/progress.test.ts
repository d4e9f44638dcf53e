// Progress for fleets: plain lines without control codes, and a terminal display that stays small at 500 hosts.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { TaskResult } from '../../../src/playbook/types.js';
import { createProgress } from '../../../src/report/progress.js';
import type { HostReport, RunEvent } from '../../../src/runner/events.js';

/** A stream that says it is a terminal of the given width, and keeps what is written to it. */
function fakeStream(tty: boolean): NodeJS.WriteStream & { text(): string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(s, { isTTY: tty, columns: 120, rows: 40, text: () => out });
  return s;
}

const result = (name: string, status: TaskResult['status']): TaskResult => ({ name, module: 'file', status, changed: status === 'changed', duration_ms: 1 });
const hostReport = (status: HostReport['status']): HostReport => ({ status, stats: { ok: 1, changed: 0, failed: status === 'failed' ? 1 : 0, skipped: 0, left_out: 0 }, tasks: status === 'failed' ? [{ ...result('deploy', 'failed'), error: 'boom' }] : [], duration_ms: 5 });

/** The events of a 500-host rollout in three batches, host007 failing. */
function fleetEvents(): RunEvent[] {
  const hosts = Array.from({ length: 500 }, (_, i) => `host${String(i + 1).padStart(3, '0')}`);
  const batches = [hosts.slice(0, 1), hosts.slice(1, 50), hosts.slice(50)];
  const events: RunEvent[] = [{ type: 'play-start', playbook: 'fleet', hosts, check: false, batches }];
  batches.forEach((batch, index) => {
    events.push({ type: 'batch-start', index, count: batches.length, hosts: batch });
    for (const host of batch) {
      events.push({ type: 'task-start', host, task: 'deploy', module: 'file', handler: false });
      const r = host === 'host007' ? { ...result('deploy', 'failed'), error: 'boom' } : result('deploy', 'ok');
      events.push({ type: 'task-end', host, result: r, handler: false });
      events.push({ type: 'host-end', host, report: hostReport(host === 'host007' ? 'failed' : 'ok') });
    }
    events.push({ type: 'batch-end', index, failed: batch.includes('host007') ? ['host007'] : [] });
  });
  return events;
}

describe('progress', () => {
  it('prints plain lines, one per event and no control codes, when not a terminal', async () => {
    const stream = fakeStream(false);
    const progress = await createProgress({ tty: false, stream, diff: false, color: false });
    for (const e of fleetEvents()) progress.onEvent(e);
    await progress.done();
    const text = stream.text();
    assert.doesNotMatch(text, /\u001b/);
    assert.match(text, /^BATCH 2\/3: host002, /m);
    assert.match(text, /^\[host007\] FAILED: deploy — boom$/m);
    assert.equal(text.split('\n').filter((l) => l.endsWith('done: ok (ok=1 changed=0 failed=0 skipped=0)')).length, 499);
  });

  it('shows a terminal one line per batch with counters, and the failures, not a line per host', async () => {
    const stream = fakeStream(true);
    const progress = await createProgress({ tty: true, stream, diff: false, color: true });
    for (const e of fleetEvents()) {
      progress.onEvent(e);
      await new Promise((r) => setImmediate(r));
    }
    progress.onEvent({ type: 'play-end', report: {} as never });
    await progress.done();
    const text = stream.text();
    assert.match(text, /batch 1\/3 · 1\/1 hosts done/);
    assert.match(text, /batch 2\/3 · 49\/49 hosts done · 1 failed/);
    assert.match(text, /batch 3\/3 · 450\/450 hosts done/);
    assert.match(text, /host007: failed at "deploy": boom/);
    // Finished hosts are counted, never listed one a line: few of the 500 names ever appear (running ones).
    const named = new Set(text.match(/host\d{3}/g));
    assert.ok(named.size < 100, `${named.size} host names shown`);
  });
});
