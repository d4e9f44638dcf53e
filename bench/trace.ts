// Wraps a playbook's tasks to record when each check and apply ran and the connection's counters around it.
// Used only by bench/workload-traced.ts for the benchmark's accounting runs; it changes nothing a task does.
import { writeFileSync } from 'node:fs';
import type { ExecResult, HostView, Plan, Playbook, Task, TaskContext } from 'provision';

type TaskList = Exclude<Playbook['tasks'], (host: HostView) => unknown>;

/** One check or apply of one task on one host: when (epoch ms) and the connection's counters before and after. */
export interface TraceEvent {
  /** The task's place in the host's task list (handlers: -1). */
  index: number;
  name: string;
  handler: boolean;
  kind: 'check' | 'apply';
  start: number;
  end: number;
  roundTrips: [number, number];
  channels: [number, number];
}

export interface HostTrace {
  host: string;
  /** Epoch ms when the runner asked for the task list: connect and facts are done. */
  tasksBuiltAt: number;
  events: TraceEvent[];
}

/** The environment variable naming the file the traces are written to when the process exits. */
export const traceFileVar = 'PROVISION_BENCH_TRACE';

const traces = new Map<string, HostTrace>();
process.on('exit', () => {
  const file = process.env[traceFileVar];
  if (file) writeFileSync(file, JSON.stringify([...traces.values()]));
});

const now = () => performance.timeOrigin + performance.now();

function counters(ctx: TaskContext): { roundTrips: number; channels: number } {
  const s = ctx.conn.stats as { roundTrips?: number; channels?: number } | undefined;
  return { roundTrips: s?.roundTrips ?? 0, channels: s?.channels ?? 0 };
}

function hostTrace(host: string): HostTrace {
  let t = traces.get(host);
  if (!t) {
    t = { host, tasksBuiltAt: Date.now(), events: [] };
    traces.set(host, t);
  }
  return t;
}

async function recorded<T>(ctx: TaskContext, base: Pick<TraceEvent, 'index' | 'name' | 'handler' | 'kind'>, work: () => Promise<T>): Promise<T> {
  const c0 = counters(ctx);
  const start = now();
  try {
    return await work();
  } finally {
    const c1 = counters(ctx);
    hostTrace(ctx.host).events.push({
      ...base,
      start,
      end: now(),
      roundTrips: [c0.roundTrips, c1.roundTrips],
      channels: [c0.channels, c1.channels],
    });
  }
}

/** The same task, its check and apply recorded. */
export function traceTask(task: Task, index: number, handler: boolean): Task {
  const base = { index, name: task.name, handler };
  return {
    ...task,
    check: (ctx) => recorded(ctx, { ...base, kind: 'check' }, () => task.check(ctx)),
    apply: (ctx, plan) => recorded(ctx, { ...base, kind: 'apply' }, () => task.apply(ctx, plan)),
    // an apply sent with others (one group): from when its script is made to when its result is read
    ...(task.applyScript
      ? {
          applyScript: (ctx: TaskContext, plan: Plan) => {
            const s = task.applyScript?.(ctx, plan);
            if (!s) return s;
            let finish: () => void = () => {};
            const running = recorded(ctx, { ...base, kind: 'apply' }, () => new Promise<void>((resolve) => (finish = resolve)));
            return {
              script: s.script,
              done: (r: ExecResult, last: boolean) => {
                finish();
                void running;
                return s.done(r, last);
              },
            };
          },
        }
      : {}),
  };
}

function traceList(list: TaskList, next: { i: number }): TaskList {
  return list.map((t) => (Array.isArray(t) ? (traceList(t, next) as Task[]) : t ? traceTask(t, next.i++, false) : t));
}

/** The same playbook, every task and handler traced. */
export function tracePlaybook(pb: Playbook): Playbook {
  const tasks = pb.tasks;
  const handlers: NonNullable<Playbook['handlers']> = {};
  for (const [name, def] of Object.entries(pb.handlers ?? {})) {
    handlers[name] = typeof def === 'function' ? (view: HostView) => traceTask(def(view), -1, true) : traceTask(def, -1, true);
  }
  return {
    ...pb,
    tasks: (view: HostView) => {
      hostTrace(view.host).tasksBuiltAt = Date.now();
      return traceList(typeof tasks === 'function' ? tasks(view) : tasks, { i: 0 });
    },
    handlers,
  };
}
