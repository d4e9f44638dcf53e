// A host's life in a play: connect (with retries), facts, the task list, handlers, the health gate, the report.
import type { BecomeSettings, Connection } from '../connection/types.js';
import { AuthenticationError, ConnectionError } from '../errors.js';
import { gatherFacts } from '../facts/gather.js';
import { apacheLayoutFor } from '../facts/parse.js';
import type { Facts } from '../facts/types.js';
import { flushHandlersModule } from '../playbook/meta.js';
import type { HostView, Task } from '../playbook/types.js';
import { redact } from '../secret.js';
import type { Outcome } from './step.js';
import { PlanCache } from './plan-cache.js';
import { pathReads } from '../modules/lib/path-reads.js';
import { buildOrFail, describeValue, isTask, resolveTasks } from './task-list.js';
import { errorMessage, runTask, untilInterrupted } from './task.js';
import { passwordKnown, settleBecome, taskContext } from './context.js';
import type { HostReport, HostStats, RunEvent } from './events.js';
import type { HostRun, RunOptions } from './types.js';

/** A host's counts before its first task. */
export const emptyStats = (): HostStats => ({ ok: 0, changed: 0, failed: 0, skipped: 0, left_out: 0 });

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


/** Runs the play on one host and returns its report; throws only a PlaybookError (a mistake in building the play). */
export async function runHost(
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
  let become: BecomeSettings;
  try {
    emit({ type: 'host-phase', host, phase: 'connect' });
    // in the connect's try: a host whose connection variables are wrong is unreachable, as when its connect fails
    become = opts.becomeOf?.(host, vars) ?? settleBecome({}, playbook);
    conn = await connectWithRetries(() => opts.connect(host, vars, become), opts.connectRetries ?? 2, opts.signal);
    // The run owns the host: what its checks read stays known until it asks the host anything else.
    pathReads(conn).remember();
  } catch (err) {
    report.status = 'unreachable';
    report.error = redact(errorMessage(err));
    return finish();
  }
  try {
    try {
      emit({ type: 'host-phase', host, phase: 'facts' });
      facts = playbook.gatherFacts === false ? unknownFacts(host) : await untilInterrupted(gatherFacts(conn), opts.interrupt);
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
      become: become.become,
      registered: {},
      report,
      planned: [],
      plans: new PlanCache((task) => task.check(taskContext(run, task, opts, undefined, true))),
      next: [],
      ahead: new Map(),
      started: opts.startAtTask === undefined,
    };
    const view: HostView = { host, vars, facts, baseDir: opts.baseDir };
    const tasks = buildOrFail(() => resolveTasks(playbook, view), 'building the task list', host, opts.playbookPath);
    // The facts say whether sudo works without a password: one clear line before the first task, not a sudo prompt.
    const becomes = tasks.some((t) => t.options.become ?? run.become);
    if (becomes && playbook.gatherFacts !== false && !facts.sudo && opts.becomeOf !== undefined && !passwordKnown(become)) {
      report.status = 'failed';
      report.error = `sudo on ${host} needs a password: run with -K, or set ansible_become_password`;
      report.stats.failed++;
      return finish();
    }
    for (const task of tasks) run.plans.prefetch(task);
    // The gate's check goes with the others too: on a host where nothing applies, it holds at the gate's turn.
    const gateTask = (): Task => {
      const gateDef = playbook.gate as NonNullable<typeof playbook.gate>;
      const built = buildOrFail(() => {
        const b = typeof gateDef === 'function' ? gateDef(view) : gateDef;
        if (!isTask(b)) throw new Error(`it is not a task (got ${describeValue(b)})`);
        return b;
      }, 'building the gate', host, opts.playbookPath);
      return { ...built, name: `gate: ${built.name}` };
    };
    let earlyGate: Task | undefined;
    if (playbook.gate && !opts.check) {
      try {
        earlyGate = gateTask();
        run.plans.prefetch(earlyGate);
      } catch {
        earlyGate = undefined; // said when the gate's turn comes, as without the early check
      }
    }
    const ids = tasks.map((task, i) => ({ task, id: `${opts.idPrefix ?? ''}task ${i + 1}` }));
    const notified = new Set<string>();
    const handlers = playbook.handlers ?? {};
    let builtHandlers: Array<{ name: string; task: Task; answersTo: Set<string> }> | undefined;
    /** Runs the notified handlers, in the order the playbook defines them (as Ansible's), and forgets them. */
    const flushHandlers = async (): Promise<Outcome> => {
      run.next = [];
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
      // an apply already sent ahead has run on the host, or will: its task is still recorded
      if ((opts.signal?.aborted || fatal.aborted) && !run.ahead.has(task)) {
        // Cut short: the host goes into the retry file, and says how much of its play did not run.
        report.reason = `${opts.signal?.aborted ? 'interrupted' : 'halted'}: ${tasks.length - index} of ${tasks.length} tasks not run`;
        report.status = 'halted';
        break;
      }
      run.next = ids.slice(index + 1);
      // a flush is no task of the plan cache's: its turn passes (what its handlers apply is recorded as they do)
      if (task.module === flushHandlersModule) run.plans.forget(task);
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
    if (!run.started && !failed) {
      failed = true;
      report.error = `--start-at-task ${JSON.stringify(opts.startAtTask?.name)}: no task of this name on ${host}`;
      report.stats.failed++;
    }
    const cutShort = report.status === 'halted';
    // A saved plan refused part-way: what the tasks before the refusal changed is live, so the handlers they notified
    // run (as Ansible's force_handlers), or new code would stay unserved until something else reloads it.
    if ((!failed && !cutShort) || opts.forceHandlers || run.planRefused) {
      const outcome = await flushHandlers();
      if (outcome === 'unreachable') return finish();
      if (outcome === 'failed') failed = true;
    }
    if (playbook.gate && !failed && !cutShort && report.stats.failed === 0 && !opts.signal?.aborted) {
      const gate: Task = earlyGate ?? gateTask();
      run.next = [];
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

