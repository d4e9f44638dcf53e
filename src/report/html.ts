// One self-contained HTML page of a run (no network needed to open it): the rollout on a timeline, a task × host
// matrix, each distinct diff once with its hosts, and the failures with their errors. The report may come from anyone
// (a CI artifact): every value from it is escaped, and the page's Content-Security-Policy runs no script at all and
// only its own style sheet, so text that slipped through could still not run or restyle anything.
import { createHash } from 'node:crypto';
import type { TaskResult } from '../playbook/types.js';
import type { HostReport, RunReport } from '../runner/events.js';
import { formatDiff } from './diff.js';
import { reportDiffGroups } from './diff-groups.js';

/** Escapes text for an element's content or a double- or single-quoted attribute; a non-string is made one first. */
const esc = (v: unknown) =>
  String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

type Outcome = TaskResult['status'] | 'unreachable' | 'not run';

const colours: Record<Outcome, string> = {
  ok: '#3c9a4a',
  changed: '#e0a100',
  failed: '#d6333a',
  skipped: '#b8bcc4',
  unreachable: '#7a1d22',
  'not run': '#e6e8ec',
};

/** The colour of an outcome; a status the report format does not have gets the neutral one. */
const colourOf = (status: string) => (Object.hasOwn(colours, status) ? colours[status as Outcome] : colours['not run']);

const ms = (iso: string) => Date.parse(iso);
const secs = (n: number) => `${(Number(n) / 1000).toFixed(2)} s`;

/** The key of a task across hosts: its stable id when the report has one, else its name. */
const taskKey = (t: TaskResult) => t.id ?? t.name;

function timeline(report: RunReport): string {
  const t0 = ms(report.started);
  const span = Math.max(1, ms(report.finished) - t0);
  const rowH = 18;
  const labelW = 160;
  const plotW = 900;
  const x = (t: number) => labelW + ((t - t0) / span) * plotW;
  const rows: string[] = [];
  let y = 24;
  for (const [index, batch] of report.batches.entries()) {
    if (report.batches.length > 1) {
      rows.push(`<text class="batch" x="4" y="${y + 12}">batch ${index + 1}/${report.batches.length}</text>`);
      y += rowH;
    }
    for (const host of batch) {
      const h = Object.hasOwn(report.hosts, host) ? report.hosts[host] : undefined;
      if (!h) continue;
      const bars: string[] = [];
      if (h.status === 'not run' || h.started === undefined) {
        bars.push(`<rect class="notrun" x="${labelW}" y="${y + 3}" width="${plotW}" height="${rowH - 6}"><title>${esc(`${host}: ${h.reason ?? 'not run'}`)}</title></rect>`);
      } else if (h.status === 'unreachable' && h.tasks.length === 0) {
        bars.push(`<rect x="${x(ms(h.started)).toFixed(1)}" y="${y + 3}" width="${Math.max(2, (Number(h.duration_ms) / span) * plotW).toFixed(1)}" height="${rowH - 6}" fill="${colourOf('unreachable')}"><title>${esc(`${host}: unreachable: ${h.error ?? ''}`)}</title></rect>`);
      }
      const first = h.tasks.find((t) => t.started !== undefined)?.started;
      if (h.started !== undefined && first !== undefined) {
        // Connecting and gathering facts: from the host's start to its first task.
        const w = ((ms(first) - ms(h.started)) / span) * plotW;
        bars.push(`<rect class="setup" x="${x(ms(h.started)).toFixed(1)}" y="${y + 7}" width="${Math.max(0, w).toFixed(1)}" height="${rowH - 14}"><title>${esc(`${host}: connect and facts · ${secs(ms(first) - ms(h.started))}`)}</title></rect>`);
      }
      for (const t of h.tasks) {
        if (t.started === undefined) continue;
        const w = Math.max(1.5, (Number(t.duration_ms) / span) * plotW);
        bars.push(
          `<rect data-status="${esc(t.status)}" x="${x(ms(t.started)).toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colourOf(t.status)}"><title>${esc(`${host} · ${t.name}: ${t.status}${t.ignored ? ' (ignored)' : ''} · ${secs(t.duration_ms)}${t.summary ? `\n${t.summary}` : ''}${t.error ? `\n${t.error}` : ''}`)}</title></rect>`,
        );
      }
      rows.push(
        `<g data-host="${esc(host)}" data-status="${esc(h.status)}"><text x="4" y="${y + 13}">${esc(host)}</text><line x1="${labelW}" x2="${labelW + plotW}" y1="${y + rowH / 2}" y2="${y + rowH / 2}" class="lane"/>${bars.join('')}</g>`,
      );
      y += rowH;
    }
  }
  const ticks: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const tx = labelW + (plotW * i) / 10;
    ticks.push(`<line x1="${tx}" x2="${tx}" y1="16" y2="${y}" class="tick"/><text class="tick" x="${tx}" y="12">${secs((span * i) / 10)}</text>`);
  }
  return `<svg role="img" aria-label="timeline" width="${labelW + plotW + 20}" height="${y + 8}" viewBox="0 0 ${labelW + plotW + 20} ${y + 8}">${ticks.join('')}${rows.join('')}</svg>`;
}

function matrix(report: RunReport): string {
  const hosts = Object.keys(report.hosts);
  const tasks = new Map<string, string>();
  for (const h of Object.values(report.hosts)) for (const t of h.tasks) if (!tasks.has(taskKey(t))) tasks.set(taskKey(t), t.name);
  const byHost = new Map<string, Map<string, TaskResult>>(
    hosts.map((host) => [host, new Map((report.hosts[host] as HostReport).tasks.map((t) => [taskKey(t), t]))]),
  );
  const head = `<tr><th>task</th>${hosts.map((h) => `<th class="host"><span>${esc(h)}</span></th>`).join('')}</tr>`;
  const rows = [...tasks].map(([key, name]) => {
    const cells = hosts.map((host) => {
      const t = byHost.get(host)?.get(key);
      if (!t) {
        const status = (report.hosts[host] as HostReport).status;
        const cls = status === 'unreachable' ? 'unreachable' : 'none';
        return `<td class="cell ${cls}" title="${esc(`${host}: ${status === 'unreachable' ? 'unreachable' : 'did not run this task'}`)}"></td>`;
      }
      const detail = t.status === 'failed' ? t.error : t.summary;
      return `<td class="cell ${esc(t.status)}${t.ignored ? ' ignored' : ''}" title="${esc(`${host}: ${t.status}${detail ? ` — ${detail}` : ''}`)}"></td>`;
    });
    return `<tr><th class="task">${esc(name)}</th>${cells.join('')}</tr>`;
  });
  return `<table class="matrix"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function diffs(report: RunReport): string {
  const groups = reportDiffGroups(report);
  if (groups.length === 0) return '<p class="none">No file changes with a diff.</p>';
  return groups
    .map((g) => {
      const body = g.diff.map((d) => formatDiff(d, false)).join('\n');
      const lines = body.split('\n').map((l) => {
        const cls = l.startsWith('+++') || l.startsWith('---') ? 'h' : l.startsWith('+') ? 'a' : l.startsWith('-') ? 'd' : l.startsWith('@@') ? 'at' : '';
        return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
      });
      return `<div class="diff"><h3>${esc(g.task)} <small>on ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'}</small></h3><p class="hosts">${g.hosts.map(esc).join(', ')}</p><pre>${lines.join('\n')}</pre></div>`;
    })
    .join('');
}

function failures(report: RunReport): string {
  const items: string[] = [];
  for (const [host, h] of Object.entries(report.hosts)) {
    const failed = h.tasks.filter((t) => t.status === 'failed');
    for (const t of failed) {
      items.push(`<li class="failure"><b>${esc(host)}</b> · ${esc(t.name)}${t.ignored ? ' <i>(ignored)</i>' : ''}<pre>${esc([t.error, t.stderr].filter(Boolean).join('\n'))}</pre></li>`);
    }
    if ((h.status === 'unreachable' || h.status === 'failed') && failed.length === 0 && h.error) {
      items.push(`<li class="failure"><b>${esc(host)}</b> · ${esc(h.status)}<pre>${esc(h.error)}</pre></li>`);
    }
  }
  return items.length === 0 ? '<p class="none">No failures.</p>' : `<ul>${items.join('')}</ul>`;
}

const legendClass = (k: Outcome) => `legend-${k.replace(' ', '-')}`;

// The page's one style sheet; the policy allows it by its hash, and nothing else: no script, no other style, no
// fetch (an injected <script>, style attribute, <img> or <form> does nothing).
const css = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2127;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555}.chip{display:inline-block;background:#f1f3f6;border-radius:10px;padding:1px 8px;margin:4px 2px}
.halted{color:#b00020;font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.batch{font-weight:600}svg text.tick{fill:#888;text-anchor:middle}
svg line.tick{stroke:#eee}svg line.lane{stroke:#f0f0f0}svg rect.notrun{fill:#eef0f3}svg rect.setup{fill:#9aa6b8}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.scroll{overflow-x:auto}
table.matrix{border-collapse:collapse}table.matrix th.task{text-align:left;font-weight:normal;white-space:nowrap;padding-right:8px;max-width:420px;overflow:hidden;text-overflow:ellipsis}
table.matrix th.host{height:90px;vertical-align:bottom;font-weight:normal;font-size:11px}
table.matrix th.host span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
td.cell{width:14px;height:14px;border:1px solid #fff}
td.ok{background:${colours.ok}}td.changed{background:${colours.changed}}td.failed{background:${colours.failed}}
td.failed.ignored{background:repeating-linear-gradient(45deg,${colours.failed},${colours.failed} 3px,#f7c9cb 3px,#f7c9cb 6px)}
td.skipped{background:${colours.skipped}}td.unreachable{background:${colours.unreachable}}td.none{background:${colours['not run']}}
.diff pre,.failure pre{background:#f7f8fa;padding:8px;overflow-x:auto;font:12px ui-monospace,monospace;white-space:pre}
.diff .a{color:#17692a}.diff .d{color:#b00020}.diff .at{color:#0a6e8a}.diff .h{font-weight:600}.hosts{color:#555;margin:0}
.none{color:#777}
${(Object.keys(colours) as Outcome[]).map((k) => `.legend i.${legendClass(k)}{background:${colours[k]}}`).join('')}
`;
const policy = [
  "default-src 'none'",
  "script-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(css).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The page, as one string: inline CSS and SVG only, no script, nothing fetched. */
export function renderHtmlReport(report: RunReport): string {
  const s = report.summary;
  const chips = [
    ['hosts', s.hosts],
    ['changed', s.changed],
    ['failed', s.failed],
    ['unreachable', s.unreachable],
    ['not run', s.not_run],
    ['skipped', s.skipped],
  ]
    .map(([k, v]) => `<span class="chip" data-count="${k}">${k}: <b>${esc(v)}</b></span>`)
    .join(' ');
  const title = `provision: ${report.playbook}${report.check ? ' (check mode)' : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style></head><body>
<header><h1>${esc(title)}</h1>
<p class="meta">started ${esc(report.started)} · ${secs(report.duration_ms)}${report.version ? ` · provision ${esc(report.version)}` : ''}</p>
<p>${chips}</p>
${report.halted ? `<p class="halted">Rollout halted: ${esc(report.halted)}</p>` : ''}
</header>
<h2>Timeline</h2>
<p class="legend">${(Object.keys(colours) as Outcome[]).map((k) => `<span><i class="${legendClass(k)}"></i>${k}</span>`).join('')}</p>
<div class="scroll">${timeline(report)}</div>
<h2>Tasks × hosts</h2>
<div class="scroll">${matrix(report)}</div>
<h2>Changes</h2>
${diffs(report)}
<h2>Failures</h2>
${failures(report)}
</body></html>
`;
}
