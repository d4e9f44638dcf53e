// A JSON report read back from disk (a CI artifact anyone may have written): its shape is checked before any view is
// made of it, so a field is what the report format says it is, or the file is refused naming the field.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { z } from '../modules/lib/zod.js';
import type { RunReport } from '../runner/events.js';

const count = z.number().int().nonnegative();
const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date and time');
const text = z.string().optional();

const fileDiff = z.looseObject({ path: z.string(), before: z.string().nullable(), after: z.string().nullable(), note: text });

const task = z.looseObject({
  name: z.string(),
  module: z.string(),
  status: z.enum(['ok', 'changed', 'skipped', 'failed']),
  changed: z.boolean(),
  summary: text,
  diff: z.array(fileDiff).optional(),
  error: text,
  stdout: text,
  stderr: text,
  rc: z.number().optional(),
  predicted: z.boolean().optional(),
  ignored: z.boolean().optional(),
  id: text,
  started: time.optional(),
  duration_ms: z.number().nonnegative(),
});

const host = z.looseObject({
  status: z.enum(['ok', 'changed', 'failed', 'unreachable', 'not run', 'halted']),
  stats: z.looseObject({ ok: count, changed: count, failed: count, skipped: count }),
  tasks: z.array(task),
  error: text,
  reason: text,
  started: time.optional(),
  duration_ms: z.number().nonnegative(),
});

const report = z.looseObject({
  version: text,
  playbook: z.string(),
  check: z.boolean(),
  started: time,
  finished: time,
  duration_ms: z.number().nonnegative(),
  batches: z.array(z.array(z.string())),
  halted: text,
  interrupted: z.boolean().optional(),
  retry_file: text,
  hosts: z.record(z.string(), host),
  plays: z.array(z.looseObject({ name: z.string(), hosts: z.array(z.string()) })).optional(),
  diff_groups: z.array(z.looseObject({ task: z.string(), hosts: z.array(z.string()), diff: z.array(fileDiff) })).optional(),
  summary: z.looseObject({
    hosts: count,
    ok: count,
    changed: count,
    failed: count,
    skipped: count,
    unreachable: count,
    not_run: count,
    halted: count.optional(),
  }),
});

/** `hosts["web 1"].tasks[2].status`: where in the report a field is. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out || '(the whole file)';
}

/** Checks that `value` is a report written by `provision run --report`; throws InputError naming `file` and the field. */
export function checkRunReport(value: unknown, file: string): RunReport {
  const r = report.safeParse(value);
  if (r.success) return value as RunReport; // as read: the checks transform nothing
  const issue = r.error.issues[0]!;
  throw new InputError(`${file}: not a report written by provision run --report: ${fieldPath(issue.path)}: ${issue.message}`);
}

/** Reads and checks a JSON report file (see checkRunReport). */
export function readRunReport(file: string): RunReport {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: cannot read a JSON report: ${(err as Error).message}`);
  }
  return checkRunReport(value, file);
}
