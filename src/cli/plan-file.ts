// Saved plans: `run --check --plan-out plan.json` writes what would change; `apply plan.json` applies exactly that and
// refuses, per host, a task whose fresh check no longer matches, as Terraform refuses a stale plan.
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { FileDiff, Plan } from '../playbook/types.js';
import type { PlanSeen } from '../runner/run.js';
import { redact } from '../secret.js';

export const planFormat = 'provision-plan/1';

/** What the plan says one task on one host would do. */
export interface PlannedTask {
  id: string;
  name: string;
  module: string;
  changed: boolean;
  summary?: string;
  diff?: FileDiff[];
  /**
   * SHA-256 of what the plan shows (changed, summary, diff, sealed), recomputed when the plan is read; null when an
   * earlier planned change may alter what the check found.
   */
  fingerprint: string | null;
  /** Set when secrets were redacted from the summary or diff: a salted scrypt of the real values, binding them unshown. */
  sealed?: string;
}

/** The options of the run that made the plan, replayed by `apply` (connection options come from `apply` itself). */
export interface PlanOptions {
  inventory: string[];
  limit?: string;
  extraVars: string[];
  become: boolean;
  becomeUser?: string;
  user?: string;
  privateKey?: string;
  tags?: string;
  skipTags?: string;
  timeout?: number;
}

export interface PlanFile {
  format: typeof planFormat;
  version: string;
  created: string;
  playbook: { path: string; sha256: string };
  options: PlanOptions;
  hosts: Record<string, PlannedTask[]>;
  /** SHA-256 of everything above: a plan edited by hand is refused. */
  checksum: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** What a plan file shows of a check's result: secrets as ********, nothing of a task marked secret (as the report). */
function shownOf(plan: Plan, secretTask: boolean): { summary?: string; diff?: FileDiff[] } {
  if (secretTask) return plan.changed ? { summary: 'output hidden: the task is marked secret' } : {};
  const shown: { summary?: string; diff?: FileDiff[] } = {};
  if (plan.summary !== undefined) shown.summary = redact(plan.summary);
  if (plan.diff !== undefined) {
    shown.diff = plan.diff.map((d) => ({
      ...d,
      path: redact(d.path),
      before: d.before === null ? null : redact(d.before),
      after: d.after === null ? null : redact(d.after),
      ...(d.note === undefined ? {} : { note: redact(d.note) }),
    }));
  }
  return shown;
}

/**
 * A salted scrypt of the real values: slow to guess a secret from, the salt kept beside it (`scrypt:SALT:HASH`).
 * N = 2^12 (~4 MiB, a few ms): it runs once a sealed task and host, at plan and at apply, on the event loop.
 */
function sealOf(real: string, salt = randomBytes(16).toString('hex')): string {
  return `scrypt:${salt}:${scryptSync(real, salt, 32, { N: 4096 }).toString('hex')}`;
}

/** The fingerprint of what an entry shows (and seals): recomputable from the entry, so an edited diff is found. */
function fingerprintOfEntry(e: Pick<PlannedTask, 'changed' | 'summary' | 'diff' | 'sealed'>): string {
  const shown = [e.changed, e.summary ?? null, e.diff ?? null, null];
  return sha256(JSON.stringify(e.sealed === undefined ? shown : [...shown, e.sealed]));
}

/**
 * The plan-file entry of a check's result: what may be shown, sealed where secrets were hidden (with the salt of
 * `sealedAs`, to compare a fresh check with a saved entry), and its fingerprint.
 */
function entryOf(seen: PlanSeen, sealedAs?: string): Pick<PlannedTask, 'changed' | 'summary' | 'diff' | 'sealed' | 'fingerprint'> {
  const { plan } = seen;
  const entry: Pick<PlannedTask, 'changed' | 'summary' | 'diff' | 'sealed' | 'fingerprint'> = { changed: plan.changed, ...shownOf(plan, seen.secret === true), fingerprint: null };
  const real = JSON.stringify([plan.changed, plan.summary ?? null, plan.diff ?? null]);
  if (JSON.stringify([entry.changed, entry.summary ?? null, entry.diff ?? null]) !== real) {
    entry.sealed = sealOf(real, sealedAs?.split(':')[1]);
  }
  entry.fingerprint = fingerprintOfEntry(entry);
  return entry;
}

/** The playbook file's own hash; its imports show up as the tasks and checks they make. */
export function playbookHash(path: string): string {
  return sha256(readFileSync(path));
}

const checksumOf = (plan: Omit<PlanFile, 'checksum'>) => sha256(JSON.stringify(plan));

/** Collects the plans a check run sees into a plan file. */
export function createPlanRecorder() {
  const hosts: Record<string, PlannedTask[]> = {};
  return {
    record(seen: PlanSeen & { dependsOnEarlier: boolean }): void {
      const entry: PlannedTask = { id: seen.id, name: seen.name, module: seen.module, ...entryOf(seen) };
      // Not seen exactly: nothing to bind (and no sealed secrets to keep).
      if (seen.plan.predicted || seen.dependsOnEarlier) {
        entry.fingerprint = null;
        delete entry.sealed;
      }
      (hosts[seen.host] ??= []).push(entry);
    },
    /** What was recorded so far, by host (a worker sends its shard's to the coordinator). */
    entries: (): Record<string, PlannedTask[]> => hosts,
    /** The plan file for these hosts (every host of the run, with an empty list for one that planned nothing). */
    finish: (meta: PlanMeta): PlanFile => planFileOf(hosts, meta),
  };
}

export interface PlanMeta {
  version: string;
  playbookPath: string;
  options: PlanOptions;
  hosts: string[];
}

/** A plan file of recorded entries: one controller's, or the shards' gathered by a coordinator. */
export function planFileOf(entries: Record<string, PlannedTask[]>, meta: PlanMeta): PlanFile {
  const body: Omit<PlanFile, 'checksum'> = {
    format: planFormat,
    version: meta.version,
    created: new Date().toISOString(),
    playbook: { path: meta.playbookPath, sha256: playbookHash(meta.playbookPath) },
    options: meta.options,
    hosts: Object.fromEntries(meta.hosts.map((h) => [h, entries[h] ?? []])),
  };
  return { ...body, checksum: checksumOf(body) };
}

/**
 * A saved plan's entries for some of its hosts, received as data (a shard's part of the plan the coordinator read):
 * checked as a plan file's are (each fingerprint recomputed), for `vetAgainst` on a worker.
 */
export function planPart(where: string, hosts: unknown): Pick<PlanFile, 'hosts'> {
  if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) throw new InputError(`${where}: its plan is not a map of hosts to tasks`);
  for (const [host, tasks] of Object.entries(hosts)) checkEntries(where, host, tasks);
  return { hosts: hosts as PlanFile['hosts'] };
}

/** Reads a plan file, refusing one that is not a plan, was edited, or was made for a playbook that changed since. */
export function readPlanFile(path: string): PlanFile {
  let plan: PlanFile;
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as PlanFile;
  } catch (err) {
    throw new InputError(`${path}: cannot read a plan: ${(err as Error).message}`);
  }
  if (plan?.format !== planFormat) throw new InputError(`${path}: not a plan written by provision run --check --plan-out (format ${planFormat})`);
  const { checksum, ...body } = plan;
  if (checksum !== checksumOf(body)) {
    throw new InputError(`${path}: the plan was edited after it was written (its checksum does not match): make a new one with --check --plan-out`);
  }
  let now: string;
  try {
    now = playbookHash(plan.playbook.path);
  } catch {
    throw new InputError(`${path}: the plan's playbook ${plan.playbook.path} cannot be read (run apply from the folder the plan was made in)`);
  }
  if (now !== plan.playbook.sha256) {
    throw new InputError(`${path}: the playbook ${plan.playbook.path} changed since the plan was made: make a new plan`);
  }
  for (const [host, tasks] of Object.entries(plan.hosts)) checkEntries(path, host, tasks);
  return plan;
}

/**
 * The checksum is unkeyed (anyone can recompute it): what binds a plan to what it shows is that each task's
 * fingerprint is recomputed from the summary and diff it shows, and `apply` compares the fresh check's with it.
 */
function checkEntries(path: string, host: string, tasks: unknown): void {
  if (!Array.isArray(tasks)) throw new InputError(`${path}: host ${host}: not a list of tasks`);
  let changedBefore = false;
  for (const t of tasks as PlannedTask[]) {
    const at = `${path}: host ${host}, ${typeof t?.id === 'string' ? t.id : 'a task'}`;
    if (typeof t?.id !== 'string' || typeof t.name !== 'string' || typeof t.module !== 'string' || typeof t.changed !== 'boolean') {
      throw new InputError(`${at}: not a planned task (id, name, module and changed are needed)`);
    }
    if (t.fingerprint === null) {
      // Only a task after a planned change can have read what that change would write (see createPlanRecorder).
      if (!changedBefore) throw new InputError(`${at} "${t.name}": no fingerprint, but no planned change comes before it: the plan was edited; make a new one`);
    } else if (t.fingerprint !== fingerprintOfEntry(t)) {
      throw new InputError(`${at} "${t.name}": its summary or diff is not what its fingerprint says the check found (the plan was edited); make a new one`);
    }
    changedBefore ||= t.changed;
  }
}

/**
 * Decides, for a real run from a plan, whether a task's fresh plan is the one the saved plan showed: the same task at
 * the same place, and the same check result (or, for a task that depended on an earlier planned change, a change
 * where the plan showed one). Returns why not, or undefined.
 */
export function vetAgainst(plan: Pick<PlanFile, 'hosts'>, seen: PlanSeen): string | undefined {
  const planned = plan.hosts[seen.host]?.find((t) => t.id === seen.id);
  if (!planned || planned.name !== seen.name || planned.module !== seen.module) {
    return `not in the plan: the plan has no task "${seen.name}" (${seen.id}) for ${seen.host}; make a new plan`;
  }
  const fresh = seen.plan;
  if (!fresh.changed) return undefined; // already as wanted: nothing to apply, nothing the plan did not show
  if (!planned.changed) return `the host changed since the plan: the plan showed no change here, now: ${fresh.summary ?? 'a change'}`;
  if (planned.fingerprint !== null && planned.fingerprint !== entryOf(seen, planned.sealed).fingerprint) {
    return `the host changed since the plan: planned "${planned.summary ?? 'a change'}", now "${fresh.summary ?? 'a change'}" (the new diff is in the report)`;
  }
  return undefined;
}
