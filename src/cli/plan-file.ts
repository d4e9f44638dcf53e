// Saved plans: `run --check --plan-out plan.json` writes what would change; `apply plan.json` applies exactly that and
// refuses, per host, a task whose fresh check no longer matches, as Terraform refuses a stale plan.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { FileDiff, Plan } from '../playbook/types.js';
import type { PlanSeen } from '../runner/run.js';

export const planFormat = 'provision-plan/1';

/** What the plan says one task on one host would do. */
export interface PlannedTask {
  id: string;
  name: string;
  module: string;
  changed: boolean;
  summary?: string;
  diff?: FileDiff[];
  /** SHA-256 of what the check found (changed, summary, diff); null when an earlier planned change may alter it. */
  fingerprint: string | null;
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

/** The fingerprint of a check's result: equal plans have equal fingerprints, whatever module-private data they carry. */
export function fingerprintOf(plan: Plan): string {
  return sha256(JSON.stringify([plan.changed, plan.summary ?? null, plan.diff ?? null, plan.skipped ?? null]));
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
      const { plan } = seen;
      const entry: PlannedTask = {
        id: seen.id,
        name: seen.name,
        module: seen.module,
        changed: plan.changed,
        fingerprint: plan.predicted || seen.dependsOnEarlier ? null : fingerprintOf(plan),
      };
      if (plan.summary !== undefined) entry.summary = plan.summary;
      if (plan.diff !== undefined) entry.diff = plan.diff;
      (hosts[seen.host] ??= []).push(entry);
    },
    /** The plan file for these hosts (every host of the run, with an empty list for one that planned nothing). */
    finish(meta: { version: string; playbookPath: string; options: PlanOptions; hosts: string[] }): PlanFile {
      const body: Omit<PlanFile, 'checksum'> = {
        format: planFormat,
        version: meta.version,
        created: new Date().toISOString(),
        playbook: { path: meta.playbookPath, sha256: playbookHash(meta.playbookPath) },
        options: meta.options,
        hosts: Object.fromEntries(meta.hosts.map((h) => [h, hosts[h] ?? []])),
      };
      return { ...body, checksum: checksumOf(body) };
    },
  };
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
  return plan;
}

/**
 * Decides, for a real run from a plan, whether a task's fresh plan is the one the saved plan showed: the same task at
 * the same place, and the same check result (or, for a task that depended on an earlier planned change, a change
 * where the plan showed one). Returns why not, or undefined.
 */
export function vetAgainst(plan: PlanFile, seen: PlanSeen): string | undefined {
  const planned = plan.hosts[seen.host]?.find((t) => t.id === seen.id);
  if (!planned || planned.name !== seen.name || planned.module !== seen.module) {
    return `not in the plan: the plan has no task "${seen.name}" (${seen.id}) for ${seen.host}; make a new plan`;
  }
  const fresh = seen.plan;
  if (!fresh.changed) return undefined; // already as wanted: nothing to apply, nothing the plan did not show
  if (!planned.changed) return `the host changed since the plan: the plan showed no change here, now: ${fresh.summary ?? 'a change'}`;
  if (planned.fingerprint !== null && planned.fingerprint !== fingerprintOf(fresh)) {
    return `the host changed since the plan: planned "${planned.summary ?? 'a change'}", now "${fresh.summary ?? 'a change'}" (the new diff is in the report)`;
  }
  return undefined;
}
