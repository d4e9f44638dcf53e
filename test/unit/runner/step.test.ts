// One task's step as a pure function: changedWhen, failedWhen and ignoreErrors over a result, no host needed.
import assert from 'node:assert/strict';
import type { TaskResult } from '../../../src/playbook/types.js';
import { settleResult } from '../../../src/runner/step.js';

const result = (status: TaskResult['status'], extra: Partial<TaskResult> = {}): TaskResult => ({
  name: 't', module: 'command', status, changed: status === 'changed', duration_ms: 0, ...extra,
});

describe('settleResult', () => {
  it('keeps a result without options: its status is its outcome', () => {
    assert.equal(settleResult(result('changed'), {}).outcome, 'changed');
    assert.equal(settleResult(result('ok'), {}).outcome, 'ok');
    assert.equal(settleResult(result('failed', { error: 'x' }), {}).outcome, 'failed');
  });

  it('changedWhen decides changed for a result that did not fail', () => {
    const { result: r, outcome } = settleResult(result('changed', { stdout: 'nothing to do' }), { changedWhen: (x) => !x.stdout?.includes('nothing') });
    assert.deepEqual([r.status, r.changed, outcome], ['ok', false, 'ok']);
    assert.equal(settleResult(result('failed', { error: 'x' }), { changedWhen: () => true }).outcome, 'failed');
  });

  it('failedWhen fails a success and turns a failure into success', () => {
    const failed = settleResult(result('ok', { rc: 0 }), { failedWhen: (x) => x.rc === 0 });
    assert.deepEqual([failed.result.status, failed.result.error, failed.outcome], ['failed', 'failedWhen condition is true', 'failed']);
    const rescued = settleResult(result('failed', { error: 'exit 1', rc: 1 }), { failedWhen: (x) => (x.rc ?? 0) > 1 });
    assert.deepEqual([rescued.result.status, rescued.result.error, rescued.outcome], ['ok', undefined, 'ok']);
  });

  it('a predicate that throws fails the task; ignoreErrors counts a failure ok and marks it ignored', () => {
    const thrown = settleResult(result('ok'), { changedWhen: () => { throw new Error('bad'); } });
    assert.deepEqual([thrown.result.error, thrown.outcome], ['changedWhen/failedWhen: bad', 'failed']);
    const ignored = settleResult(result('failed', { error: 'x' }), { ignoreErrors: true });
    assert.deepEqual([ignored.result.status, ignored.result.ignored, ignored.outcome], ['failed', true, 'ok']);
  });

  it('does not change the result it was given', () => {
    const given = result('changed');
    settleResult(given, { changedWhen: () => false, ignoreErrors: true });
    assert.equal(given.status, 'changed');
  });
});
