// One check of every task's parameters, when the task is built: values a host cannot be handed safely are refused,
// naming the parameter, before any host is touched.
import { InputError } from '../errors.js';

/** Parameters whose value is content (file bodies, stdin, text shown or rendered): any byte is kept exactly. */
const contentKeys = new Set(['content', 'stdin', 'vars', 'line', 'msg', 'contains', 'body']);

/** Parameters naming a user or a group (module parameters, not nested values). */
const identityKeys = new Set(['owner', 'group']);

/**
 * A user or group name as chown takes one: a numeric id, or a name of letters, digits, `_`, `.`, `@` and `-` (not
 * first, so it cannot read as an option), optionally ending in `$` (Samba machine accounts), at most 256 characters.
 */
const identity = /^(?:\d+|[A-Za-z0-9_.@][A-Za-z0-9_.@-]*\$?)$/;

/** Throws unless `value` is a user or group name or id (see `identity`). */
export function checkIdentity(value: unknown, param: string, what: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length > 256 || !identity.test(value)) {
    throw new InputError(
      `${what}: ${param} must be a user or group name (letters, digits, '_', '.', '@', '-', not starting with '-') or a numeric id (got ${JSON.stringify(value)})`,
    );
  }
}

/**
 * Walks a task's parameters: a NUL byte in any string that is not content is refused (no shell, no argv and no path
 * can carry it; it would be dropped or cut silently), and `owner`/`group` must be names or ids. Buffers, functions and
 * objects that are not plain (a Date, a class instance) are not walked.
 */
export function validateTaskValues(module: string, taskName: string, params: object): void {
  const what = `${module} task '${taskName.replace(/\0/g, '\\0')}'`;
  for (const [key, value] of Object.entries(params)) {
    if (identityKeys.has(key)) checkIdentity(value, key, what);
    if (!contentKeys.has(key)) walk(value, key, what, 0);
  }
}

function walk(value: unknown, path: string, what: string, depth: number): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    const at = value.indexOf('\0');
    if (at >= 0) {
      throw new InputError(`${what}: ${path} contains a NUL byte (at character ${at}), which cannot be passed to a host; only file content and stdin may hold one`);
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, `${path}[${i}]`, what, depth + 1));
    return;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\0')) throw new InputError(`${what}: ${path} has a key with a NUL byte, which cannot be passed to a host`);
      walk(v, `${path}.${k}`, what, depth + 1);
    }
  }
}
