// The library entry: what a playbook imports from 'provision'.
export * from './modules/index.js';
export { definePlaybook, defineTask, noChange, change, skip } from './playbook/types.js';
export { flushHandlers } from './playbook/meta.js';
export type {
  Playbook,
  Task,
  TaskContext,
  TaskResult,
  Plan,
  ApplyResult,
  ApplyScript,
  Footprint,
  PathUse,
  CommonOptions,
  HostView,
  Vars,
  FileDiff,
  When,
} from './playbook/types.js';
export type { CronParams } from './modules/cron.js';
export type { Facts, ApacheLayout, OsFamily } from './facts/types.js';
export type { Connection, ExecResult, ExecOptions, Command } from './connection/types.js';
export { quote, quoteArgv, sh } from './connection/quote.js';
export { secret } from './secret.js';
// for users' own modules (see README "Adding a module"): what a check throws
export { InputError, MissingOnHostError, CommandError } from './errors.js';
