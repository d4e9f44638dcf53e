// Identical changes on many hosts shown once: 50 web servers with the same new config are one hunk and a host list.
import type { FileDiff } from '../playbook/types.js';
import type { RunReport } from '../runner/events.js';
import { formatDiff } from './diff.js';

/** One change shared by hosts: the same task and byte-identical diffs. */
export interface DiffGroup {
  task: string;
  diff: FileDiff[];
  hosts: string[];
}

/** Groups `[host, task, diffs]` triples whose task name and diffs are identical, in first-seen order. */
export function groupDiffs(items: Iterable<{ host: string; task: string; diff: FileDiff[] }>): DiffGroup[] {
  const groups = new Map<string, DiffGroup>();
  for (const { host, task, diff } of items) {
    const key = JSON.stringify([task, diff]);
    const group = groups.get(key);
    if (group) group.hosts.push(host);
    else groups.set(key, { task, diff, hosts: [host] });
  }
  return [...groups.values()];
}

/** The diff groups of a finished run (changed tasks that carry a diff). */
export function reportDiffGroups(report: RunReport): DiffGroup[] {
  return groupDiffs(
    Object.entries(report.hosts).flatMap(([host, h]) =>
      h.tasks.filter((t) => t.status === 'changed' && t.diff && t.diff.length > 0).map((t) => ({ host, task: t.name, diff: t.diff ?? [] })),
    ),
  );
}

/** `web01`, `web01, web02`, or `10 hosts: web01 … web10` when a list would not fit on a line. */
export function hostList(hosts: string[]): string {
  if (hosts.length <= 3) return hosts.join(', ');
  return `${hosts.length} hosts: ${hosts[0]} … ${hosts[hosts.length - 1]}`;
}

/** A group as printed after a batch: the diff once, then the hosts it applies to. */
export function formatDiffGroup(g: DiffGroup, color: boolean): string {
  const body = g.diff.map((d) => formatDiff(d, color).replace(/\n$/, '')).join('\n');
  return `${body}\n  ↳ ${g.task} on ${hostList(g.hosts)}`;
}
