// The runner's shared types: what a run is given (RunOptions), what a host's tasks share (HostRun), and what an
// apply sent ahead holds (SentApply). Kept apart from the behaviour that uses them, so no runner file needs another
// only for a type (the files import each other one way).
import type { BecomeSettings, Connection } from '../connection/types.js';
import type { Facts } from '../facts/types.js';
import type { ApplyResult, Plan, Playbook, Task, TaskResult, Vars } from '../playbook/types.js';
import type { Serial } from './batches.js';
import type { EventListener, HostReport } from './events.js';
import type { PlanCache } from './plan-cache.js';
import type { PlannedChange } from './predict.js';

export interface RunOptions {
  playbook: Playbook;
  /** Path shown in the report. */
  playbookPath: string;
  /** Directory relative `src` paths resolve against. */
  baseDir: string;
  /** Hosts to run on, in order, already matched against the playbook's `hosts` and `--limit`. */
  hosts: string[];
  /** The merged variables of a host (inventory + play vars + extra vars). */
  varsOf: (host: string) => Vars;
  /** Opens the one connection a host uses for the whole run, becoming as `become` says. */
  connect: (host: string, vars: Vars, become: BecomeSettings) => Promise<Connection>;
  /**
   * A host's become, settled once (see settleBecome): whether its tasks become by default, as whom, and whether
   * sudo's password is known. Left out: the play's `become`/`becomeUser`, and sudo's password unknown.
   */
  becomeOf?: (host: string, vars: Vars) => BecomeSettings;
  forks: number;
  check: boolean;
  forceHandlers?: boolean;
  serial?: Serial;
  maxFailPercentage?: number;
  anyErrorsFatal?: boolean;
  /** Retries of a connect that was refused or reset, with backoff, before a host is unreachable (default 2). */
  connectRetries?: number;
  /** Default task timeout in seconds (a task's own `timeout` wins). */
  timeout?: number;
  /** Only tasks with one of these tags (untagged tasks are skipped when set); `always` and `never` as Ansible's. */
  tags?: string[];
  /** Tasks with any of these tags are skipped (`always` ones too, when named). */
  skipTags?: string[];
  /** --start-at-task: the tasks before the first whose name passes `test` are left out (a host where none does fails). */
  startAtTask?: { name: string; test(taskName: string): boolean };
  /** --step: asked before each task (not handlers) with the task's id and name; false leaves the task out. */
  confirmTask?: (id: string, name: string) => Promise<boolean>;
  /** Aborted: no new task starts; the report is still produced. */
  signal?: AbortSignal;
  /** Aborted (a second Ctrl-C, after `signal`): running tasks end at once, failed as interrupted; the report is kept. */
  interrupt?: AbortSignal;
  /** Put before every task id: a playbook's later plays (`play 2 `) keep their tasks apart from the first's. */
  idPrefix?: string;
  /**
   * Check mode: sees each plan a check made, and whether it read what an earlier planned (not made) change would
   * write, so that a real run may find it different.
   */
  onPlan?: (seen: PlanSeen & { dependsOnEarlier: boolean }) => void;
  /** A real run from a saved plan: why a task's fresh plan must not be applied, or undefined to apply it. */
  vetPlan?: (seen: PlanSeen) => string | undefined;
  onEvent?: EventListener;
}

/** A task's plan on a host, with the task's stable id. */
export interface PlanSeen {
  host: string;
  id: string;
  name: string;
  module: string;
  plan: Plan;
  /** The task is marked secret: nothing of its plan may be shown. */
  secret?: boolean;
}

/** What a host's tasks share while it runs. */
export interface HostRun {
  host: string;
  vars: Vars;
  conn: Connection;
  facts: Facts;
  become: boolean;
  registered: Record<string, TaskResult>;
  report: HostReport;
  /** In check mode: the changes planned so far (not made), with what each would write; later reads may see a state
   * that will not exist. */
  planned: PlannedChange[];
  /** Checks started ahead of their task's turn, kept while they hold. */
  plans: PlanCache;
  /** The tasks after the one running, with their ids (none for a handler or the gate). */
  next: Array<{ task: Task; id: string }>;
  /** Applies sent ahead of their task's turn, with the apply of a task before them (see applyWithNext). */
  ahead: Map<Task, SentApply>;
  /** Whether the task --start-at-task names has been reached (true without it). */
  started: boolean;
  /** A real run from a saved plan refused a task whose fresh check differs from the plan (the host changed). */
  planRefused?: boolean;
}

/** An apply sent ahead of its task's turn, with the plan it applies. */
export interface SentApply {
  plan: Plan;
  result: Promise<ApplyResult | void>;
}
