// Builds the TaskContext a module sees: the connection plus helpers that enforce become and timeouts.
import type { BecomeSettings, Command, Connection, ExecOptions, WriteFileOptions } from '../connection/types.js';
import type { HostConnection } from '../inventory/connection-vars.js';
import { toScript } from '../connection/quote.js';
import { CommandError } from '../errors.js';
import type { Facts } from '../facts/types.js';
import type { PlannedTree, Playbook, Task, TaskContext, TaskResult, Vars } from '../playbook/types.js';
import { redact } from '../secret.js';
import type { HostRun, RunOptions } from './types.js';

export interface ContextOptions {
  host: string;
  conn: Connection;
  vars: Vars;
  facts: Facts;
  checkMode: boolean;
  become: boolean;
  baseDir: string;
  registered?: Record<string, TaskResult>;
  /** In check mode: an earlier task planned a change that was not made. */
  earlierChangesPlanned?: boolean;
  /** In check mode: the directories earlier planned changes would rewrite. */
  plannedTrees?: readonly PlannedTree[];
  /** Epoch milliseconds by which the task must end: every command gets the time that remains. */
  deadline?: number;
  /** The check runs ahead of its task's turn (see TaskContext.early). */
  early?: boolean;
}

/** Creates a module's view of a host; every command goes through the connection with the task's become. */
export function createContext(o: ContextOptions): TaskContext {
  const withBecome = (opts?: ExecOptions): ExecOptions => {
    const merged: ExecOptions = { become: o.become, ...opts };
    if (o.deadline !== undefined) {
      const left = Math.max(1, o.deadline - Date.now());
      merged.timeoutMs = Math.min(merged.timeoutMs ?? left, left);
    }
    return merged;
  };
  return {
    host: o.host,
    vars: o.vars,
    facts: o.facts,
    checkMode: o.checkMode,
    become: o.become,
    earlierChangesPlanned: o.earlierChangesPlanned ?? false,
    plannedTrees: o.plannedTrees ?? [],
    baseDir: o.baseDir,
    conn: o.conn,
    registered: o.registered ?? {},
    ...(o.early ? { early: true } : {}),
    exec: (cmd: Command, opts?: ExecOptions) => o.conn.exec(cmd, withBecome(opts)),
    async run(cmd: Command, opts?: ExecOptions) {
      const r = await o.conn.exec(cmd, withBecome(opts));
      if (r.code !== 0) throw new CommandError(toScript(cmd), r.code, r.stdout, r.stderr);
      return r;
    },
    async readFile(path: string) {
      const b = await o.conn.readFile(path, { become: o.become });
      return b === null ? null : b.toString('utf8');
    },
    readFileBytes: (path: string) => o.conn.readFile(path, { become: o.become }),
    writeFile: (path: string, content: string | Buffer, opts?: WriteFileOptions) =>
      o.conn.writeFile(path, content, { become: o.become, ...opts }),
  };
}

/**
 * A task's name as it may be shown: secrets redacted; a task marked secret without a name of its own is called by
 * its module only, since its default name is built from its parameters (a command line, a path).
 */
export function shownName(task: Pick<Task, 'name' | 'module' | 'options'>): string {
  if (task.options.secret && task.options.name === undefined) return `${task.module} (secret)`;
  return redact(task.name);
}

/** The context a task's check and apply get on its host. */
export function taskContext(run: HostRun, task: Task, opts: RunOptions, deadline?: number, early?: true) {
  return createContext({
    early,
    host: run.host,
    conn: run.conn,
    vars: run.vars,
    facts: run.facts,
    checkMode: opts.check,
    become: task.options.become ?? run.become,
    baseDir: opts.baseDir,
    registered: run.registered,
    earlierChangesPlanned: opts.check && run.planned.length > 0,
    plannedTrees: opts.check ? run.planned.flatMap((p) => (p.tree ? [p.tree] : [])) : [],
    deadline,
  });
}

// A host's become, settled once where its variables meet the command line and the play: the runner reads it (which
// tasks become, whether sudo's password is known) and the host's connection applies it (how to become), from the
// same object.
/** What the command line says of become: -b, --become-user, -K's password, --become-method. */
export interface BecomeFlags {
  become?: boolean;
  becomeUser?: string;
  becomePassword?: string;
  method?: 'sudo' | 'su';
}

/**
 * A host's variables win over the play's keywords and the command line, as Ansible's variables win over keywords
 * (ansible_become over `become` and -b); -b turns become on, never off.
 */
export function settleBecome(host: Partial<Pick<HostConnection, 'become' | 'becomeUser' | 'becomePassword' | 'becomeMethod'>>, play: Pick<Playbook, 'become' | 'becomeUser'>, flags: BecomeFlags = {}): BecomeSettings {
  const settled: BecomeSettings = { become: host.become ?? (flags.become === true || play.become === true) };
  const becomeUser = host.becomeUser ?? flags.becomeUser ?? play.becomeUser;
  const becomePassword = host.becomePassword ?? flags.becomePassword;
  const method = host.becomeMethod ?? flags.method;
  if (becomeUser !== undefined) settled.becomeUser = becomeUser;
  if (becomePassword !== undefined) settled.becomePassword = becomePassword;
  if (method !== undefined) settled.method = method;
  return settled;
}

/** Whether becoming asks nothing the run lacks: su becomes only from root, asking nothing (see prepareCommand). */
export const passwordKnown = (b: BecomeSettings): boolean => b.method === 'su' || b.becomePassword !== undefined;
