// The runner's event stream and its report types: renderers and the JSON report listen, nothing else prints.
import type { FileDiff, TaskResult } from '../playbook/types.js';

/** `halted`: cut short by a halt of the rollout or an interruption, after the task it was on (see `reason`). */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'not run' | 'halted';

export interface HostStats {
  ok: number;
  changed: number;
  failed: number;
  /** Every task not run: by its condition, by its module, and by --tags/--skip-tags (`left_out`, counted here too). */
  skipped: number;
  /** Of `skipped`: the tasks --tags/--skip-tags left out (Ansible's recap does not count them). */
  left_out: number;
}

export interface HostReport {
  status: HostStatus;
  stats: HostStats;
  tasks: TaskResult[];
  /** Why the host failed, was unreachable or did not run (the task it was on, the error). */
  error?: string;
  /** Why the host did not run (`not run`), or did not run all its tasks: `halted: …`, `interrupted: …`. */
  reason?: string;
  /** When the host's run started (ISO 8601); absent for a host that did not run. */
  started?: string;
  duration_ms: number;
  /** Waits for the host's answer (requests sent together count once), requests, and channels opened. */
  round_trips?: number;
  requests?: number;
  channels?: number;
}

export interface RunReport {
  /** The version of provision that wrote the report. */
  version?: string;
  playbook: string;
  check: boolean;
  started: string;
  finished: string;
  duration_ms: number;
  /** The rollout's batches, in order: lists of host names. */
  batches: string[][];
  /** Set when the rollout halted (max fail percentage, any errors fatal, interrupted). */
  halted?: string;
  interrupted?: boolean;
  /** Path of the file listing failed, unreachable and not-run hosts, for `--limit @file`. */
  retry_file?: string;
  hosts: Record<string, HostReport>;
  /** A playbook of several plays: each play's name and the hosts it ran on, in order. */
  plays?: Array<{ name: string; hosts: string[] }>;
  /** With --diff: each distinct change once (same task, same diff), with every host it applies to. */
  diff_groups?: Array<{ task: string; hosts: string[]; diff: FileDiff[] }>;
  summary: {
    hosts: number;
    ok: number;
    changed: number;
    failed: number;
    skipped: number;
    /** Of `skipped`: tasks left out by --tags/--skip-tags. */
    left_out: number;
    unreachable: number;
    not_run: number;
    /** Hosts cut short by a halt or an interruption (status `halted`). */
    halted: number;
  };
}

export type RunEvent =
  | { type: 'play-start'; playbook: string; hosts: string[]; check: boolean; batches: string[][] }
  | { type: 'batch-start'; index: number; count: number; hosts: string[] }
  | { type: 'host-start'; host: string }
  | { type: 'host-phase'; host: string; phase: 'connect' | 'facts' | 'handlers' }
  | { type: 'task-start'; host: string; task: string; module: string; handler: boolean }
  | { type: 'task-end'; host: string; result: TaskResult; handler: boolean }
  | { type: 'host-end'; host: string; report: HostReport }
  | { type: 'batch-end'; index: number; failed: string[] }
  | { type: 'halted'; reason: string; notRun: string[] }
  | { type: 'play-end'; report: RunReport };

export type EventListener = (event: RunEvent) => void;
