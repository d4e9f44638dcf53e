// Where a provision run's time and round trips go: per phase and per step, from the JSON report and the task traces.
import type { HostTrace, TraceEvent } from './trace.js';

/** The parts of provision's JSON report the benchmark reads. */
export interface BenchReport {
  started: string;
  finished: string;
  duration_ms: number;
  hosts: Record<
    string,
    {
      status: string;
      error?: string;
      duration_ms: number;
      round_trips?: number;
      requests?: number;
      channels?: number;
      /** Per-phase wall times on this host, when the runner reports them (preferred over the traces). */
      phases_ms?: Partial<Record<'connect' | 'facts' | 'check' | 'apply' | 'handlers', number>>;
      stats: { ok: number; changed: number; failed: number; skipped: number };
      tasks: Array<{ name: string; module: string; status: string; changed: boolean; duration_ms: number }>;
    }
  >;
  summary: { hosts: number; changed: number; failed: number; unreachable: number; not_run: number };
}

export const phases = ['startup', 'connect+facts', 'check', 'apply', 'handlers', 'other', 'exit'] as const;
export type Phase = (typeof phases)[number];

/**
 * Milliseconds per phase, the median over hosts. `startup` (spawn to the run's start: node, imports, the inventory, the
 * playbook through tsx) and `exit` (the run's end to the process's: recap, report, closing) are the process's own.
 * Steps that run at the same time count once (see splitBusyTime).
 */
export type PhaseTimes = Record<Phase, number>;

/**
 * A step of a host's run: one check or apply, or several that overlapped in time (the runner planning tasks together),
 * with the connection's round trips and channels during it.
 */
export interface Step {
  name: string;
  roundTrips: number;
  channels: number;
  ms: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Splits the time the events cover between handlers, apply and check, counting every moment once: a moment when an
 * apply runs is apply time even if checks run too (the runner may plan later tasks while it applies earlier ones).
 */
export function splitBusyTime(events: TraceEvent[]): { check: number; apply: number; handlers: number } {
  const out = { check: 0, apply: 0, handlers: 0 };
  const edges = [...new Set(events.flatMap((e) => [e.start, e.end]))].sort((a, b) => a - b);
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i] as number;
    const b = edges[i + 1] as number;
    const active = events.filter((e) => e.start <= a && e.end >= b);
    if (active.length === 0) continue;
    if (active.some((e) => e.handler)) out.handlers += b - a;
    else if (active.some((e) => e.kind === 'apply')) out.apply += b - a;
    else out.check += b - a;
  }
  return out;
}

/** Groups events that overlap in time, in order. */
export function overlapGroups(events: TraceEvent[]): TraceEvent[][] {
  const sorted = [...events].sort((a, b) => a.start - b.start);
  const groups: TraceEvent[][] = [];
  let end = -Infinity;
  for (const e of sorted) {
    const last = groups.at(-1);
    if (last && e.start < end) {
      last.push(e);
      end = Math.max(end, e.end);
    } else {
      groups.push([e]);
      end = e.end;
    }
  }
  return groups;
}

/** Phases of one run: from the report's phases_ms when present, else from the traces of bench/workload-traced.ts. */
export function computePhases(report: BenchReport, traces: HostTrace[], run: { wallMs: number; startedAt: number }): PhaseTimes {
  const start = Date.parse(report.started);
  const startup = start - run.startedAt;
  const perHost = Object.entries(report.hosts).map(([name, h]) => {
    const t = traces.find((x) => x.host === name);
    const own = h.phases_ms ?? {};
    const connectFacts = own.connect !== undefined && own.facts !== undefined ? own.connect + own.facts : undefined;
    const busy = splitBusyTime(t?.events ?? []);
    const p = {
      'connect+facts': connectFacts ?? (t ? t.tasksBuiltAt - start : NaN),
      check: own.check ?? busy.check,
      apply: own.apply ?? busy.apply,
      handlers: own.handlers ?? busy.handlers,
    };
    return { ...p, other: h.duration_ms - p['connect+facts'] - p.check - p.apply - p.handlers };
  });
  const pick = (k: keyof (typeof perHost)[number]) => median(perHost.map((p) => p[k]));
  return {
    startup,
    'connect+facts': pick('connect+facts'),
    check: pick('check'),
    apply: pick('apply'),
    handlers: pick('handlers'),
    other: pick('other'),
    exit: run.wallMs - startup - report.duration_ms,
  };
}

/** A task's name with the host's root written `$root`, so the same task has one name on every host. */
function plainName(name: string, root: string | undefined): string {
  return root ? name.split(root).join('$root') : name;
}

function stepName(group: TraceEvent[], root: string | undefined): string {
  const label = (e: TraceEvent) => `${e.handler ? 'handler ' : ''}${e.kind} ${plainName(e.name, root)}`;
  const first = group[0] as TraceEvent;
  if (group.length === 1) return label(first);
  const kinds = [...new Set(group.map((e) => e.kind))].join('+');
  const idx = group.filter((e) => e.index >= 0).map((e) => e.index + 1);
  const range = idx.length > 0 ? ` (tasks ${Math.min(...idx)}–${Math.max(...idx)})` : '';
  return `${group.length} ${kinds}s at once${range}`;
}

/** One host's steps: connect and facts first, then each check/apply or group of overlapping ones. */
export function hostSteps(trace: HostTrace, startedAt: number, root: string | undefined): Step[] {
  const groups = overlapGroups(trace.events);
  const firstEvent = groups[0]?.[0];
  const steps: Step[] = [
    {
      name: '(connect + facts)',
      roundTrips: firstEvent ? firstEvent.roundTrips[0] : NaN,
      channels: firstEvent ? firstEvent.channels[0] : NaN,
      ms: trace.tasksBuiltAt - startedAt,
    },
  ];
  for (const g of groups) {
    steps.push({
      name: stepName(g, root),
      roundTrips: Math.max(...g.map((e) => e.roundTrips[1])) - Math.min(...g.map((e) => e.roundTrips[0])),
      channels: Math.max(...g.map((e) => e.channels[1])) - Math.min(...g.map((e) => e.channels[0])),
      ms: Math.max(...g.map((e) => e.end)) - Math.min(...g.map((e) => e.start)),
    });
  }
  return steps;
}

/** Steps of a run, the median over hosts whose steps have the same names as the first host's (in host order). */
export function runSteps(report: BenchReport, traces: HostTrace[], rootOf: (host: string) => string | undefined): Step[] {
  const start = Date.parse(report.started);
  const perHost = [...traces].sort((a, b) => a.host.localeCompare(b.host)).map((t) => hostSteps(t, start, rootOf(t.host)));
  const first = perHost[0];
  if (!first) return [];
  const alike = perHost.filter((s) => s.length === first.length && s.every((x, i) => x.name === first[i]?.name));
  return first.map((step, i) => ({
    name: step.name,
    roundTrips: median(alike.map((s) => s[i]?.roundTrips ?? NaN)),
    channels: median(alike.map((s) => s[i]?.channels ?? NaN)),
    ms: median(alike.map((s) => s[i]?.ms ?? NaN)),
  }));
}
