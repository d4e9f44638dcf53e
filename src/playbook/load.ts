// Loads a user's TypeScript playbook at run time (no build step) and checks that it exports a playbook.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { PlaybookError } from '../errors.js';
import type { Playbook } from './types.js';

/** Imports `file` through tsx and returns its default export, validated as a Playbook. */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const path = resolve(file);
  if (!existsSync(path)) throw new PlaybookError(`${file}: no such playbook file`);
  let mod: { default?: unknown };
  try {
    mod = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
  } catch (err) {
    throw new PlaybookError(`${file}: the playbook does not load: ${describeLoadError(err)}`);
  }
  // tsx may wrap a module's exports once more under `default`.
  let pb = mod.default;
  if (pb && typeof pb === 'object' && 'default' in pb && !('tasks' in pb)) pb = (pb as { default: unknown }).default;
  return validatePlaybook(file, pb);
}

function describeLoadError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // esbuild's syntax errors carry file:line:column in `errors`.
  const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> })
    .errors;
  if (errors && errors.length > 0) {
    return errors
      .map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text))
      .join('\n');
  }
  const frame = err.stack?.split('\n').find((l) => l.includes('file://') && !l.includes('node_modules'));
  return frame ? `${err.message}\n  ${frame.trim()}` : err.message;
}

/** Checks the shape of a playbook object; a clear error names the file and the missing field. */
export function validatePlaybook(file: string, value: unknown): Playbook {
  if (!value || typeof value !== 'object') {
    throw new PlaybookError(`${file}: must default-export a playbook: export default definePlaybook({ name, hosts, tasks })`);
  }
  const pb = value as Record<string, unknown>;
  const missing = ['name', 'hosts', 'tasks'].filter((k) => pb[k] === undefined);
  if (missing.length > 0) {
    throw new PlaybookError(`${file}: the exported playbook has no ${missing.join(', ')}`);
  }
  if (typeof pb.hosts !== 'string') throw new PlaybookError(`${file}: hosts must be a host pattern string`);
  if (typeof pb.tasks !== 'function' && !Array.isArray(pb.tasks)) {
    throw new PlaybookError(`${file}: tasks must be a list of tasks or a function returning one`);
  }
  return value as Playbook;
}
