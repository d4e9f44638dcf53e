// Checks of task parameters done when the task is built, so a bad value fails before any host is touched.
import { posix } from 'node:path';
import { InputError } from '../../errors.js';
import { validateMode } from './mode.js';

/** Throws unless `path` is an absolute path. */
export function requireAbsolute(path: unknown, field: string, what: string): asserts path is string {
  if (typeof path !== 'string' || path === '') throw new InputError(`${what}: ${field} is required`);
  if (!posix.isAbsolute(path)) throw new InputError(`${what}: ${field} must be an absolute path (got '${path}')`);
}

/** Throws unless `value` is one of `allowed`. */
export function requireOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, what: string): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new InputError(`${what}: ${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${JSON.stringify(value)})`);
  }
}

/** Validates the mode/owner/group parameters most file modules share. */
export function validateAttrs(p: { mode?: unknown; owner?: unknown; group?: unknown }, what: string): void {
  if (p.mode !== undefined) validateMode(p.mode, what);
  for (const field of ['owner', 'group'] as const) {
    const v = p[field];
    if (v !== undefined && (typeof v !== 'string' || v === '' || /[\s:]/.test(v))) {
      throw new InputError(`${what}: ${field} must be a user or group name or id (got ${JSON.stringify(v)})`);
    }
  }
}

/** Throws unless a validate command contains %s (the temporary file it checks). */
export function validateValidate(cmd: unknown, what: string): void {
  if (cmd === undefined) return;
  if (typeof cmd !== 'string' || !cmd.includes('%s')) {
    throw new InputError(`${what}: validate must be a command containing %s for the file to check (got ${JSON.stringify(cmd)})`);
  }
}
