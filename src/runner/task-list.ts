// Turns what a playbook gives for a host (a list, nested lists, a function of the host) into the tasks to run,
// and blames the playbook, not the host, for a mistake in building them.
import { PlaybookError } from '../errors.js';
import { playbookLocation } from '../playbook/load.js';
import type { HostView, Playbook, Task } from '../playbook/types.js';
import { redact } from '../secret.js';
import { errorMessage } from './task.js';

/** Whether a value is a task a module function built (not a forgotten call, a promise or a plain object). */
export function isTask(value: unknown): value is Task {
  const t = value as Partial<Task> | null;
  return typeof t === 'object' && t !== null && typeof t.module === 'string' && typeof t.check === 'function' && typeof t.apply === 'function';
}

/** A short description of a value that is not a task, for the error saying so. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'}): call it`;
  if (value instanceof Promise) return 'a promise: a task list is built synchronously';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object that is not a task' : String(value);
}

function flattenTasks(list: unknown, where: string): Task[] {
  if (!Array.isArray(list)) throw new Error(`${where} must be a list of tasks (got ${describeValue(list)})`);
  const out: Task[] = [];
  for (const [i, item] of list.entries()) {
    if (item === false || item === null || item === undefined) continue;
    if (Array.isArray(item)) out.push(...flattenTasks(item, `${where}[${i}]`));
    else if (isTask(item)) out.push(item);
    else throw new Error(`${where}[${i}] is not a task (got ${describeValue(item)})`);
  }
  return out;
}

/** Resolves a playbook's task list for one host (a list, or a function of the host's vars and facts). */
export function resolveTasks(playbook: Playbook, view: HostView): Task[] {
  const list: unknown = typeof playbook.tasks === 'function' ? playbook.tasks(view) : playbook.tasks;
  return flattenTasks(list, typeof playbook.tasks === 'function' ? 'the list tasks() returned' : 'tasks');
}

/**
 * Builds part of the play (the task list, a handler, the gate) for a host; a mistake there is the playbook's, not
 * the host's: a PlaybookError naming the playbook's line (from the stack, through the bundle's source map).
 */
export function buildOrFail<T>(build: () => T, what: string, host: string, playbookPath: string): T {
  try {
    return build();
  } catch (err) {
    const at = playbookLocation(err) ?? playbookPath;
    throw new PlaybookError(`${at}: ${what} (for ${host}): ${redact(errorMessage(err))}`);
  }
}
