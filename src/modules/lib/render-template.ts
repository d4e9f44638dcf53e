// Renders ejs templates on the controller: no HTML escaping, and a missing variable is an error naming file, line and name.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TemplateError } from '../../errors.js';

// Loaded on first use: a run without templates does not pay for ejs at start-up.
const require = createRequire(import.meta.url);
let ejsModule: typeof import('ejs') | undefined;
const loadEjs = (): typeof import('ejs') => (ejsModule ??= require('ejs') as typeof import('ejs'));

type Render = (data: Record<string, unknown>) => string;

const identifier = /^[A-Za-z_$][\w$]*$/;
const reserved = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'implements import in instanceof interface let new null package private protected public return static super switch this ' +
    'throw true try typeof var void while with yield await arguments eval locals')
    .split(' '),
);

/** Printed values pass through unchanged (config files, not HTML); printing undefined is a mistake worth stopping for. */
function printRaw(value: unknown): string {
  if (value === undefined) throw new TemplateUndefined();
  return value === null ? '' : String(value);
}

class TemplateUndefined extends Error {
  constructor() {
    super('a printed expression is undefined (a missing property?)');
  }
}

/** Compiles a template whose top-level names are `names`; any other bare name is a ReferenceError at render time. */
export function compileTemplate(source: string, file: string, names: readonly string[]): Render {
  try {
    return loadEjs().compile(source, {
      filename: file,
      strict: true,
      _with: false,
      localsName: 'locals',
      destructuredLocals: names.filter((n) => identifier.test(n) && !reserved.has(n)),
      escape: printRaw,
      compileDebug: true,
      client: false,
      async: false,
    }) as Render;
  } catch (err) {
    throw new TemplateError(`${file}: cannot compile template: ${firstLine((err as Error).message)}`);
  }
}

/** Renders template text with `data`; errors become TemplateError `file:line: why`. */
export function renderTemplate(source: string, data: Record<string, unknown>, file: string): string {
  return runTemplate(compileTemplate(source, file, Object.keys(data)), data, file);
}

function runTemplate(render: Render, data: Record<string, unknown>, file: string): string {
  try {
    return render(data);
  } catch (err) {
    throw toTemplateError(err as Error, file);
  }
}

/** Maps ejs's rethrown error (message `file:line\n context \n\n cause`) to `file:line: cause`, naming a missing variable. */
export function toTemplateError(err: Error, file: string): TemplateError {
  const msg = String(err.message);
  const where = /^(.*):(\d+)\n/.exec(msg);
  const cause = msg.includes('\n\n') ? msg.slice(msg.lastIndexOf('\n\n') + 2) : msg;
  const line = where ? `:${where[2]}` : '';
  let why = firstLine(cause);
  const missing = /^(\S+) is not defined$/.exec(why);
  if (err instanceof ReferenceError && missing) why = `undefined variable '${missing[1]}'`;
  else if (err instanceof TypeError) why = `${why} (a missing variable or property?)`;
  return new TemplateError(`${file}${line}: ${why}`);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

const cache = new Map<string, { sig: string; render: Render }>();

/**
 * Renders a template file; the compiled function is cached by path, file signature and variable names.
 * `display` is the name used in error messages (the path as the playbook wrote it).
 */
export function renderTemplateFile(path: string, data: Record<string, unknown>, display: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TemplateError(`${display}: template not found (${path})`);
  }
  const names = Object.keys(data).sort();
  const key = `${path}\0${names.join('\0')}`;
  const sig = `${st.size}:${st.mtimeMs}:${st.ino}`;
  let hit = cache.get(key);
  if (!hit || hit.sig !== sig) {
    const source = readFileSync(path, 'utf8');
    hit = { sig, render: compileTemplate(source, display, names) };
    if (cache.size > 256) cache.clear();
    cache.set(key, hit);
  }
  return runTemplate(hit.render, data, display);
}
