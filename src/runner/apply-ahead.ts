// Consecutive applies sent together: when a task is about to apply, the tasks after it whose plans are already known
// (checked early, still holding after what the ones before them write) and whose applies are one inline script each
// go out with it, as one group on the host's shell that stops at its first failure: one round trip for all of them.
import { randomBytes } from 'node:crypto';
import { applyWith, type ApplyResult, type ApplyScript, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import type { HostRun, RunOptions } from './types.js';
import { selectedByTags } from './tags.js';
import { shownName, taskContext } from './context.js';


/**
 * Whether what a task does at its turn is decided already by its plan: nothing evaluated then (a condition that is a
 * function, changedWhen/failedWhen, ignoreErrors, a timeout) could stop the host or change what comes after.
 */
function decidedEarly(task: Task, opts: RunOptions): boolean {
  const o = task.options;
  return (
    opts.confirmTask === undefined &&
    (o.when === undefined || o.when === true) &&
    selectedByTags(o.tags, opts.tags, opts.skipTags) &&
    !o.changedWhen &&
    !o.failedWhen &&
    !o.ignoreErrors &&
    o.timeout === undefined
  );
}

/** Whether a task's apply may go out before its turn: decided early, one script, and no sudo password to send. */
function groupable(run: HostRun, task: Task, opts: RunOptions): boolean {
  return decidedEarly(task, opts) && task.applyScript !== undefined && (!(task.options.become ?? run.become) || run.facts.sudo);
}

/** Sends `script` on the task's connection (as a member of `group`, if any); `sent` resolves once it has been handed to the transport. */
function send(ctx: TaskContext, s: ApplyScript, group: string | undefined): { sent: Promise<void>; result: Promise<ApplyResult | void> } {
  let onSent = () => {};
  const sent = new Promise<void>((resolve) => (onSent = resolve));
  const result = applyWith(ctx, s, { ...(group === undefined ? {} : { group }), onSent });
  result.catch(() => {}); // read when the task's turn comes, or never when an earlier one failed
  return { sent: Promise.race([sent, result.then(() => {}, () => {})]), result };
}

/**
 * `task` is about to apply `plan` (in a real run): with the applies of the tasks after it that can go with it, sends
 * them all as one group, the later ones kept in `run.ahead` for their turn. Resolves once all are sent, with the
 * task's own apply (alone, by its script, when no task can go with it); undefined when its apply is not one script.
 */
export async function applyWithNext(run: HostRun, task: Task, plan: Plan, ctx: TaskContext, opts: RunOptions): Promise<{ result: Promise<ApplyResult | void> } | undefined> {
  const timeouts = opts.playbook.timeout !== undefined || opts.timeout !== undefined;
  if (!run.conn.sharedShell || opts.check || timeouts || !groupable(run, task, opts)) return undefined;
  const first = task.applyScript?.(ctx, plan);
  if (!first) return undefined;
  // The checks that came back with this task's have their plans a few promise steps later: let them settle.
  await new Promise((resolve) => setImmediate(resolve));
  const members: Array<{ task: Task; plan: Plan; ctx: TaskContext; script: ApplyScript }> = [{ task, plan, ctx, script: first }];
  const writes = [task.footprint?.writes];
  for (const next of run.next) {
    const p = decidedEarly(next.task, opts) ? run.plans.heldPlan(next.task, writes) : undefined;
    if (!p || p.predicted) break;
    if (opts.vetPlan?.({ host: run.host, id: next.id, name: shownName(next.task), module: next.task.module, plan: p, secret: next.task.options.secret === true }) !== undefined) break;
    // a task with nothing to do at its turn is passed over: it will be ok (or skipped), and writes nothing
    if (!p.changed || p.skipped !== undefined) continue;
    if (!groupable(run, next.task, opts)) break;
    const nctx = taskContext(run, next.task, opts);
    const script = next.task.applyScript?.(nctx, p);
    if (!script) break;
    members.push({ task: next.task, plan: p, ctx: nctx, script });
    writes.push(next.task.footprint?.writes);
  }
  // The checks these applies make stale go out right behind them (see PlanCache.checkAfter).
  const checkAfter = () => run.plans.checkAfter(writes, new Set(members.map((m) => m.task)));
  if (members.length < 2) {
    const { sent, result } = send(ctx, first, undefined);
    await sent;
    checkAfter();
    return { result };
  }
  const group = randomBytes(8).toString('hex');
  let own: Promise<ApplyResult | void> | undefined;
  // one after the other: the host runs them in the order they are handed over
  for (const m of members) {
    const { sent, result } = send(m.ctx, m.script, group);
    if (m.task === task) own = result;
    else {
      // Awaited at its task's turn; a host that stops before it (interrupted) leaves it: its failure is not a crash.
      result.catch(() => {});
      run.ahead.set(m.task, { plan: m.plan, result });
    }
    await sent;
  }
  checkAfter();
  return own && { result: own };
}
