// One report for a playbook of several plays, as Ansible's recap is one: a host's tasks of every play, in order.
import type { HostReport, HostStats, HostStatus, RunReport } from './events.js';

/** The counts of a report's summary, from its hosts. */
export function summarize(hosts: HostReport[]): RunReport['summary'] {
  const sum = (k: keyof HostStats) => hosts.reduce((n, r) => n + r.stats[k], 0);
  const count = (status: HostStatus) => hosts.filter((r) => r.status === status).length;
  return {
    hosts: hosts.length,
    ok: sum('ok'),
    changed: sum('changed'),
    failed: sum('failed'),
    skipped: sum('skipped'),
    left_out: sum('left_out'),
    unreachable: count('unreachable'),
    not_run: count('not run'),
    halted: count('halted'),
  };
}

// Which status a host keeps across plays: the worst one it had.
const severity: HostStatus[] = ['ok', 'changed', 'not run', 'halted', 'failed', 'unreachable'];
const worse = (a: HostStatus, b: HostStatus): HostStatus => (severity.indexOf(b) > severity.indexOf(a) ? b : a);

function mergeHost(a: HostReport, b: HostReport): HostReport {
  const merged: HostReport = {
    ...a,
    status: a.status === 'not run' ? b.status : b.status === 'not run' ? a.status : worse(a.status, b.status),
    stats: { ok: a.stats.ok + b.stats.ok, changed: a.stats.changed + b.stats.changed, failed: a.stats.failed + b.stats.failed, skipped: a.stats.skipped + b.stats.skipped, left_out: a.stats.left_out + b.stats.left_out },
    tasks: [...a.tasks, ...b.tasks],
    duration_ms: a.duration_ms + b.duration_ms,
  };
  for (const k of ['error', 'reason'] as const) {
    const v = a[k] ?? b[k];
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  if (a.started === undefined && b.started !== undefined) merged.started = b.started;
  for (const k of ['round_trips', 'requests', 'channels'] as const) {
    if (a[k] !== undefined || b[k] !== undefined) merged[k] = (a[k] ?? 0) + (b[k] ?? 0);
  }
  return merged;
}

/** The reports of a playbook's plays, run in order, as one report (`plays` names them with their hosts). */
export function mergeReports(reports: RunReport[], playNames: string[]): RunReport {
  const [first, ...rest] = reports;
  if (!first) throw new Error('no play ran');
  const hosts: Record<string, HostReport> = { ...first.hosts };
  for (const r of rest) {
    for (const [name, h] of Object.entries(r.hosts)) hosts[name] = hosts[name] ? mergeHost(hosts[name] as HostReport, h) : h;
  }
  const last = reports[reports.length - 1] as RunReport;
  const merged: RunReport = {
    ...first,
    finished: last.finished,
    duration_ms: Date.parse(last.finished) - Date.parse(first.started),
    batches: reports.flatMap((r) => r.batches),
    hosts,
    plays: reports.map((r, i) => ({ name: playNames[i] ?? `play ${i + 1}`, hosts: Object.keys(r.hosts) })),
    summary: summarize(Object.values(hosts)),
  };
  const halted = reports.find((r) => r.halted)?.halted;
  if (halted !== undefined) merged.halted = halted;
  if (reports.some((r) => r.interrupted)) merged.interrupted = true;
  return merged;
}
