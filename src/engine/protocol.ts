// What travels through the engine between the coordinator and the workers: host names, options and digests only
// (keys, agents, become and vault passwords stay on the workers).
import { InputError } from '../errors.js';
import type { PlannedTask } from '../cli/plan-file.js';
import type { HostStats, HostStatus, RunReport } from '../runner/events.js';

/** A shard's job: its hosts and what the worker needs to run them as the coordinator would. */
export interface ShardJob {
  runId: string;
  batch: number;
  shard: number;
  region: string;
  hosts: string[];
  /** Relative to the project's root (the working directory of the coordinator and of each worker). */
  playbook: string;
  inventory: string[];
  digests: Record<string, string>;
  options: ShardOptions;
  /** `apply --engine`: the saved plan's tasks for the shard's hosts, which the worker vets each fresh check against. */
  plan?: Record<string, PlannedTask[]>;
}

/** The run options a shard keeps from the coordinator's command line (the rest are the worker's own). */
export interface ShardOptions {
  check: boolean;
  diff: boolean;
  tags?: string;
  skipTags?: string;
  extraVars: string[];
  forks: number;
  taskTimeout?: number;
  anyErrorsFatal: boolean;
  forceHandlers?: boolean;
  /** -b and --become-user: what the tasks run as is the coordinator's; how to become (method, password), the worker's. */
  become?: boolean;
  becomeUser?: string;
  /** --start-at-task: each host of the shard starts at the first task of this name (or glob), as one controller's. */
  startAtTask?: string;
  /** `--check --plan-out`: the worker records its hosts' plans and returns them with the shard's report. */
  planOut?: boolean;
}

/** A shard's result: its report, and with `planOut` its hosts' planned tasks. */
export type ShardResult = RunReport & { plans?: Record<string, PlannedTask[]> };

/** A host's end, as a worker reports it while the shard runs (best effort: the barrier holds the truth). */
export interface ShardProgress {
  runId: string;
  batch: number;
  host: string;
  status: HostStatus;
  /** The worker's name, the host's counts and its own error (unreachable, facts), for the coordinator's lines. */
  worker?: string;
  stats?: HostStats;
  error?: string;
}

/** A region names a queue: letters, digits, `_` and `-`. */
export function checkRegion(region: string, where: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(region)) throw new InputError(`${where}: region ${JSON.stringify(region)}: use letters, digits, _ and - only`);
  return region;
}
