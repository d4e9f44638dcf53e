// A JUnit XML report of a run, shaped as ansible-core's `junit` callback writes it, so CI systems show a run as tests.
import { basename } from 'node:path';
import type { RunReport } from '../runner/events.js';

/** XML 1.0 allows neither most control characters nor lone surrogates: they become U+FFFD, the rest is escaped. */
function xml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

interface Case {
  name: string;
  classname: string;
  ms: number;
  failure?: { message: string; output: string };
  skipped?: string;
  out?: string;
}

/**
 * One test case per host × task (`[host] play: task`, as Ansible names them; classname the host, so CI groups by
 * host), failures with their error, skips with why. A host that could not be reached or did not run is one case too.
 */
export function formatJunit(report: RunReport, playName: string): string {
  const cases: Case[] = [];
  for (const [host, h] of Object.entries(report.hosts)) {
    for (const t of h.tasks) {
      const c: Case = { name: `[${host}] ${playName}: ${t.name}`, classname: host, ms: t.duration_ms };
      if (t.status === 'failed' && !t.ignored) {
        c.failure = { message: (t.error ?? 'failed').split('\n')[0] ?? '', output: [t.error, t.stderr].filter(Boolean).join('\n') };
      } else if (t.status === 'skipped') {
        c.skipped = t.summary ?? 'skipped';
      } else if (t.summary) {
        c.out = `${t.status}: ${t.summary}`;
      }
      cases.push(c);
    }
    if (h.status === 'unreachable' || h.status === 'not run' || (h.status === 'failed' && !h.tasks.some((t) => t.status === 'failed'))) {
      const what = h.status === 'not run' ? h.reason ?? 'not run' : h.error ?? h.status;
      const c: Case = { name: `[${host}] ${playName}: ${h.status === 'unreachable' ? 'connect' : h.status}`, classname: host, ms: 0 };
      if (h.status === 'not run') c.skipped = what;
      else c.failure = { message: what.split('\n')[0] ?? '', output: what };
      cases.push(c);
    }
  }
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const suite = basename(report.playbook).replace(/\.[cm]?[tj]s$/, '');
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<testsuites disabled="0" errors="0" failures="${failures}" tests="${cases.length}" time="${seconds(report.duration_ms)}">`,
    `  <testsuite name="${xml(suite)}" disabled="0" errors="0" failures="${failures}" skipped="${skipped}" tests="${cases.length}" time="${seconds(report.duration_ms)}" timestamp="${xml(report.started)}">`,
  ];
  for (const c of cases) {
    const open = `    <testcase name="${xml(c.name)}" classname="${xml(c.classname)}" time="${seconds(c.ms)}"`;
    if (c.failure) {
      lines.push(`${open}>`, `      <failure message="${xml(c.failure.message)}" type="failure">${xml(c.failure.output)}</failure>`, '    </testcase>');
    } else if (c.skipped !== undefined) {
      lines.push(`${open}>`, `      <skipped message="${xml(c.skipped)}"/>`, '    </testcase>');
    } else if (c.out) {
      lines.push(`${open}>`, `      <system-out>${xml(c.out)}</system-out>`, '    </testcase>');
    } else {
      lines.push(`${open}/>`);
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
