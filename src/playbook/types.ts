// The task contract every module implements: check() reads and plans, apply() makes exactly that change.
import type { Command, Connection, ExecOptions, ExecResult, WriteFileOptions, WriteResult } from '../connection/types.js';
import type { Facts } from '../facts/types.js';
import { CommandError } from '../errors.js';
import { quoteArgv } from '../connection/quote.js';
import { z } from '../modules/lib/zod.js';
import { validateTaskValues } from './validate-values.js';

export type Vars = Record<string, unknown>;

/** One file's change, shown as a unified diff (text) or a note (binary, huge). */
export interface FileDiff {
  path: string;
  before: string | null;
  after: string | null;
  /** Set instead of a text diff for binary or huge content ("binary differs", "size 10 → 20 bytes"). */
  note?: string;
}

/** What check() found: no change (with why), a change to make (with a summary and diffs), or a skip. */
export interface Plan {
  changed: boolean;
  /** One line: `mode 0755 → 0770`, `+ apache2`, `would run: …`, or why nothing changes. */
  summary?: string;
  diff?: FileDiff[];
  /** Set when the task does not apply to this host (e.g. SELinux absent). */
  skipped?: string;
  /** Module-private data that apply() needs (computed content, the list of missing packages…). */
  data?: unknown;
  /** True when the change is predicted from an earlier task's planned change (check mode), not observed. */
  predicted?: boolean;
  /** What a directory on the host would hold once this plan is applied (sync): later checks of --check read it. */
  tree?: PlannedTree;
}

/**
 * A directory's content as a planned (not made) change would leave it, known on the controller: a check that reads
 * files there (a Django project's migrations) reads these instead of what the host has now.
 */
export interface PlannedTree {
  /** The task that plans it. */
  task?: string;
  /** The directory on the host. */
  dest: string;
  /** Every file and link it would hold, relative to dest ('/' separators); paths the change leaves alone are not listed. */
  files: readonly string[];
  /** Whether files of dest that `files` does not list go (a sync with delete); otherwise they stay. */
  deletes: boolean;
  /** The paths, relative to dest, that the change adds, changes or removes. */
  changed: readonly string[];
  /** Of those, the ones it adds. */
  added: readonly string[];
}

/** What apply() reports: `changed` overrides the plan's (a command that said it did nothing), plus output. */
export interface ApplyResult {
  changed?: boolean;
  summary?: string;
  stdout?: string;
  stderr?: string;
  rc?: number;
}

export type TaskStatus = 'ok' | 'changed' | 'skipped' | 'failed';

/** The result of one task on one host, as the runner records it and `register` exposes it. */
export interface TaskResult {
  name: string;
  module: string;
  status: TaskStatus;
  changed: boolean;
  summary?: string;
  diff?: FileDiff[];
  error?: string;
  stdout?: string;
  stderr?: string;
  rc?: number;
  /** In check mode: the change is a prediction that depends on an earlier planned change. */
  predicted?: boolean;
  /** Skipped because the run's options left it out (--tags, --skip-tags, --start-at-task, --step). */
  left_out?: boolean;
  /** The task failed but `ignoreErrors` let the host go on; not counted as a failure. */
  ignored?: boolean;
  /** The task's place in the play (`task 3`, `handler restart apache`, `gate`): the same task on every host. */
  id?: string;
  /** When the task started (ISO 8601). */
  started?: string;
  duration_ms: number;
}

/** What a module sees of the host: its connection, vars, facts, and helpers that go through the connection. */
export interface TaskContext {
  readonly host: string;
  readonly vars: Vars;
  readonly facts: Facts;
  /** True in --check: modules must not change anything (apply is never called then). */
  readonly checkMode: boolean;
  /** Whether this task runs with privilege escalation. */
  readonly become: boolean;
  /** In check mode: an earlier task on this host planned a change that was not made, so what this task
   * reads may not be what a real run would find (a module may then give up waiting early). */
  readonly earlierChangesPlanned: boolean;
  /** In check mode: the directories earlier planned changes would rewrite, as they would be (see PlannedTree). */
  readonly plannedTrees: readonly PlannedTree[];
  /** Directory of the playbook file: relative `src` paths resolve against it. */
  readonly baseDir: string;
  readonly conn: Connection;
  /** Results of earlier tasks by their `register` name. */
  readonly registered: Readonly<Record<string, TaskResult>>;
  /**
   * The check runs ahead of its task's turn, with the other tasks' checks (see Footprint): it should not wait (retry)
   * for a state an earlier task may bring, since a failed early check is checked again in its turn.
   */
  readonly early?: boolean;
  /** Runs a command; never throws on a non-zero exit. */
  exec(cmd: Command, opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a command that must succeed; throws CommandError otherwise. */
  run(cmd: Command, opts?: ExecOptions): Promise<ExecResult>;
  /** Reads a file as text; null when missing. */
  readFile(path: string): Promise<string | null>;
  /** Reads a file as bytes; null when missing. */
  readFileBytes(path: string): Promise<Buffer | null>;
  writeFile(path: string, content: string | Buffer, opts?: WriteFileOptions): Promise<WriteResult>;
}

/** A predicate over what a task can see when deciding whether it runs. */
export type When = boolean | ((host: { vars: Vars; facts: Facts; registered: Readonly<Record<string, TaskResult>> }) => boolean);

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `a function (${what})` });

/**
 * The options every module accepts, declared once: CommonOptions (the type a playbook's editor shows, with these
 * doc comments), the run-time check of every module call (see moduleSchema) and what defineTask takes from params.
 */
export const commonShape = {
  /** Display name; defaults to a description of what the module does. */
  name: z.string().optional(),
  /** Run the task only when true: a boolean, or a function of `{ vars, facts, registered }`. */
  when: z.union([z.boolean(), fn<Exclude<When, boolean>>('host => boolean')]).optional(),
  /** Handler names (or `listen` topics) to run once, after the tasks, when this task changed something. */
  notify: z.union([z.string(), z.array(z.string())]).optional(),
  /** Name under which later tasks can read this task's result (`registered[name]`). */
  register: z.string().optional(),
  /** Tags for `--tags` / `--skip-tags`; `always` and `never` as Ansible's. */
  tags: z.array(z.string()).optional(),
  /** Run this task through sudo (overrides the play's and the host's `become`). */
  become: z.boolean().optional(),
  /** A failure of this task is reported but does not stop the host. */
  ignoreErrors: z.boolean().optional(),
  /** Decide from the result whether the task counts as changed (Ansible's `changed_when`). */
  changedWhen: fn<(result: TaskResult) => boolean>('result => boolean').optional(),
  /** Decide from the result whether the task failed (Ansible's `failed_when`). */
  failedWhen: fn<(result: TaskResult) => boolean>('result => boolean').optional(),
  /** Seconds after which the task fails with "timed out after N s". */
  timeout: z.number().positive().optional(),
  /** Never print, diff or report this task's values (Ansible's `no_log`). */
  secret: z.boolean().optional(),
  /** As a handler: topics it also answers to when notified (Ansible's `listen`), besides its name. */
  listen: z.union([z.string(), z.array(z.string())]).optional(),
};

/** Options every module accepts (see commonShape, their one declaration). */
export type CommonOptions = z.input<z.ZodObject<typeof commonShape>>;

const commonKeys = Object.keys(commonShape) as Array<keyof CommonOptions>;

/** A task value: built by a module function, run by the runner. */
export interface Task {
  readonly module: string;
  readonly name: string;
  /** The module's parameters as given (for planning-level inspection and reports). */
  readonly params: unknown;
  readonly options: CommonOptions;
  /** See Footprint. */
  readonly footprint?: Footprint;
  check(ctx: TaskContext): Promise<Plan>;
  apply(ctx: TaskContext, plan: Plan): Promise<ApplyResult | void>;
  /**
   * The apply of this plan as one inline script, when it is one (undefined otherwise): what apply() would do, the
   * same. The runner sends the applies of consecutive tasks whose plans it knows together (one round trip for all).
   */
  applyScript?(ctx: TaskContext, plan: Plan): ApplyScript | undefined;
}

/** A path a task reads or writes on the host; `tree` when everything under it counts too. */
export interface PathUse {
  path: string;
  tree?: boolean;
}

/**
 * What a task's check reads and its apply writes. A task that declares it has a check that only reads the host,
 * quickly, and whose answer holds until something it read changes: the runner runs that check early, with the
 * other tasks' checks (one round trip for all), and keeps the plan while no apply since wrote what it read.
 * A check that waits (a health check's retries) waits only in its turn: checked early (TaskContext.early) it tries
 * once, and a check that failed early is checked again in its turn. Reads `anything`: what the check sees may come
 * from anything on the host (a page a service serves, what manage.py imports), so its plan holds only while nothing
 * applies. Leave the footprint out and the task is checked in its turn, and taken to write anything.
 */
export interface Footprint {
  reads: PathUse[] | 'anything';
  writes: PathUse[] | 'anything';
}

/**
 * An apply that is one inline script (see ExecOptions.inline) and what its result means: the runner may send the
 * applies of consecutive tasks together, as one group that stops at its first failure (see Task.applyScript).
 */
export interface ApplyScript {
  script: string;
  /**
   * Reads the script's result: throws when the apply failed, as apply() would. `last`: nothing else was asked of the
   * host after the script, so what it wrote is what the host has now.
   */
  done(result: ExecResult, last: boolean): ApplyResult | void;
}

/** Throws the CommandError a failed command is (`command` names it), as ctx.run does. */
export function failOn(command: string, r: ExecResult): void {
  if (r.code !== 0) throw new CommandError(command, r.code, r.stdout, r.stderr);
}

/** An apply that runs one program (useradd, groupadd …) as an inline script; it fails as ctx.run would. */
export function argvScript(argv: readonly string[]): ApplyScript {
  const command = quoteArgv(argv);
  return { script: `${command} </dev/null`, done: (r) => failOn(command, r) };
}

/** Runs an apply script (alone, or as a member of a group: see ExecOptions.group) and reads its result. */
export async function applyWith(ctx: TaskContext, s: ApplyScript, opts: ExecOptions = {}): Promise<ApplyResult | void> {
  const running = ctx.exec(s.script, { ...opts, inline: true });
  const asked = ctx.conn.stats.asked;
  const r = await running;
  return s.done(r, ctx.conn.stats.asked === asked);
}

export interface ModuleImpl<P> {
  /** See Footprint. */
  footprint?: Footprint;
  check(ctx: TaskContext, params: P): Promise<Plan>;
  apply(ctx: TaskContext, plan: Plan, params: P): Promise<ApplyResult | void>;
  /** See Task.applyScript. */
  applyScript?(ctx: TaskContext, plan: Plan, params: P): ApplyScript | undefined;
}

/**
 * Builds a task value: how a module (provision's or a user's own) is made. `module` names it in reports,
 * `defaultName` is the task's name unless `params.name` is given; `params` holds the module's parameters and the
 * common task options (CommonOptions), which the runner takes from it (every string in it is checked for NUL bytes
 * now). `impl.check` reads the host and changes nothing (it is all `--check` runs) and returns noChange(why),
 * change(summary, { diff, data }) or skip(reason); it throws to fail the task, a MissingOnHostError where an earlier
 * task of the run may create what it needs (`--check` then predicts it). `impl.apply` makes exactly the change
 * planned (`plan.data` carries what check computed), only when the plan changes something. `impl.footprint` (see
 * Footprint) lets the runner check the task early, batched with others; without it the task is checked in its
 * turn and taken to write anything (always safe). See the README's "Adding a module".
 */
export function defineTask<P extends CommonOptions>(module: string, defaultName: string, params: P, impl: ModuleImpl<P>): Task {
  validateTaskValues(module, params.name ?? defaultName, params);
  const options = Object.fromEntries(commonKeys.map((k) => [k, params[k]])) as CommonOptions;
  return {
    module,
    name: params.name ?? defaultName,
    params,
    options,
    footprint: impl.footprint,
    check: (ctx) => impl.check(ctx, params),
    apply: (ctx, plan) => impl.apply(ctx, plan, params),
    ...(impl.applyScript ? { applyScript: (ctx: TaskContext, plan: Plan) => impl.applyScript?.(ctx, plan, params) } : {}),
  };
}

/** A plan that changes nothing, with the reason. */
export function noChange(summary?: string): Plan {
  return { changed: false, summary };
}

/** A plan that changes something. */
export function change(summary: string, extra: Omit<Plan, 'changed' | 'summary'> = {}): Plan {
  return { changed: true, summary, ...extra };
}

/** A plan that does not apply to this host, with the reason. */
export function skip(reason: string): Plan {
  return { changed: false, skipped: reason };
}

/** What `tasks` and handler functions receive: the host's merged vars and its facts. */
export interface HostView {
  host: string;
  vars: Vars;
  facts: Facts;
  /** Directory of the playbook file (what relative `src` paths resolve against), when the runner builds the view. */
  baseDir?: string;
}

export type TaskList = Array<Task | Task[] | false | null | undefined>;

export interface Playbook {
  name: string;
  /** Host pattern: `all`, a group, `web*`, `a:&b`, … */
  hosts: string;
  become?: boolean;
  becomeUser?: string;
  /** Play variables: above inventory variables, below -e extra vars (as Ansible's play vars). */
  vars?: Vars;
  /** Gather facts before the tasks (default true). */
  gatherFacts?: boolean;
  tasks: TaskList | ((host: HostView) => TaskList);
  handlers?: Record<string, Task | ((host: HostView) => Task)>;
  /** Rollout batches: a number, a percentage, or a ramp ("1,10%,100%"). */
  serial?: number | string | Array<number | string>;
  maxFailPercentage?: number;
  anyErrorsFatal?: boolean;
  /** A read-only task run on every host of a batch after its tasks; failure counts as a host failure. */
  gate?: Task | ((host: HostView) => Task);
  /** Default timeout in seconds for each task. */
  timeout?: number;
}

/** Declares a playbook; the identity function that gives the object its type. */
export function definePlaybook(playbook: Playbook): Playbook {
  return playbook;
}
