// Checks started ahead of their task's turn travel together over the host's one connection; this keeps each one
// only while no apply on the host since has written what it read.
import type { Footprint, Plan, Task } from '../playbook/types.js';
import { planStillHolds } from './footprint.js';

type Writes = Footprint['writes'] | undefined;

/** A host's early plans: started ahead of their task's turn, re-checked when an apply made them stale. */
export class PlanCache {
  /** What each apply so far wrote, in order: a plan prefetched before some of them may be stale. */
  private readonly writes: Writes[] = [];
  /**
   * Checks started ahead of their task's turn, each with the number of applies made before it read; a task takes
   * its entry out when its turn comes, so what is left belongs to the tasks still to run.
   */
  private readonly early = new Map<Task, { plan: Promise<Plan>; writesBefore: number }>();

  /** @param startCheck starts a task's check on the host. */
  constructor(private readonly startCheck: (task: Task) => Promise<Plan>) {}

  /**
   * Starts a task's check ahead of its turn, when the task says what it reads (its footprint). All tasks' checks
   * start at once before the first task: they travel together over the host's one connection, so a converged host
   * costs one round trip for all of them instead of one a task.
   */
  prefetch(task: Task): void {
    if (!task.footprint || (typeof task.options.when === 'boolean' && !task.options.when)) return;
    const plan = this.startCheck(task);
    plan.catch(() => {}); // a failure is reported if and when the task runs
    this.early.set(task, { plan, writesBefore: this.writes.length });
  }

  /**
   * The task's turn: takes its entry out and returns its early plan if it still holds (nothing applied on the host
   * since it was read wrote what it read), else the fresh check `checkNow` starts.
   */
  planFor(task: Task, checkNow: () => Promise<Plan>): Promise<Plan> {
    const early = this.early.get(task);
    this.early.delete(task);
    return early && planStillHolds(task.footprint, this.writes.slice(early.writesBefore)) ? early.plan : checkNow();
  }

  /** A task that will not be checked (skipped, its condition false or failing) takes its entry out. */
  forget(task: Task): void {
    this.early.delete(task);
  }

  /** After an apply: records what it wrote, then checks again, together, the tasks still to run it made stale. */
  applied(writes: Writes): void {
    this.writes.push(writes);
    for (const [task, early] of this.early) {
      if (!planStillHolds(task.footprint, this.writes.slice(early.writesBefore))) this.prefetch(task);
    }
  }

  /**
   * An apply that failed (or timed out) may still have written: what it would write stales the early plans, and
   * they are checked again at their turn, not now, since the host may stop here.
   */
  applyFailed(writes: Writes): void {
    this.writes.push(writes);
  }
}
