// Rollouts cut into shards without an engine: `provision shard` writes each batch's shards (host lists for
// `--limit @file`, the commands, a Kubernetes Indexed Job per batch), and `provision merge` makes one report of the
// shards' reports, applying max-fail and any-errors-fatal to each whole batch. Between the shards of a batch nothing
// is shared while they run: max-fail acts between batches (and inside each shard's own run), never across shards
// mid-batch. The files written are data: `merge` reads them back as JSON, checked, and runs nothing they say.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { z } from '../modules/lib/zod.js';
import { haltReason } from '../runner/batches.js';
import { emptyStats } from '../runner/host.js';
import type { HostReport, RunReport } from '../runner/events.js';
import { summarize } from '../runner/merge-reports.js';

export const manifestName = 'shards.json';

export interface Shard {
  shard: number;
  hosts: string[];
  /** The host list, one name a line, for `--limit @FILE`: relative to the folder of the manifest. */
  limit_file: string;
  /** The command that runs this shard (POSIX shell words), from the folder `shard` was run in. */
  command: string;
  /** The report that command writes, which `provision merge` reads. */
  report: string;
}

export interface ShardManifest {
  provision_shards: 1;
  playbook: string;
  inventory: string[];
  limit?: string;
  max_fail_percentage?: number;
  any_errors_fatal: boolean;
  batches: Array<{ batch: number; hosts: string[]; shards: Shard[] }>;
}

/** Cuts a batch into at most `count` shards of near-equal size, keeping the hosts' order. */
export function cutShards(hosts: readonly string[], count: number): string[][] {
  const n = Math.min(count, hosts.length);
  const out: string[][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(hosts.length / n) + (i < hosts.length % n ? 1 : 0);
    out.push(hosts.slice(at, at + size));
    at += size;
  }
  return out;
}

const shellWord = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export interface ShardInput {
  playbook: string;
  inventory: string[];
  limit?: string;
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  batches: string[][];
  shards: number;
  /** The folder to write; it must not exist or be empty. */
  out: string;
}

/** The manifest of a sharded rollout: each batch's shards, their host lists, commands and reports. */
export function shardManifest(input: ShardInput): ShardManifest {
  const pad = (n: number, of: number) => String(n).padStart(String(of).length, '0');
  const dir = relative('.', input.out) || '.';
  return {
    provision_shards: 1,
    playbook: input.playbook,
    inventory: input.inventory,
    ...(input.limit !== undefined ? { limit: input.limit } : {}),
    ...(input.maxFailPercentage !== undefined ? { max_fail_percentage: input.maxFailPercentage } : {}),
    any_errors_fatal: input.anyErrorsFatal,
    batches: input.batches.map((hosts, b) => {
      const cut = cutShards(hosts, input.shards);
      return {
        batch: b + 1,
        hosts,
        shards: cut.map((shardHosts, s) => {
          const name = `batch-${pad(b + 1, input.batches.length)}-shard-${pad(s + 1, cut.length)}`;
          const report = join(dir, `${name}.report.json`);
          // `--serial 0`: the shard is one batch to its own run; the batches are the manifest's.
          const words = ['provision', 'run', input.playbook, ...input.inventory.flatMap((i) => ['-i', i]), '--limit', `@${join(dir, `${name}.hosts`)}`, '--serial', '0', '--report', report];
          return { shard: s + 1, hosts: shardHosts, limit_file: `${name}.hosts`, command: words.map(shellWord).join(' '), report };
        }),
      };
    }),
  };
}

/** A Kubernetes Indexed Job running one batch's shards in parallel (an example: the image and volume are yours). */
export function indexedJob(manifest: ShardManifest, batch: ShardManifest['batches'][number]): string {
  const n = batch.shards.length;
  const dir = dirname(batch.shards[0]!.report);
  const stem = batch.shards[0]!.limit_file.replace(/-shard-\d+\.hosts$/, '');
  const width = String(n).length;
  const script = [
    `i=$(printf '%0${width}d' $((JOB_COMPLETION_INDEX + 1)))`,
    `exec provision run ${shellWord(manifest.playbook)} ${manifest.inventory.map((i) => `-i ${shellWord(i)}`).join(' ')} --limit "@${dir}/${stem}-shard-$i.hosts" --serial 0 --report "${dir}/${stem}-shard-$i.report.json"`,
  ].join('\n');
  return [
    '# One batch of a sharded rollout (provision shard): run it, wait for it, then `provision merge` its reports;',
    '# start the next batch only when merge exits 0. Fill in the image (a checkout of the project with provision',
    '# installed) and a volume where the reports are kept.',
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: provision-${stem}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${n}`,
    `  parallelism: ${n}`,
    '  backoffLimit: 0   # a shard is never run twice: two runs on one host are the danger',
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: provision',
    '          image: YOUR-IMAGE',
    '          command: ["sh", "-c"]',
    `          args:\n            - ${JSON.stringify(script)}`,
    '',
  ].join('\n');
}

/** Writes the manifest, the host lists and the Indexed Jobs into `out`, whole or not at all. */
export function writeShards(manifest: ShardManifest, out: string): string[] {
  if (existsSync(out) && readdirSync(out).length > 0) throw new InputError(`--out ${out}: the folder is not empty; name a new one`);
  const tmp = `${resolve(out)}.${process.pid}.tmp`;
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(tmp, name), text, { flag: 'wx' });
    files.push(join(out, name));
  };
  try {
    mkdirSync(tmp, { recursive: true });
    write(manifestName, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const batch of manifest.batches) {
      for (const shard of batch.shards) write(shard.limit_file, `${shard.hosts.join('\n')}\n`);
      write(`${batch.shards[0]!.limit_file.replace(/-shard-\d+\.hosts$/, '')}.k8s-job.yaml`, indexedJob(manifest, batch));
    }
    rmSync(out, { recursive: true, force: true }); // empty (checked above), or absent
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err instanceof InputError ? err : new InputError(`--out ${out}: ${(err as Error).message}`);
  }
  return files;
}

const manifestShape = z.object({
  provision_shards: z.literal(1),
  playbook: z.string(),
  inventory: z.array(z.string()),
  limit: z.string().optional(),
  max_fail_percentage: z.number().min(0).max(100).optional(),
  any_errors_fatal: z.boolean(),
  batches: z.array(z.looseObject({ batch: z.number().int().positive(), hosts: z.array(z.string()), shards: z.array(z.looseObject({ hosts: z.array(z.string()) })) })),
});

/** Reads a manifest written by `provision shard` (data: its shape is checked, nothing in it is run). */
export function readManifest(file: string): ShardManifest {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: cannot read a shard manifest: ${(err as Error).message}`);
  }
  const r = manifestShape.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`${file}: not a manifest written by provision shard: ${issue.path.join('.') || '(the whole file)'}: ${issue.message}`);
  }
  return value as ShardManifest;
}

export interface ShardRecord {
  batch: number;
  report: string;
  hosts: string[];
  started: string;
  finished: string;
  /** `ok`, `failed` (a host failed or was unreachable), `halted` (its own run halted), `interrupted`. */
  outcome: 'ok' | 'failed' | 'halted' | 'interrupted';
}

export interface MergeRules {
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  /** Each batch's hosts in order (the manifest's); without it, all the reports' hosts are one batch. */
  batches?: string[][];
  /** Why a host has no report, where that is known (`worker lost`): its error instead of `shard lost`. */
  lost?: ReadonlyMap<string, string>;
  /** The playbook and mode when no report came at all (every shard lost). */
  base?: { playbook: string; check: boolean };
}

const failedStatus = (h: HostReport | undefined) => h?.status === 'failed' || h?.status === 'unreachable';

/**
 * One report of shards' reports: the hosts of each, the batches' halts decided on each whole batch (as one controller
 * decides them), a host of a batch no shard reported is unreachable (`shard lost`, counting toward max-fail), the
 * hosts of a batch with no report at all are `not run`. A host in two reports is refused: it ran twice.
 */
export function mergeShardReports(reports: Array<{ file: string; report: RunReport }>, rules: MergeRules): RunReport & { shards: ShardRecord[] } {
  const head = reports[0]?.report ?? rules.base;
  if (!head) throw new InputError('name the shards\' reports to merge');
  const headFile = reports[0]?.file ?? '(none)';
  const owner = new Map<string, string>();
  // each host's report, found once: a lookup per host, not a search of every report (a merge after each of a
  // coordinator's batches would cost hosts × shards)
  const byHost = new Map<string, HostReport>();
  for (const { file, report } of reports) {
    if (basename(report.playbook) !== basename(head.playbook)) throw new InputError(`${file} is a report of ${report.playbook}, ${headFile} of ${head.playbook}: merge reports of one rollout`);
    if (report.check !== head.check) throw new InputError(`${file} is ${report.check ? '' : 'not '}a --check run and ${headFile} is ${head.check ? '' : 'not'}: merge reports of one rollout`);
    for (const host of Object.keys(report.hosts)) {
      const seen = owner.get(host);
      if (seen !== undefined) throw new InputError(`host ${host} is in both ${seen} and ${file}: a host runs in one shard only`);
      owner.set(host, file);
      byHost.set(host, report.hosts[host] as HostReport);
    }
  }
  const reported = (h: string) => byHost.get(h);
  const batches = rules.batches ?? [reports.flatMap((r) => Object.keys(r.report.hosts))];
  const inBatches = new Set(batches.flat());
  for (const host of owner.keys()) if (!inBatches.has(host)) throw new InputError(`host ${host} of ${owner.get(host)} is in no batch of the manifest`);

  const hosts: Record<string, HostReport> = {};
  // A shard whose own run halted (its hosts crossed the line on their own) halts the rollout too.
  const haltedShard = reports.find((r) => r.report.halted !== undefined && !r.report.interrupted);
  let halted = haltedShard ? `${haltedShard.file}: ${haltedShard.report.halted}` : undefined;
  for (const [index, batch] of batches.entries()) {
    const ran = batch.some((h) => reported(h) || rules.lost?.has(h));
    for (const host of batch) {
      const r = reported(host);
      if (r) hosts[host] = r;
      else if (ran || rules.lost?.has(host)) hosts[host] = { status: 'unreachable', stats: emptyStats(), tasks: [], error: rules.lost?.get(host) ?? 'shard lost: no report of its shard among those merged', duration_ms: 0 };
      else hosts[host] = { status: 'not run', stats: emptyStats(), tasks: [], reason: halted ? `halted: ${halted}` : 'not run: no report of its batch among those merged', duration_ms: 0 };
    }
    if (ran && halted === undefined) halted = haltReason(batch.filter((h) => failedStatus(hosts[h])), batch.length, index, rules.maxFailPercentage, rules.anyErrorsFatal);
  }
  const times = reports.map((r) => [Date.parse(r.report.started), Date.parse(r.report.finished)] as const);
  const started = times.length ? Math.min(...times.map((t) => t[0])) : Date.now();
  const finished = times.length ? Math.max(...times.map((t) => t[1])) : started;
  const batchNumber = new Map(batches.flatMap((b, i) => b.map((h) => [h, i + 1] as const)));
  const batchOf = (h: string) => batchNumber.get(h) ?? 0;
  const shards: ShardRecord[] = reports.map(({ file, report }) => {
    const names = Object.keys(report.hosts);
    return {
      batch: names.length ? batchOf(names[0]!) : 0,
      report: file,
      hosts: names,
      started: report.started,
      finished: report.finished,
      outcome: report.interrupted ? 'interrupted' : report.halted ? 'halted' : names.some((h) => failedStatus(report.hosts[h])) ? 'failed' : 'ok',
    };
  });
  const interrupted = reports.some((r) => r.report.interrupted);
  return {
    ...(reports[0]?.report.version !== undefined ? { version: reports[0].report.version } : {}),
    playbook: head.playbook,
    check: head.check,
    started: new Date(started).toISOString(),
    finished: new Date(finished).toISOString(),
    duration_ms: finished - started,
    batches,
    ...(halted !== undefined ? { halted } : interrupted ? { halted: 'interrupted' } : {}),
    ...(interrupted ? { interrupted: true } : {}),
    hosts,
    summary: summarize(Object.values(hosts)),
    shards,
  };
}
