// Hosts × tasks: batches, bounded parallelism, check-then-apply, handlers, failures and unreachable hosts.
import pLimit from 'p-limit';
import type { Connection } from '../connection/types.js';
import { AuthenticationError, ConnectionError, MissingOnHostError, PlaybookError, ProvisionError, TimeoutError } from '../errors.js';
import { gatherFacts } from '../facts/gather.js';
import { apacheLayoutFor } from '../facts/parse.js';
import type { Facts } from '../facts/types.js';
import { playbookLocation } from '../playbook/load.js';
import { flushHandlersModule } from '../playbook/meta.js';
import type { Footprint, HostView, Plan, Playbook, Task, TaskResult, Vars } from '../playbook/types.js';
import { redact } from '../secret.js';
import { summarize } from './merge-reports.js';
import { splitBatches, type Serial } from './batches.js';
import { settleResult, type Outcome } from './step.js';
import { selectedByTags } from './tags.js';
import { createContext } from './context.js';
import { planStillHolds } from './footprint.js';
import { plannedCreator, type PlannedChange } from './predict.js';
import type { EventListener, HostReport, HostStats, RunEvent, RunReport } from './events.js';

export interface RunOptions {
  playbook: Playbook;
  /** Path shown in the report. */
  playbookPath: string;
  /** Directory relative `src` paths resolve against. */
  baseDir: string;
  /** Hosts to run on, in order, already matched against the playbook's `hosts` and `--limit`. */
  hosts: string[];
  /** The merged variables of a host (inventory + play vars + extra vars). */
  varsOf: (host: string) => Vars;
  /** Opens the one connection a host uses for the whole run. */
  connect: (host: string, vars: Vars) => Promise<Connection>;
  /** Whether tasks run with privilege escalation by default on this host (inventory, --become, the play). */
  becomeOf?: (host: string, vars: Vars) => boolean;
  /** Whether a sudo password was given for this host (-K, ansible_become_password); unknown when left out. */
  hasBecomePassword?: (host: string, vars: Vars) => boolean;
  forks: number;
  check: boolean;
  forceHandlers?: boolean;
  serial?: Serial;
  maxFailPercentage?: number;
  anyErrorsFatal?: boolean;
  /** Retries of a connect that was refused or reset, with backoff, before a host is unreachable (default 2). */
  connectRetries?: number;
  /** Default task timeout in seconds (a task's own `timeout` wins). */
  timeout?: number;
  /** Only tasks with one of these tags (untagged tasks are skipped when set); `always` and `never` as Ansible's. */
  tags?: string[];
  /** Tasks with any of these tags are skipped (`always` ones too, when named). */
  skipTags?: string[];
  /** Aborted: no new task starts; the report is still produced. */
  signal?: AbortSignal;
  /** Put before every task id: a playbook's later plays (`play 2 `) keep their tasks apart from the first's. */
  idPrefix?: string;
  /**
   * Check mode: sees each plan a check made, and whether it read what an earlier planned (not made) change would
   * write, so that a real run may find it different.
   */
  onPlan?: (seen: PlanSeen & { dependsOnEarlier: boolean }) => void;
  /** A real run from a saved plan: why a task's fresh plan must not be applied, or undefined to apply it. */
  vetPlan?: (seen: PlanSeen) => string | undefined;
  onEvent?: EventListener;
}

/** A task's plan on a host, with the task's stable id. */
export interface PlanSeen {
  host: string;
  id: string;
  name: string;
  module: string;
  plan: Plan;
}

const emptyStats = (): HostStats => ({ ok: 0, changed: 0, failed: 0, skipped: 0 });

/** Whether a value is a task a module function built (not a forgotten call, a promise or a plain object). */
export function isTask(value: unknown): value is Task {
  const t = value as Partial<Task> | null;
  return typeof t === 'object' && t !== null && typeof t.module === 'string' && typeof t.check === 'function' && typeof t.apply === 'function';
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'}): call it`;
  if (value instanceof Promise) return 'a promise: a task list is built synchronously';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object that is not a task' : String(value);
}

function flattenTasks(list: unknown, where: string): Task[] {
  if (!Array.isArray(list)) throw new Error(`${where} must be a list of tasks (got ${describeValue(list)})`);
  const out: Task[] = [];
  for (const [i, item] of list.entries()) {
    if (item === false || item === null || item === undefined) continue;
    if (Array.isArray(item)) out.push(...flattenTasks(item, `${where}[${i}]`));
    else if (isTask(item)) out.push(item);
    else throw new Error(`${where}[${i}] is not a task (got ${describeValue(item)})`);
  }
  return out;
}

/** Resolves a playbook's task list for one host (a list, or a function of the host's vars and facts). */
export function resolveTasks(playbook: Playbook, view: HostView): Task[] {
  const list: unknown = typeof playbook.tasks === 'function' ? playbook.tasks(view) : playbook.tasks;
  return flattenTasks(list, typeof playbook.tasks === 'function' ? 'the list tasks() returned' : 'tasks');
}

/**
 * Builds part of the play (the task list, a handler, the gate) for a host; a mistake there is the playbook's, not
 * the host's: a PlaybookError naming the playbook's line (from the stack, through the bundle's source map).
 */
function buildOrFail<T>(build: () => T, what: string, host: string, playbookPath: string): T {
  try {
    return build();
  } catch (err) {
    const at = playbookLocation(err) ?? playbookPath;
    throw new PlaybookError(`${at}: ${what} (for ${host}): ${redact(errorMessage(err))}`);
  }
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

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A Facts value for plays that skip fact gathering: everything unknown. */
export function unknownFacts(host: string): Facts {
  return {
    hostname: host,
    os: { family: 'unknown', id: 'unknown', version: '', prettyName: 'unknown' },
    packageManager: null,
    init: 'sysv',
    selinux: { present: false, mode: null },
    apache: apacheLayoutFor('unknown'),
    python: null,
    user: 'unknown',
    uid: -1,
    sudo: false,
  };
}

/** Races a task's step against its deadline; the message names the task's whole timeout. */
async function withDeadline<T>(work: Promise<T>, deadline: number | undefined, seconds: number | undefined): Promise<T> {
  if (deadline === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${seconds} s`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * A task's name as it may be shown: secrets redacted; a task marked secret without a name of its own is called by
 * its module only, since its default name is built from its parameters (a command line, a path).
 */
export function shownName(task: Pick<Task, 'name' | 'module' | 'options'>): string {
  if (task.options.secret && task.options.name === undefined) return `${task.module} (secret)`;
  return redact(task.name);
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

const transient = /ECONNREFUSED|ECONNRESET|EPIPE|connection (was )?(refused|reset)|ended during handshake|handshake/i;

/** Retries transient connect failures (refused, reset) with exponential backoff; auth and host key errors never. */
async function connectWithRetries(connect: () => Promise<Connection>, retries: number, signal?: AbortSignal): Promise<Connection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      // A timeout is not retried: the flag says how long to wait for a host, and a silent host stays silent.
      if (attempt >= retries || signal?.aborted || err instanceof AuthenticationError || !transient.test(errorMessage(err)) || /timed out|within \d+ ?ms/i.test(errorMessage(err))) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

interface HostRun {
  host: string;
  vars: Vars;
  conn: Connection;
  facts: Facts;
  become: boolean;
  registered: Record<string, TaskResult>;
  report: HostReport;
  /** In check mode: an earlier task planned a change, so later reads may see a state that will not exist. */
  plannedChange: boolean;
  /** In check mode: the changes planned so far (not made), with what each would write. */
  planned: PlannedChange[];
  /** What each apply so far wrote, in order: a plan prefetched before some of them may be stale. */
  writes: Array<Footprint['writes'] | undefined>;
  /**
   * Checks started ahead of their task's turn, each with the number of applies made before it read; a task takes
   * its entry out when its turn comes, so what is left belongs to the tasks still to run.
   */
  prefetched: Map<Task, { plan: Promise<Plan>; writesBefore: number }>;
}

/** Runs a playbook over hosts and returns the report; never throws for a host's failure, only (PlaybookError) for a mistake in building the play. */
export async function runPlaybook(opts: RunOptions): Promise<RunReport> {
  const emit = (e: RunEvent) => opts.onEvent?.(e);
  const startedAt = Date.now();
  const playbook = opts.playbook;
  const batches = splitBatches(opts.hosts, opts.serial ?? playbook.serial);
  const maxFail = opts.maxFailPercentage ?? playbook.maxFailPercentage;
  const anyErrorsFatal = opts.anyErrorsFatal ?? playbook.anyErrorsFatal ?? false;
  const reports: Record<string, HostReport> = {};
  let halted: string | undefined;
  /** A mistake of the playbook found while building a host's tasks: the run stops and it is reported once. */
  let playbookError: PlaybookError | undefined;

  emit({ type: 'play-start', playbook: playbook.name, hosts: opts.hosts, check: opts.check, batches });

  for (const [index, batch] of batches.entries()) {
    if (halted || opts.signal?.aborted) break;
    emit({ type: 'batch-start', index, count: batches.length, hosts: batch });
    const limit = pLimit(Math.max(1, opts.forks));
    const fatal = new AbortController();
    // A halt stops the batch's other hosts after the task they are on, as soon as the failures cross the line.
    let failedSoFar = 0;
    const hostFailed = () => {
      failedSoFar++;
      if (anyErrorsFatal || (maxFail !== undefined && (failedSoFar / batch.length) * 100 > maxFail)) fatal.abort();
    };
    await Promise.all(
      batch.map((host) =>
        limit(async () => {
          if (opts.signal?.aborted || fatal.signal.aborted || playbookError) return;
          let report: HostReport;
          try {
            report = await runHost(host, opts, emit, fatal.signal, hostFailed);
          } catch (err) {
            if (!(err instanceof PlaybookError)) throw err;
            playbookError ??= err;
            fatal.abort();
            return;
          }
          reports[host] = report;
          emit({ type: 'host-end', host, report });
        }),
      ),
    );
    if (playbookError) throw playbookError;
    const failed = batch.filter((h) => reports[h]?.status === 'failed' || reports[h]?.status === 'unreachable');
    emit({ type: 'batch-end', index, failed });
    if (opts.signal?.aborted) {
      halted = 'interrupted';
    } else if (failed.length > 0 && anyErrorsFatal) {
      halted = `any errors fatal: ${failed.join(', ')} failed`;
    } else if (failed.length > 0 && maxFail !== undefined && (failed.length / batch.length) * 100 > maxFail) {
      halted = `${failed.length} of ${batch.length} hosts of batch ${index + 1} failed, over the maximum of ${maxFail}%`;
    }
  }

  const notRun = opts.hosts.filter((h) => !reports[h]);
  for (const host of notRun) {
    reports[host] = {
      status: 'not run',
      stats: emptyStats(),
      tasks: [],
      reason: halted ? `halted: ${halted}` : 'not run',
      duration_ms: 0,
    };
  }
  if (halted && notRun.length > 0) emit({ type: 'halted', reason: halted, notRun });

  const ordered: Record<string, HostReport> = {};
  for (const h of opts.hosts) ordered[h] = reports[h] as HostReport;
  const finishedAt = Date.now();
  const report: RunReport = {
    playbook: opts.playbookPath,
    check: opts.check,
    started: new Date(startedAt).toISOString(),
    finished: new Date(finishedAt).toISOString(),
    duration_ms: finishedAt - startedAt,
    batches,
    ...(halted ? { halted } : {}),
    ...(opts.signal?.aborted ? { interrupted: true } : {}),
    hosts: ordered,
    summary: summarize(Object.values(ordered)),
  };
  emit({ type: 'play-end', report });
  return report;
}

async function runHost(
  host: string,
  opts: RunOptions,
  emit: (e: RunEvent) => void,
  fatal: AbortSignal,
  /** Called once, as soon as the host has failed or become unreachable (a halt may then stop the others). */
  hostFailed: () => void = () => {},
): Promise<HostReport> {
  let told = false;
  const tellFailed = () => {
    if (!told) hostFailed();
    told = true;
  };
  const started = Date.now();
  const report: HostReport = { status: 'ok', stats: emptyStats(), tasks: [], started: new Date(started).toISOString(), duration_ms: 0 };
  const finish = (): HostReport => {
    report.duration_ms = Date.now() - started;
    if (report.status === 'ok' && report.stats.changed > 0) report.status = 'changed';
    if (report.status === 'failed' || report.status === 'unreachable') tellFailed();
    return report;
  };
  emit({ type: 'host-start', host });
  const vars = opts.varsOf(host);
  const playbook = opts.playbook;
  let conn: Connection;
  let facts: Facts;
  try {
    emit({ type: 'host-phase', host, phase: 'connect' });
    conn = await connectWithRetries(() => opts.connect(host, vars), opts.connectRetries ?? 2, opts.signal);
  } catch (err) {
    report.status = 'unreachable';
    report.error = redact(errorMessage(err));
    return finish();
  }
  try {
    try {
      emit({ type: 'host-phase', host, phase: 'facts' });
      facts = playbook.gatherFacts === false ? unknownFacts(host) : await gatherFacts(conn);
    } catch (err) {
      report.status = err instanceof ConnectionError ? 'unreachable' : 'failed';
      report.error = redact(`gathering facts: ${errorMessage(err)}`);
      if (report.status === 'failed') report.stats.failed++;
      return finish();
    }
    const run: HostRun = {
      host,
      vars,
      conn,
      facts,
      become: opts.becomeOf?.(host, vars) ?? playbook.become ?? false,
      registered: {},
      report,
      plannedChange: false,
      planned: [],
      writes: [],
      prefetched: new Map(),
    };
    const view: HostView = { host, vars, facts };
    const tasks = buildOrFail(() => resolveTasks(playbook, view), 'building the task list', host, opts.playbookPath);
    // The facts say whether sudo works without a password: one clear line before the first task, not a sudo prompt.
    const becomes = tasks.some((t) => t.options.become ?? run.become);
    if (becomes && playbook.gatherFacts !== false && !facts.sudo && opts.hasBecomePassword?.(host, vars) === false) {
      report.status = 'failed';
      report.error = `sudo on ${host} needs a password: run with -K, or set ansible_become_password`;
      report.stats.failed++;
      return finish();
    }
    for (const task of tasks) prefetchCheck(run, task, opts);
    const notified = new Set<string>();
    const handlers = playbook.handlers ?? {};
    let builtHandlers: Array<{ name: string; task: Task; answersTo: Set<string> }> | undefined;
    /** Runs the notified handlers, in the order the playbook defines them (as Ansible's), and forgets them. */
    const flushHandlers = async (): Promise<Outcome> => {
      if (notified.size === 0 || opts.signal?.aborted) return 'ok';
      emit({ type: 'host-phase', host, phase: 'handlers' });
      builtHandlers ??= Object.entries(handlers).map(([name, def]) => {
        const task = buildOrFail(() => {
          const b = typeof def === 'function' ? def(view) : def;
          if (!isTask(b)) throw new Error(`it is not a task (got ${describeValue(b)})`);
          return b;
        }, `building the handler ${JSON.stringify(name)}`, host, opts.playbookPath);
        // a handler answers to its name and to the topics it listens to (as Ansible's `listen`)
        return { name, task, answersTo: new Set([name, ...[task.options.listen ?? []].flat()]) };
      });
      const handlerList = builtHandlers;
      const unknown = [...notified].find((n) => !handlerList.some((h) => h.answersTo.has(n)));
      if (unknown !== undefined) {
        report.error = `a task notified the handler ${JSON.stringify(unknown)}, which the playbook does not define`;
        report.stats.failed++;
        return 'failed';
      }
      // In definition order; a handler that changed something notifies in turn (each handler runs once a flush).
      const ran = new Set<string>();
      for (;;) {
        const next = handlerList.find((h) => !ran.has(h.name) && [...h.answersTo].some((n) => notified.has(n)));
        if (!next || opts.signal?.aborted) break;
        ran.add(next.name);
        const outcome = await runTask(run, { ...next.task, name: next.task.options.name ?? next.name }, opts, emit, 'handler', `${opts.idPrefix ?? ''}handler ${next.name}`);
        if (outcome === 'unreachable' || outcome === 'failed') return outcome;
        if (outcome === 'changed') for (const n of [next.task.options.notify ?? []].flat()) notified.add(n);
        // what has run is no longer pending; a topic stays notified for the other handlers listening to it
        for (const n of next.answersTo) if (!handlerList.some((h) => !ran.has(h.name) && h.answersTo.has(n))) notified.delete(n);
      }
      return 'ok';
    };
    let failed = false;
    for (const [index, task] of tasks.entries()) {
      if (opts.signal?.aborted || fatal.aborted) {
        // Cut short: the host goes into the retry file, and says how much of its play did not run.
        report.reason = `${opts.signal?.aborted ? 'interrupted' : 'halted'}: ${tasks.length - index} of ${tasks.length} tasks not run`;
        report.status = 'halted';
        break;
      }
      const outcome = task.module === flushHandlersModule ? await flushHandlers() : await runTask(run, task, opts, emit, 'task', `${opts.idPrefix ?? ''}task ${index + 1}`);
      if (outcome === 'unreachable') return finish();
      if (outcome === 'failed') {
        failed = true;
        // the halt decision does not wait for this host's handlers and gate
        if (!opts.forceHandlers) tellFailed();
        break;
      }
      if (outcome === 'changed') {
        for (const h of [task.options.notify ?? []].flat()) notified.add(h);
      }
    }
    const cutShort = report.status === 'halted';
    if ((!failed && !cutShort) || opts.forceHandlers) {
      const outcome = await flushHandlers();
      if (outcome === 'unreachable') return finish();
      if (outcome === 'failed') failed = true;
    }
    if (playbook.gate && !failed && !cutShort && report.stats.failed === 0 && !opts.signal?.aborted) {
      const gateDef = playbook.gate;
      const built = buildOrFail(() => {
        const b = typeof gateDef === 'function' ? gateDef(view) : gateDef;
        if (!isTask(b)) throw new Error(`it is not a task (got ${describeValue(b)})`);
        return b;
      }, 'building the gate', host, opts.playbookPath);
      const gate: Task = { ...built, name: `gate: ${built.name}` };
      const outcome = await runTask(run, gate, opts, emit, 'gate', `${opts.idPrefix ?? ''}gate`);
      if (outcome === 'unreachable') return finish();
      if (outcome === 'failed') report.error = `health gate failed: ${report.tasks.at(-1)?.error ?? ''}`;
    }
    if (failed || report.stats.failed > 0) report.status = 'failed';
    return finish();
  } finally {
    report.round_trips = conn.stats.roundTrips;
    report.requests = conn.stats.requests;
    report.channels = conn.stats.channels;
    await conn.close().catch(() => {});
  }
}


function taskContext(run: HostRun, task: Task, opts: RunOptions, deadline?: number) {
  return createContext({
    host: run.host,
    conn: run.conn,
    vars: run.vars,
    facts: run.facts,
    checkMode: opts.check,
    become: task.options.become ?? run.become,
    baseDir: opts.baseDir,
    registered: run.registered,
    earlierChangesPlanned: opts.check && run.plannedChange,
    deadline,
  });
}

/**
 * Starts a task's check ahead of its turn, when the task says what it reads (its footprint). All tasks' checks
 * start at once before the first task: they travel together over the host's one connection, so a converged host
 * costs one round trip for all of them instead of one a task.
 */
function prefetchCheck(run: HostRun, task: Task, opts: RunOptions): void {
  if (!task.footprint || (typeof task.options.when === 'boolean' && !task.options.when)) return;
  const plan = task.check(taskContext(run, task, opts));
  plan.catch(() => {}); // a failure is reported if and when the task runs
  run.prefetched.set(task, { plan, writesBefore: run.writes.length });
}

/** After an apply: checks again, together, the tasks still to run whose early plan it made stale. */
function refreshStalePlans(run: HostRun, opts: RunOptions): void {
  for (const [task, early] of run.prefetched) {
    if (!planStillHolds(task.footprint, run.writes.slice(early.writesBefore))) prefetchCheck(run, task, opts);
  }
}

async function runTask(
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
  const early = run.prefetched.get(task);
  run.prefetched.delete(task);
  const skipped = (why: string): Outcome =>
    record({ ...base, status: 'skipped', changed: false, summary: why, duration_ms: Date.now() - started }, 'skipped');

  if (!handler && !selectedByTags(o.tags, opts.tags, opts.skipTags)) return skipped('not tagged for this run');
  if (kind === 'gate' && opts.check) return skipped('check mode: the changes it would check were not made');
  emit({ type: 'task-start', host, task: name, module: task.module, handler });
  try {
    const when =
      typeof o.when === 'function'
        ? o.when({ vars: run.vars, facts: run.facts, registered: run.registered })
        : (o.when ?? true);
    if (!when) return skipped('condition is false');
  } catch (err) {
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
      const holds = early && planStillHolds(task.footprint, run.writes.slice(early.writesBefore));
      const check = holds ? early.plan : task.check(ctx);
      plan = await withDeadline(check, deadline, timeout);
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
      const seen = { host, id, name, module: task.module, plan };
      if (opts.check) {
        const earlier = run.planned.map((p) => p.writes);
        opts.onPlan?.({ ...seen, dependsOnEarlier: earlier.length > 0 && !planStillHolds(task.footprint, earlier) });
      } else {
        const refusal = opts.vetPlan?.(seen);
        if (refusal !== undefined) throw new PlanRefused(refusal, plan);
      }
    }
    if (!plan.changed) {
      result = { ...base, status: 'ok', changed: false, duration_ms: 0 };
      if (plan.summary) result.summary = plan.summary;
    } else if (opts.check) {
      run.plannedChange = true;
      run.planned.push({ task: name, writes: task.footprint?.writes });
      result = { ...base, status: 'changed', changed: true, duration_ms: 0 };
      if (plan.summary) result.summary = plan.summary;
      if (plan.diff) result.diff = plan.diff;
      if (plan.predicted) result.predicted = true;
    } else {
      run.writes.push(task.footprint?.writes);
      const applied = (await withDeadline(task.apply(ctx, plan), deadline, timeout)) ?? {};
      refreshStalePlans(run, opts);
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
