// One task on one host: its condition, its check (or the plan prefetched for it), its apply under its deadline,
// and the redacted result its host records.
import { CommandError, ConnectionError, MissingOnHostError, ProvisionError, TimeoutError } from '../errors.js';
import type { ApplyResult, Plan, Task, TaskResult } from '../playbook/types.js';
import { redact } from '../secret.js';
import { settleResult, type Outcome } from './step.js';
import { selectedByTags } from './tags.js';
import { shownName } from './context.js';
import { planStillHolds } from './footprint.js';
import { plannedCreator } from './predict.js';
import { applyWithNext } from './apply-ahead.js';
import type { RunEvent } from './events.js';
import type { HostRun, RunOptions } from './types.js';
import { taskContext } from './context.js';

export { shownName, taskContext };

/** An error's message, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A task whose fresh plan is not the one a saved plan showed: it fails, carrying the fresh plan. */
class PlanRefused extends ProvisionError {
  constructor(
    message: string,
    readonly plan: Plan,
  ) {
    super(message);
  }
}

/**
 * Rejects as soon as `signal` aborts (a second Ctrl-C), leaving the work behind: the host's report is kept, the task
 * in it failed as interrupted. Its connection is closed after, which ends what still runs on the host.
 */
export function untilInterrupted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  const interrupted = () => new ProvisionError('interrupted while it ran (a second Ctrl-C): what it did on the host so far is not known');
  if (signal.aborted) {
    work.catch(() => {}); // its connection is closing: its failure is the interruption's, already said
    return Promise.reject(interrupted());
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    work
      .finally(() => signal.removeEventListener('abort', onAbort))
      .then(resolve, reject);
  });
}

/** Races a task's step against its deadline and a second Ctrl-C; the message names the task's whole timeout. */
async function withDeadline<T>(work: Promise<T>, deadline: number | undefined, seconds: number | undefined, signal?: AbortSignal): Promise<T> {
  work = untilInterrupted(work, signal);
  if (deadline === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${seconds} s`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    // A task's commands get the time left until its deadline: a command cut short there (exit 124, on either side of
    // the race with the timer) is the task's timeout, and says so the same way.
    if (err instanceof CommandError && err.code === 124 && Date.now() >= deadline - 100) throw new TimeoutError(`timed out after ${seconds} s`);
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
  }
}


function redactResult(result: TaskResult, secret: boolean): TaskResult {
  if (secret) {
    const hidden: TaskResult = { ...result, summary: 'output hidden: the task is marked secret' };
    delete hidden.diff;
    delete hidden.stdout;
    delete hidden.stderr;
    if (hidden.error) hidden.error = 'the task failed; its output is hidden because it is marked secret';
    return hidden;
  }
  const r: TaskResult = { ...result };
  if (r.summary) r.summary = redact(r.summary);
  if (r.error) r.error = redact(r.error);
  if (r.stdout) r.stdout = redact(r.stdout);
  if (r.stderr) r.stderr = redact(r.stderr);
  if (r.diff) {
    r.diff = r.diff.map((d) => ({
      ...d,
      path: redact(d.path),
      ...(d.note === undefined ? {} : { note: redact(d.note) }),
      before: d.before === null ? null : redact(d.before),
      after: d.after === null ? null : redact(d.after),
    }));
  }
  return r;
}


/** Runs one task (or handler, or gate) on a host and records its result; never throws for the task's failure. */
export async function runTask(
  run: HostRun,
  task: Task,
  opts: RunOptions,
  emit: (e: RunEvent) => void,
  /** A gate is only checked (never applied), and skipped in check mode where the changes were not made. */
  kind: 'task' | 'handler' | 'gate',
  /** The task's place in the play, the same on every host. */
  id: string,
): Promise<Outcome> {
  const handler = kind === 'handler';
  const { host, report } = run;
  // An apply sent ahead with an earlier task's (see applyWithNext): its plan is the one applied.
  const ahead = run.ahead.get(task);
  run.ahead.delete(task);
  const started = Date.now();
  const o = task.options;
  const name = shownName(task);
  const base = { id, name, module: task.module, started: new Date(started).toISOString() };
  const record = (result: TaskResult, outcome: Outcome): Outcome => {
    const shown = redactResult(result, o.secret === true);
    report.tasks.push(shown);
    if (o.register) run.registered[o.register] = result;
    // Counted by outcome: an ignored failure is ok, and a lost connection counts the host unreachable instead.
    if (outcome !== 'unreachable') report.stats[outcome]++;
    // The host's error is its first failure, whole (a multi-line error stays multi-line in the JSON report).
    if (outcome === 'failed' && report.error === undefined) report.error = `${shown.name}: ${shown.error ?? 'failed'}`;
    emit({ type: 'task-end', host, result: shown, handler });
    return outcome;
  };
  const skipped = (why: string, leftOut?: true): Outcome => {
    run.plans.forget(task);
    return record({ ...base, status: 'skipped', changed: false, summary: why, ...(leftOut ? { left_out: true } : {}), duration_ms: Date.now() - started }, 'skipped');
  };

  // Left out by the run's options: in the report as skipped, not in Ansible's recap (see HostStats.left_out).
  const leftOut = (why: string): Outcome => {
    report.stats.left_out++;
    return skipped(why, true);
  };
  if (!handler && !selectedByTags(o.tags, opts.tags, opts.skipTags)) return leftOut('not tagged for this run');
  if (kind === 'task' && !run.started) {
    run.started = opts.startAtTask?.test(task.options.name ?? task.name) === true;
    if (!run.started) return leftOut('before --start-at-task');
  }
  if (kind === 'task' && opts.confirmTask && !(await opts.confirmTask(id, name))) return leftOut('not confirmed at --step');
  if (kind === 'gate' && opts.check) return skipped('check mode: the changes it would check were not made');
  emit({ type: 'task-start', host, task: name, module: task.module, handler });
  try {
    const when =
      typeof o.when === 'function'
        ? o.when({ vars: run.vars, facts: run.facts, registered: run.registered })
        : (o.when ?? true);
    if (!when) return skipped('condition is false');
  } catch (err) {
    run.plans.forget(task);
    return record(
      { ...base, status: 'failed', changed: false, error: `when: ${errorMessage(err)}`, duration_ms: Date.now() - started },
      'failed',
    );
  }

  const timeout = o.timeout ?? opts.playbook.timeout ?? opts.timeout;
  const deadline = timeout ? started + timeout * 1000 : undefined;
  const ctx = taskContext(run, task, opts, deadline);
  let result: TaskResult;
  try {
    let plan: Plan;
    try {
      // A prefetched plan holds while nothing applied on the host since it was read wrote what it read.
      if (ahead) run.plans.forget(task);
      // In --check a check that may read anything (a health check, manage.py) is made in its turn once changes were
      // planned: it then knows them (TaskContext.earlierChangesPlanned, plannedTrees), as the changes were not made.
      const stale = opts.check && run.planned.length > 0 && task.footprint?.reads === 'anything';
      plan = ahead ? ahead.plan : await withDeadline(run.plans.planFor(task, () => task.check(ctx), stale), deadline, timeout, opts.interrupt);
    } catch (err) {
      // Check mode cannot see what earlier planned changes would have made (a package not yet installed, a
      // directory not yet created): only what the module knows is missing on the host, and an earlier planned
      // change writes, is predicted; every other error fails as it would in the real run.
      const creator = opts.check && err instanceof MissingOnHostError ? plannedCreator(err, run.planned) : undefined;
      if (!creator) throw err;
      plan = {
        changed: true,
        predicted: true,
        summary: `would change (depends on an earlier planned change: ${creator.task}): ${errorMessage(err).split('\n')[0]}`,
      };
    }
    if (plan.skipped !== undefined) return skipped(plan.skipped);
    if (kind === 'gate' && plan.changed) {
      throw new ProvisionError(`a gate must only check, but this one would change something: ${plan.summary ?? ''}`);
    }
    if (kind !== 'gate') {
      const seen = { host, id, name, module: task.module, plan, secret: o.secret === true };
      if (opts.check) {
        opts.onPlan?.({ ...seen, dependsOnEarlier: !planStillHolds(task.footprint, run.planned.map((p) => p.writes)) });
      } else {
        const refusal = opts.vetPlan?.(seen);
        if (refusal !== undefined) throw new PlanRefused(refusal, plan);
      }
    }
    if (!plan.changed) {
      result = { ...base, status: 'ok', changed: false, duration_ms: 0 };
      if (plan.summary) result.summary = plan.summary;
    } else if (opts.check) {
      run.planned.push({ task: name, writes: task.footprint?.writes, ...(task.footprint ? { reads: task.footprint.reads } : {}), ...(plan.tree ? { tree: { ...plan.tree, task: name } } : {}) });
      result = { ...base, status: 'changed', changed: true, duration_ms: 0 };
      if (plan.summary) result.summary = plan.summary;
      if (plan.diff) result.diff = plan.diff;
      if (plan.predicted) result.predicted = true;
    } else {
      let applied: ApplyResult;
      try {
        const applying = ahead?.result ?? (await applyWithNext(run, task, plan, ctx, opts))?.result ?? task.apply(ctx, plan);
        applied = (await withDeadline(applying, deadline, timeout, opts.interrupt)) ?? {};
      } catch (err) {
        run.plans.applyFailed(task.footprint?.writes);
        throw err;
      }
      run.plans.applied(task.footprint?.writes);
      const changed = applied.changed ?? true;
      result = { ...base, status: changed ? 'changed' : 'ok', changed, duration_ms: 0 };
      const summary = applied.summary ?? plan.summary;
      if (summary) result.summary = summary;
      if (changed && plan.diff) result.diff = plan.diff;
      if (applied.stdout !== undefined) result.stdout = applied.stdout;
      if (applied.stderr !== undefined) result.stderr = applied.stderr;
      if (applied.rc !== undefined) result.rc = applied.rc;
    }
  } catch (err) {
    if (err instanceof ConnectionError) {
      report.status = 'unreachable';
      report.error = redact(`${name}: ${errorMessage(err)}`);
      return record({ ...base, status: 'failed', changed: false, error: errorMessage(err), duration_ms: Date.now() - started }, 'unreachable');
    }
    result = { ...base, status: 'failed', changed: false, error: errorMessage(err), duration_ms: 0 };
    // A refused task shows what it would do now, beside what the plan said.
    if (err instanceof PlanRefused && err.plan.diff) result.diff = err.plan.diff;
    if (err instanceof PlanRefused) run.planRefused = true;
    const e = err as { stdout?: unknown; stderr?: unknown; code?: unknown };
    if (err instanceof ProvisionError && typeof e.code === 'number') {
      result.rc = e.code;
      if (typeof e.stdout === 'string') result.stdout = e.stdout;
      if (typeof e.stderr === 'string') result.stderr = e.stderr;
    }
  }
  const settled = settleResult({ ...result, duration_ms: Date.now() - started }, o);
  return record(settled.result, settled.outcome);
}
