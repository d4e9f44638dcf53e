import assert from 'node:assert/strict';
import type { Plan, Task } from '../../../src/playbook/types.js';
import { PlanCache } from '../../../src/runner/plan-cache.js';
import { defineTask, noChange } from '../../../src/playbook/types.js';

describe('PlanCache', () => {
  /** A task that reads one path; only what the cache looks at (footprint, when) is real. */
  const reading = (path: string): Task => ({ footprint: { reads: [{ path }], writes: [] }, options: {} }) as unknown as Task;
  /** A cache whose check function counts its calls per task and answers with the call's number. */
  const counting = () => {
    const calls = new Map<Task, number>();
    const cache = new PlanCache(async (task) => {
      const n = (calls.get(task) ?? 0) + 1;
      calls.set(task, n);
      return { changed: false, summary: `check ${n}` };
    });
    return { cache, calls };
  };
  const fresh = async (): Promise<Plan> => ({ changed: false, summary: 'fresh' });

  it('reuses an early plan while no write overlapped what it read', async () => {
    const { cache, calls } = counting();
    const task = reading('/etc/app.conf');
    cache.prefetch(task);
    cache.applied([{ path: '/etc/other.conf' }]);
    assert.equal((await cache.planFor(task, fresh)).summary, 'check 1');
    assert.equal(calls.get(task), 1);
  });

  it('checks again, once, after an overlapping write, and keeps the new plan', async () => {
    const { cache, calls } = counting();
    const task = reading('/etc/app.conf');
    cache.prefetch(task);
    cache.applied([{ path: '/etc/app.conf' }]);
    assert.equal(calls.get(task), 2);
    cache.applied([{ path: '/etc/other.conf' }]);
    assert.equal(calls.get(task), 2);
    assert.equal((await cache.planFor(task, fresh)).summary, 'check 2');
  });

  it('never checks again a task that was forgotten, nor one whose turn came', async () => {
    const { cache, calls } = counting();
    const skippedTask = reading('/etc/app.conf');
    const ranTask = reading('/etc/app.conf');
    cache.prefetch(skippedTask);
    cache.prefetch(ranTask);
    cache.forget(skippedTask);
    await cache.planFor(ranTask, fresh);
    cache.applied('anything');
    assert.equal(calls.get(skippedTask), 1);
    assert.equal(calls.get(ranTask), 1);
    assert.equal((await cache.planFor(skippedTask, fresh)).summary, 'fresh');
  });

  it('checks in its turn a task after a failed apply that may have written what it read', async () => {
    const { cache, calls } = counting();
    const task = reading('/etc/app.conf');
    cache.prefetch(task);
    cache.applyFailed([{ path: '/etc/app.conf' }]);
    assert.equal(calls.get(task), 1);
    assert.equal((await cache.planFor(task, fresh)).summary, 'fresh');
  });

  it('checks again only the stale plans no task before them may write again: N edits of one file cost 2N checks, not N²', async () => {
    const { cache, calls } = counting();
    const editing = (path: string): Task => ({ footprint: { reads: [{ path }], writes: [{ path }] }, options: {} }) as unknown as Task;
    const tasks = Array.from({ length: 40 }, () => editing('/etc/app.conf'));
    for (const t of tasks) cache.prefetch(t);
    for (const t of tasks) {
      await cache.planFor(t, async () => {
        calls.set(t, (calls.get(t) ?? 0) + 1);
        return { changed: true };
      });
      cache.applied(t.footprint?.writes);
    }
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 2 * tasks.length - 1, 'each task checked early, then once more after the apply before it');
    assert.ok(tasks.every((t) => (calls.get(t) ?? 0) <= 2));
  });

  it('checks a stale plan again right away when nothing before its turn may write what it read; otherwise later', async () => {
    const { cache, calls } = counting();
    const other = reading('/srv/b');
    const writer = { footprint: { reads: [{ path: '/srv/a' }], writes: [{ path: '/srv/a' }] }, options: {} } as unknown as Task;
    const blocked = reading('/srv/a');
    for (const t of [writer, other, blocked]) cache.prefetch(t);
    cache.applied('anything');
    assert.deepEqual([calls.get(writer), calls.get(other), calls.get(blocked)], [2, 2, 1], 'blocked waits: writer may write /srv/a first');
    await cache.planFor(writer, fresh);
    cache.applied([{ path: '/srv/a' }]);
    assert.equal(calls.get(blocked), 2);
    assert.equal((await cache.planFor(blocked, fresh)).summary, 'check 2');
  });

  it('does not start early a check of a task without a footprint or whose condition is false', async () => {
    const { cache, calls } = counting();
    const noFootprint = { options: {} } as unknown as Task;
    const never = { ...reading('/x'), options: { when: false } } as unknown as Task;
    cache.prefetch(noFootprint);
    cache.prefetch(never);
    assert.equal(calls.size, 0);
    assert.equal((await cache.planFor(never, fresh)).summary, 'fresh');
  });

  it("a user's defineTask without a footprint is never read ahead: checked in its turn, after every write before it", async () => {
    const { cache, calls } = counting();
    const custom = defineTask('blockinfile', 'my block', {}, { check: async () => noChange(), apply: async () => {} });
    assert.equal(custom.footprint, undefined);
    cache.prefetch(custom);
    cache.applied([{ path: '/etc/app.conf' }]);
    assert.equal(calls.size, 0);
    assert.equal((await cache.planFor(custom, fresh)).summary, 'fresh');
  });

  it('checks a failed early check again in its turn, even when nothing was applied (it tried once, without waiting)', async () => {
    let n = 0;
    const cache = new PlanCache(async () => {
      n++;
      throw new Error('not answering yet');
    });
    const task = reading('/etc/app.conf');
    cache.prefetch(task);
    assert.equal((await cache.planFor(task, fresh)).summary, 'fresh');
    assert.equal(n, 1);
  });

  it("keeps a plan that reads 'anything' only while nothing applies, and a caller may call it stale", async () => {
    const { cache, calls } = counting();
    const health = { footprint: { reads: 'anything', writes: [] }, options: {} } as unknown as Task;
    const other = { footprint: { reads: 'anything', writes: [] }, options: {} } as unknown as Task;
    cache.prefetch(health);
    cache.prefetch(other);
    assert.equal((await cache.planFor(other, fresh, true)).summary, 'fresh');
    cache.applied([{ path: '/tmp/unrelated' }]);
    // checked again at once after the apply (nothing before it may write again), never the early plan
    assert.equal(calls.get(health), 2);
    assert.equal((await cache.planFor(health, fresh)).summary, 'check 2');
  });

  it('checks right behind applies on their way the plans they make stale, read as after them; not a check of only what they write', async () => {
    const { cache, calls } = counting();
    const editing = (path: string): Task => ({ footprint: { reads: [{ path }], writes: [{ path }] }, options: {} }) as unknown as Task;
    const applying = editing('/etc/a.conf');
    const reader = { footprint: { reads: [{ path: '/etc/a.conf' }, { path: '/etc/b.conf' }], writes: [] }, options: {} } as unknown as Task;
    const sameFile = editing('/etc/a.conf');
    for (const t of [applying, reader, sameFile]) cache.prefetch(t);
    await cache.planFor(applying, fresh);
    cache.checkAfter([applying.footprint?.writes], new Set([applying]));
    assert.equal(calls.get(reader), 2, 'checked behind the apply');
    assert.equal(calls.get(sameFile), 1, 'left for later: the write may put its file back');
    // not held before the apply is recorded (had it failed, the host stops there)
    assert.equal(cache.heldPlan(reader, []), undefined);
    cache.applied(applying.footprint?.writes);
    assert.equal(calls.get(reader), 2, 'not checked a third time');
    assert.equal((await cache.planFor(reader, fresh)).summary, 'check 2');
  });
});
