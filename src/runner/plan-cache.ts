// Checks started ahead of their task's turn travel together over the host's one connection; this keeps each one
// only while no apply on the host since has written what it read.
import type { Footprint, Plan, Task } from '../playbook/types.js';
import { planStillHolds } from './footprint.js';

type Writes = Footprint['writes'] | undefined;

/** A host's early plans: started ahead of their task's turn, checked again when an apply made them stale. */
export class PlanCache {
  /** What each apply so far wrote, in order: a plan prefetched before some of them may be stale. */
  private readonly writes: Writes[] = [];
  /**
   * Checks started ahead of their task's turn, each with the number of applies made before it read; a task takes
   * its entry out when its turn comes, so what is left belongs to the tasks still to run.
   */
  private readonly early = new Map<Task, { plan: Promise<Plan>; writesBefore: number; value?: Plan }>();
  /** The tasks whose turn has not come, in order (those without an early check too: they may write anything). */
  private readonly upcoming: Task[] = [];

  /** @param startCheck starts a task's check on the host. */
  constructor(private readonly startCheck: (task: Task) => Promise<Plan>) {}

  /**
   * Starts a task's check ahead of its turn, when the task says what it reads (its footprint). All tasks' checks
   * start at once before the first task, in the tasks' order: they travel together over the host's one connection,
   * so a converged host costs one round trip for all of them instead of one a task.
   */
  prefetch(task: Task): void {
    if (!this.upcoming.includes(task)) this.upcoming.push(task);
    this.start(task);
  }

  /** `writesBefore`: the applies made before the check reads (more than made so far when some are on their way). */
  private start(task: Task, writesBefore = this.writes.length): void {
    if (!task.footprint || (typeof task.options.when === 'boolean' && !task.options.when)) return;
    const plan = this.startCheck(task);
    const entry: { plan: Promise<Plan>; writesBefore: number; value?: Plan } = { plan, writesBefore };
    // a failure is reported if and when the task runs
    plan.then((value) => (entry.value = value)).catch(() => {});
    this.early.set(task, entry);
  }

  /**
   * A task's early plan, when it has come back and still holds, also after `more` writes (of tasks before it that
   * will apply first); undefined otherwise.
   */
  heldPlan(task: Task, more: Writes[]): Plan | undefined {
    const early = this.early.get(task);
    if (early?.value === undefined || !this.holds(task, early)) return undefined;
    return planStillHolds(task.footprint, [...this.writes.slice(early.writesBefore), ...more]) ? early.value : undefined;
  }

  /**
   * Whether an early plan holds after what was applied since it was read. A plan read after applies that were on
   * their way (see checkAfter) holds only once they are all recorded: when one failed, the host stops there.
   */
  private holds(task: Task, early: { writesBefore: number }): boolean {
    return this.writes.length >= early.writesBefore && planStillHolds(task.footprint, this.writes.slice(early.writesBefore));
  }

  /**
   * Applies that write `pending` (the tasks in `sending`, each one inline script) have been handed to the host's one
   * shell: a check asked for now runs after them there, and reads what they leave. So the checks of the tasks after
   * them that those writes make stale, and that no task between may write over again, start now, in the same round
   * trip as the applies, instead of one round trip after them. Counted as read after those applies.
   */
  checkAfter(pending: Writes[], sending: ReadonlySet<Task>): void {
    const between: Writes[] = [];
    const written = new Set(pending.flatMap((w) => (w === undefined || w === 'anything' ? [] : w.filter((u) => !u.tree).map((u) => u.path))));
    // A check that reads only files these applies write is left for later: a write whose content is known whole puts
    // its file back in what the host's reads remember, once nothing else was asked after it (N edits of one file then
    // read it once), which a check sent behind it would prevent.
    const onlyWritten = (task: Task) => {
      const reads = task.footprint?.reads;
      return reads !== undefined && reads !== 'anything' && reads.length > 0 && reads.every((r) => !r.tree && written.has(r.path));
    };
    for (const task of this.upcoming) {
      if (sending.has(task)) continue;
      const early = this.early.get(task);
      if (early && !onlyWritten(task) && !planStillHolds(task.footprint, [...this.writes.slice(early.writesBefore), ...pending]) && planStillHolds(task.footprint, between)) {
        this.start(task, this.writes.length + pending.length);
      }
      between.push(task.footprint?.writes);
    }
  }

  /**
   * The task's turn: takes its entry out and returns its early plan if it still holds (nothing applied on the host
   * since it was read wrote what it read), else the fresh check `checkNow` starts, with the other stale checks that
   * will still hold at their turn (they travel together). An early check that failed is checked again now: it tried
   * once, without waiting (TaskContext.early), and what it lacked may have come since (a service that was starting).
   * `stale`: the caller knows the early plan no longer holds (see runTask).
   */
  planFor(task: Task, checkNow: () => Promise<Plan>, stale = false): Promise<Plan> {
    const early = this.early.get(task);
    this.done(task);
    if (early && !stale && this.holds(task, early)) return early.plan.catch(() => checkNow());
    const plan = checkNow();
    this.refresh(task);
    return plan;
  }

  /** A task that will not be checked (skipped, its condition false or failing) takes its entry out. */
  forget(task: Task): void {
    this.done(task);
  }

  private done(task: Task): void {
    this.early.delete(task);
    const at = this.upcoming.indexOf(task);
    if (at >= 0) this.upcoming.splice(at, 1);
  }

  /** After an apply: records what it wrote, then checks again, together, the stale plans that will hold at their turn. */
  applied(writes: Writes): void {
    this.writes.push(writes);
    this.refresh();
  }

  /**
   * Starts again the checks of the upcoming tasks whose early plan is stale, but only those that no task before them
   * (from `current`, about to apply, on) may write over again: a plan is checked again once, when it will hold,
   * never after every apply (N edits of one file would otherwise cost N(N+1)/2 checks). The others are checked
   * again by a later refresh, or at their turn.
   */
  private refresh(current?: Task): void {
    const between: Writes[] = current ? [current.footprint?.writes] : [];
    for (const task of this.upcoming) {
      const early = this.early.get(task);
      if (early && !this.holds(task, early) && this.writes.length >= early.writesBefore && planStillHolds(task.footprint, between)) {
        this.start(task);
      }
      between.push(task.footprint?.writes);
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
