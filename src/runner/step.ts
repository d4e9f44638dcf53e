// One task's step, after its check (and apply) gave a result: the user's judgement (changedWhen, failedWhen,
// ignoreErrors) turns it into the recorded result and the outcome the host counts. Pure: no host, no clock.
import type { CommonOptions, TaskResult } from '../playbook/types.js';

/** What a task's step counts as for its host. */
export type Outcome = 'ok' | 'changed' | 'skipped' | 'failed' | 'unreachable';

/**
 * Applies `changedWhen` and `failedWhen` to a result (a throwing predicate fails the task), then `ignoreErrors`
 * (a failure the host goes on past is counted ok and marked `ignored`). Returns a new result and its outcome.
 */
export function settleResult(given: TaskResult, o: Pick<CommonOptions, 'changedWhen' | 'failedWhen' | 'ignoreErrors'>): { result: TaskResult; outcome: Outcome } {
  const result: TaskResult = { ...given };
  try {
    if (o.changedWhen && result.status !== 'failed') {
      result.changed = o.changedWhen(result);
      result.status = result.changed ? 'changed' : 'ok';
    }
    if (o.failedWhen) {
      const failedNow = o.failedWhen(result);
      if (failedNow && result.status !== 'failed') {
        result.status = 'failed';
        result.error = 'failedWhen condition is true';
      } else if (!failedNow && result.status === 'failed') {
        result.status = result.changed ? 'changed' : 'ok';
        delete result.error;
      }
    }
  } catch (err) {
    result.status = 'failed';
    result.error = `changedWhen/failedWhen: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (result.status === 'failed' && o.ignoreErrors) return { result: { ...result, ignored: true }, outcome: 'ok' };
  return { result, outcome: result.status === 'failed' ? 'failed' : result.status === 'changed' ? 'changed' : 'ok' };
}
