// The recap table printed at the end of a run, computed from the report alone (as Ansible's is).
import type { RunReport } from '../runner/events.js';

/** Formats `host : ok=… changed=… failed=… skipped=… unreachable=…` lines, plus the totals and halts. */
export function formatRecap(report: RunReport): string {
  const names = Object.keys(report.hosts);
  const width = Math.max(4, ...names.map((n) => n.length));
  const lines = [`PLAY RECAP${report.check ? ' (check mode: nothing was changed)' : ''}`];
  for (const name of names) {
    const h = report.hosts[name];
    if (!h) continue;
    const s = h.stats;
    const cols = [
      `ok=${s.ok}`,
      `changed=${s.changed}`,
      `failed=${s.failed}`,
      `skipped=${s.skipped}`,
      `unreachable=${h.status === 'unreachable' ? 1 : 0}`,
      `not_run=${h.status === 'not run' ? 1 : 0}`,
    ].map((c) => c.padEnd(15));
    const time = h.status === 'not run' ? '' : `${(h.duration_ms / 1000).toFixed(2)}s`;
    lines.push(`${name.padEnd(width)} : ${cols.join('')}${time}`);
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
