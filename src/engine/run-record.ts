// The record of a coordinated run, kept in the engine from its start (one job of the `provision.runs` queue, which
// no worker takes): what `provision resume RUN_ID` needs to go on after a lost coordinator. It is data, checked on
// read: paths, host names, regions, options and digests, never code. A tampered record can only name shards that
// the workers check as any shard (a playbook of their own checkout whose digests match, never an executable
// inventory), and its plan part is checked as a plan file's.
import { InputError } from '../errors.js';
import { z } from '../modules/lib/zod.js';
import { planPart, type PlannedTask } from '../cli/plan-file.js';
import type { ShardOptions } from './protocol.js';

export interface RunRecord {
  provision_run: 1;
  run_id: string;
  /** The playbook as given on the coordinator's command line (reports name it so), and relative to the project root. */
  playbook_path: string;
  playbook: string;
  play_name: string;
  inventory: string[];
  digests: Record<string, string>;
  /** Each batch's hosts in order, and its shards (region, hosts) in the order their jobs are numbered. */
  batches: Array<{ hosts: string[]; shards: Array<{ region: string; hosts: string[] }> }>;
  options: ShardOptions;
  max_fail_percentage?: number;
  any_errors_fatal: boolean;
  region_timeout: number;
  /** `apply --engine`: the saved plan's tasks by host. */
  plan?: Record<string, PlannedTask[]>;
  started: string;
  /** Set when the coordinator ended the run (its report written); absent while it runs, or once it was lost. */
  ended?: { at: string; interrupted: boolean };
}

export const runIdPattern = /^[0-9a-f]{12}$/;

const relativePath = z.string().min(1).max(4096).refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), 'a path inside the project');
/** An inventory may be outside the project (relative to its root); the workers never run one a shard names. */
const inventoryPath = z.string().min(1).max(4096).refine((p) => !p.startsWith('/') && !p.includes('\0'), 'a path relative to the project');
const hostName = z.string().min(1).max(1024).refine((h) => !/[\0\n]/.test(h), 'a host name');
const region = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const options = z.strictObject({
  check: z.boolean(),
  diff: z.boolean(),
  tags: z.string().optional(),
  skipTags: z.string().optional(),
  extraVars: z.array(z.string()),
  forks: z.number().int().min(1),
  taskTimeout: z.number().positive().optional(),
  anyErrorsFatal: z.boolean(),
  forceHandlers: z.boolean().optional(),
  become: z.boolean().optional(),
  becomeUser: z.string().optional(),
  startAtTask: z.string().optional(),
  planOut: z.boolean().optional(),
});

const recordShape = z.strictObject({
  provision_run: z.literal(1),
  run_id: z.string().regex(runIdPattern),
  playbook_path: z.string().min(1).max(4096),
  playbook: relativePath.refine((p) => /\.[cm]?[jt]s$/.test(p), 'a .ts playbook'),
  play_name: z.string().max(4096),
  inventory: z.array(inventoryPath),
  digests: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  batches: z.array(z.strictObject({ hosts: z.array(hostName).min(1), shards: z.array(z.strictObject({ region, hosts: z.array(hostName).min(1) })).min(1) })),
  options,
  max_fail_percentage: z.number().min(0).max(100).optional(),
  any_errors_fatal: z.boolean(),
  region_timeout: z.number().int().min(1),
  plan: z.record(z.string(), z.unknown()).optional(),
  started: z.string(),
  ended: z.strictObject({ at: z.string(), interrupted: z.boolean() }).optional(),
});

/** The record read from the engine, checked; a record that is not one is refused, naming what is wrong. */
export function readRunRecord(runId: string, value: unknown): RunRecord {
  const where = `run ${runId}: the engine's record of it`;
  const r = recordShape.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`${where} is not one provision wrote: ${issue.path.join('.') || '(the whole record)'}: ${issue.message}`);
  }
  const record = r.data as RunRecord;
  if (record.run_id !== runId) throw new InputError(`${where} names another run (${record.run_id})`);
  // each batch's shards hold its hosts, each once; a host is in one batch only (never run twice)
  const seen = new Set<string>();
  for (const [i, b] of record.batches.entries()) {
    const inShards = b.shards.flatMap((s) => s.hosts);
    if (inShards.length !== b.hosts.length || [...inShards].sort().join('\n') !== [...b.hosts].sort().join('\n')) {
      throw new InputError(`${where}: batch ${i + 1}'s shards do not hold its hosts exactly`);
    }
    for (const h of b.hosts) {
      if (seen.has(h)) throw new InputError(`${where}: host ${h} is in two batches`);
      seen.add(h);
    }
  }
  if (record.plan !== undefined) {
    planPart(`${where}'s plan`, record.plan);
    for (const h of Object.keys(record.plan)) if (!seen.has(h)) throw new InputError(`${where}: its plan names the host ${h}, in no batch`);
  }
  return record;
}
