// Ansible's lookups, on the controller: env, file, template, password (file-backed) and, only when the run opts in,
// pipe (it runs a program: inventory text is data unless its user says otherwise).

import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { sha512Crypt } from './jinja-crypt.js';
import { pyText } from './jinja-python.js';

/** The environment variable that allows `lookup('pipe', …)`, as `--allow-pipe-lookup` does. */
export const PIPE_LOOKUP_ENV = 'PROVISION_ALLOW_PIPE_LOOKUP';

let pipeAllowed = false;

/** Lets `lookup('pipe', …)` run programs (provision run --allow-pipe-lookup). */
export function allowPipeLookup(allowed = true): void {
  pipeAllowed = allowed;
}

function pipeLookupAllowed(): boolean {
  const env = process.env[PIPE_LOOKUP_ENV];
  return pipeAllowed || (env !== undefined && /^(1|true|yes|on)$/i.test(env.trim()));
}

/** What a lookup needs of the render that calls it. */
export interface LookupContext {
  /** The playbook's folder (playbook_dir): relative paths are found from it, as Ansible's search path does. */
  baseDir: string;
  /** Renders a template file's text with the calling host's variables. */
  renderTemplate(text: string, path: string): unknown;
}

type Lookup = (terms: string[], kw: Record<string, unknown>, ctx: LookupContext) => unknown[];

/** Ansible's search path for a role-less play: `<playbook dir>/<subdir>/<name>`, then `<playbook dir>/<name>`. */
function findFile(ctx: LookupContext, subdir: string, name: string, what: string): string {
  const candidates = isAbsolute(name) ? [name] : [join(ctx.baseDir, subdir, name), join(ctx.baseDir, name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`could not locate file in lookup: ${name} (the ${what} lookup looked for ${candidates.join(', ')})`);
  return found;
}

const CHARSETS: Record<string, string> = {
  ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

/** `path key=value …`, the password lookup's term. */
function passwordTerm(term: string, kw: Record<string, unknown>): { path: string; params: Record<string, string> } {
  const [path, ...rest] = term.trim().split(/\s+/);
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new Error(`password lookup: "${p}" is not key=value`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  for (const [k, v] of Object.entries(kw)) params[k] = pyText(v);
  for (const k of Object.keys(params)) {
    if (!['length', 'chars', 'encrypt', 'ident'].includes(k)) throw new Error(`password lookup: the option "${k}" is not supported (supported: length, chars, encrypt)`);
  }
  return { path: path ?? '', params };
}

const LOOKUPS: Record<string, Lookup> = {
  env: (terms, kw) => terms.map((t) => process.env[t] ?? (kw['default'] === undefined ? '' : kw['default'])),
  file: (terms, kw, ctx) =>
    terms.map((t) => {
      let text = readFileSync(findFile(ctx, 'files', t, 'file'), 'utf8');
      if (kw['rstrip'] !== false) text = text.replace(/\s+$/, '');
      if (kw['lstrip'] === true) text = text.replace(/^\s+/, '');
      return text;
    }),
  template: (terms, _kw, ctx) =>
    terms.map((t) => {
      const path = findFile(ctx, 'templates', t, 'template');
      return ctx.renderTemplate(readFileSync(path, 'utf8'), path);
    }),
  password: (terms, kw, ctx) =>
    terms.map((term) => {
      const { path, params } = passwordTerm(term, kw);
      const encrypt = params['encrypt'];
      if (encrypt !== undefined && encrypt !== 'sha512_crypt') throw new Error(`password lookup: encrypt=${encrypt} is not supported (supported: sha512_crypt)`);
      const file = resolve(ctx.baseDir, path);
      let password: string;
      let salt: string | undefined;
      if (path !== '/dev/null' && existsSync(file)) {
        const [first] = readFileSync(file, 'utf8').split('\n');
        const m = /^(.*?)(?: salt=(\S+))?(?: ident=\S+)?$/.exec((first ?? '').trim());
        password = m?.[1] ?? '';
        salt = m?.[2];
      } else {
        const chars = (params['chars'] ?? 'ascii_letters,digits,.,:-_')
          .split(/,(?!,)/)
          .map((c) => CHARSETS[c] ?? c.replace(/,,/g, ','))
          .join('');
        const length = Number(params['length'] ?? 20);
        if (!Number.isInteger(length) || length <= 0) throw new Error(`password lookup: length must be a positive integer (got ${params['length']})`);
        password = Array.from({ length }, () => chars[randomInt(chars.length)]).join('');
        if (encrypt) salt = Array.from({ length: 16 }, () => CHARSETS['ascii_letters']![randomInt(52)]).join('');
        if (path !== '/dev/null') {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, `${password}${salt ? ` salt=${salt}` : ''}\n`, { mode: 0o600 });
        }
      }
      return encrypt ? sha512Crypt(password, salt) : password;
    }),
  pipe: (terms) => {
    if (!pipeLookupAllowed()) {
      throw new Error(`lookup('pipe') runs a program on the controller: it is refused unless the run allows it (--allow-pipe-lookup, or ${PIPE_LOOKUP_ENV}=1)`);
    }
    return terms.map((cmd) => {
      const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
      if (r.error) throw new Error(`lookup_plugin.pipe(${cmd}): ${r.error.message}`);
      if (r.status !== 0) throw new Error(`lookup_plugin.pipe(${cmd}) returned ${r.status}`);
      return r.stdout.replace(/\s+$/, '');
    });
  },
};

/** The lookups a variable's template may use. */
export const SUPPORTED_LOOKUPS = Object.keys(LOOKUPS).sort();

/**
 * Ansible's lookup() and query(): `lookup` joins several results with commas (one result stays itself) unless
 * wantlist=True; `query`/`q` always gives the list. An unknown lookup is refused by name.
 */
export function callLookup(kind: 'lookup' | 'query', args: unknown[], ctx: LookupContext): unknown {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  const kw: Record<string, unknown> = last && typeof last === 'object' && Object.hasOwn(last, '__keywords') ? { ...(args.pop() as object) } : {};
  delete kw['__keywords'];
  const name = pyText(args.shift());
  const lookup = Object.hasOwn(LOOKUPS, name) ? LOOKUPS[name] : undefined;
  if (!lookup) throw new Error(`the lookup "${name}" is not supported (supported: ${SUPPORTED_LOOKUPS.join(', ')})`);
  const wantlist = kw['wantlist'] === true;
  const errors = kw['errors'];
  delete kw['wantlist'];
  delete kw['errors'];
  const terms = args.flatMap((a) => (Array.isArray(a) ? a : [a])).map((t) => pyText(t));
  let results: unknown[];
  try {
    results = lookup(terms, kw, ctx);
  } catch (err) {
    if (errors === 'ignore') return kind === 'query' || wantlist ? [] : null;
    throw err;
  }
  if (kind === 'query' || wantlist) return results;
  return results.length === 1 ? results[0] : results.map((r) => pyText(r)).join(',');
}
