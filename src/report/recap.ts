// The recap table printed at the end of a run, computed from the report alone (as Ansible's is).
import type { RunReport } from '../runner/events.js';

/**
 * Formats Ansible's recap line per host — `ok` counts changed tasks too, tasks left out by --tags/--skip-tags are not
 * counted — then provision's own `not_run` and time, the totals and halts.
 */
export function formatRecap(report: RunReport): string {
  const names = Object.keys(report.hosts);
  const width = Math.max(26, ...names.map((n) => n.length));
  const lines = [`PLAY RECAP${report.check ? ' (check mode: nothing was changed)' : ''}`];
  for (const name of names) {
    const h = report.hosts[name];
    if (!h) continue;
    const s = h.stats;
    // as Ansible's callback writes them: `name=%-4s`, in its order
    const cols = [
      ['ok', s.ok + s.changed],
      ['changed', s.changed],
      ['unreachable', h.status === 'unreachable' ? 1 : 0],
      ['failed', s.failed],
      ['skipped', s.skipped - (s.left_out ?? 0)],
      ['rescued', 0],
      ['ignored', h.tasks.filter((t) => t.ignored).length],
      ['not_run', h.status === 'not run' ? 1 : 0],
    ].map(([k, n]) => `${k}=${String(n).padEnd(4)}`);
    const time = h.status === 'not run' ? '' : ` ${(h.duration_ms / 1000).toFixed(2)}s`;
    lines.push(`${name.padEnd(width)} : ${cols.join(' ')}${time}`);
    if (h.error) lines.push(`${' '.repeat(width)}   ${h.status}: ${h.error.split('\n')[0]}`);
    if (h.reason) lines.push(`${' '.repeat(width)}   ${h.reason}`);
  }
  const s = report.summary;
  lines.push(
    `${s.hosts} hosts: ${s.changed} changed, ${s.failed} failed, ${s.unreachable} unreachable, ${s.not_run} not run, ` +
      `${s.halted} halted ` +
      `in ${(report.duration_ms / 1000).toFixed(2)}s`,
  );
  if (report.halted) lines.push(`rollout halted: ${report.halted}`);
  if (report.retry_file) lines.push(`retry with: --limit @${report.retry_file}`);
  return lines.join('\n');
}
