// Round trips a task costs on a connection: its check, then its apply (when the check plans a change), done twice,
// so the figures read [fresh check, fresh apply, converged check, converged apply].
import type { Task, TaskContext } from '../../src/playbook/types.js';

export async function checkApplyTrips(task: Task, ctxFor: (checkMode: boolean) => TaskContext, conn: { stats: { roundTrips: number } }): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const ctx = ctxFor(false);
    let n = conn.stats.roundTrips;
    const plan = await task.check(ctx);
    counts.push(conn.stats.roundTrips - n);
    n = conn.stats.roundTrips;
    if (plan.changed) await task.apply(ctx, plan);
    counts.push(conn.stats.roundTrips - n);
  }
  return counts;
}
