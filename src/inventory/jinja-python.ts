// Python's view of values as Jinja under Ansible shows them: str(), repr(), json.dumps, yaml.dump, truth, regexes,
// and the two markers a render passes around (an undefined name, text that stays text).

import { createRequire } from 'node:module';
import { UnsafeText } from './values.js';

// yaml (~70 modules) loads at the first to_yaml: a run whose inventory calls none should not pay for it.
const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlModule ??= require('yaml') as typeof import('yaml'));

// ---- Python's text forms of values (str() and repr()), as Jinja prints them under Ansible ----

export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

export function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python's repr() of a value. */
export function pyRepr(v: unknown): string {
  defined(v);
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'string') return pyStrRepr(v);
  if (v instanceof UnsafeText) return pyStrRepr(v.text);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

/** Python's str() of a value (what `{{ x }}` prints); None prints as '' under Ansible's finalize. */
export function pyText(v: unknown): string {
  if (v instanceof NativeText) return v.text;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

/** Python's json.dumps() with its default separators and ensure_ascii. */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  if (typeof v === 'string') {
    let out = '"';
    for (const ch of v) {
      const code = ch.codePointAt(0)!;
      const esc: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
      if (esc[ch]) out += esc[ch];
      else if (code >= 0x20 && code < 0x7f) out += ch;
      else if (code > 0xffff) {
        const h = code - 0x10000;
        out += `\\u${(0xd800 + (h >> 10)).toString(16)}\\u${(0xdc00 + (h & 0x3ff)).toString(16)}`;
      } else out += `\\u${code.toString(16).padStart(4, '0')}`;
    }
    return `${out}"`;
  }
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`).join(', ')}}`;
  return pyJson(String(v));
}

/** PyYAML's dump with Ansible's to_yaml options (default_flow_style=None): flow style for collections of scalars. */
export function pyYaml(v: unknown, opts: { nice?: boolean; indent?: number } = {}): string {
  if (opts.nice) return niceYaml(v, opts.indent ?? 4);
  const { Document, isScalar, visit } = yaml();
  const doc = new Document(v, { version: '1.1', sortMapEntries: true });
  visit(doc, {
    Map: (_k, node) => void (node.flow = node.items.every((p) => isScalar(p.value))),
    Seq: (_k, node) => void (node.flow = node.items.every((i) => isScalar(i))),
  });
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0, indentSeq: false });
}

/** PyYAML's block style (default_flow_style=False, indent=N), as to_nice_yaml writes: lists indentless, `-   key`. */
function niceYaml(v: unknown, indent: number): string {
  const { Document } = yaml();
  const scalar = (x: unknown): string => new Document(x, { version: '1.1' }).toString({ lineWidth: 0 }).replace(/\n(\.\.\.\n)?$/, '');
  const isColl = (x: unknown) => x !== null && typeof x === 'object' && (Array.isArray(x) ? x.length > 0 : Object.keys(x).length > 0);
  const lines: string[] = [];
  // first: what goes before the first line (a key's or a dash's prefix); col: the column of the following lines
  const emit = (x: unknown, first: string | undefined, col: number): void => {
    const pad = ' '.repeat(col);
    if (Array.isArray(x)) {
      x.forEach((item, i) => {
        const dash = `${i === 0 && first !== undefined ? first : pad}-`;
        if (isColl(item)) emit(item, dash + ' '.repeat(Math.max(1, indent - 1)), col + indent);
        else lines.push(`${dash} ${scalar(item)}`);
      });
    } else {
      Object.keys(x as object).sort().forEach((k, i) => {
        const val = (x as Record<string, unknown>)[k];
        const key = `${i === 0 && first !== undefined ? first : pad}${scalar(k)}:`;
        if (!isColl(val)) lines.push(`${key} ${scalar(val)}`);
        else {
          lines.push(key);
          emit(val, undefined, Array.isArray(val) ? col : col + indent);
        }
      });
    }
  };
  if (!isColl(v)) return `${scalar(v)}\n${typeof v === 'object' ? '' : '...\n'}`;
  emit(v, undefined, 0);
  return `${lines.join('\n')}\n`;
}

/** Ansible's result typing (ansible_eval_concat): text that looks like a list, dict or bool becomes one. */

/** The text of the string-making filters (string, to_json, to_yaml): Ansible never turns it back into data. */
export class NativeText {
  constructor(readonly text: string) {}
}

export const unwrap = (v: unknown): unknown => (v instanceof NativeText ? v.text : v);

/**
 * Ansible's AnsibleUndefined: a name (or attribute, or a variable whose own template met one) that is not defined.
 * It may be passed on, tested (`is defined`) and replaced (`default`); any other use fails with `message`.
 */
export class Missing {
  constructor(
    readonly name: string,
    readonly message = `'${name}' is undefined`,
  ) {}
}

/** Fails when v is undefined: what every use of a value but `default`, `is defined` and passing it on does. */
export function defined<T>(v: T): T {
  if (v instanceof Missing) {
    const err = new Undefined(v.message);
    undefinedSeen.hook?.(err);
    throw err;
  }
  return v;
}

/** Told of every use of an undefined value before it is thrown: the engine keeps the first (its wrapping loses it). */
export const undefinedSeen: { hook?: (err: Undefined) => void } = {};

/** Python's bool(): empty lists, mappings and text are false; an undefined value fails. */
export function pyTruth(v: unknown): boolean {
  return truthy(unwrap(defined(v)));
}

/** Python's ==: lists and mappings compare by content, 1 == 1.0 == True. */
export function pyEquals(a: unknown, b: unknown): boolean {
  a = unwrap(defined(a));
  b = unwrap(defined(b));
  if (a instanceof UnsafeText) a = a.text;
  if (b instanceof UnsafeText) b = b.text;
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) return Number(a) === Number(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = b as Record<string, unknown>;
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(kb, k) && pyEquals((a as Record<string, unknown>)[k], kb[k]));
  }
  return a === b || (a == null && b == null);
}

/** Python's <, <=, >, >=: numbers with numbers, text with text, lists item by item; anything else is a TypeError. */
export function pyOrder(a: unknown, b: unknown): number {
  a = unwrap(defined(a));
  b = unwrap(defined(b));
  const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (num(a) && num(b)) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEquals(a[i], b[i])) return pyOrder(a[i], b[i]);
    }
    return a.length - b.length;
  }
  throw new Error(`'<' not supported between instances of '${pyType(a)}' and '${pyType(b)}'`);
}

/** Python's `in`: an item of a list, a key of a mapping, a substring of text. */
export function pyIn(item: unknown, container: unknown): boolean {
  item = unwrap(defined(item));
  container = unwrap(defined(container));
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw new Error(`'in <string>' requires string as left operand, not ${pyType(item)}`);
    return container.includes(item);
  }
  if (container !== null && typeof container === 'object') return typeof item === 'string' && Object.hasOwn(container, item);
  throw new Error(`argument of type '${pyType(container)}' is not iterable`);
}

export function pyRegex(pattern: string, flags: string): RegExp {
  const js = pattern
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return new RegExp(js, flags);
}

export function pyReplacement(repl: string): string {
  return repl.replace(/\$/g, '$$$$').replace(/\\g<(\w+)>|\\(\d{1,2})|\\(.)/g, (_m, name: string | undefined, num: string | undefined, ch: string | undefined) => {
    if (name !== undefined) return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
    if (num !== undefined) return `$${num}`;
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\' } as Record<string, string>)[ch!] ?? `\\${ch}`;
  });
}

export function toInt(value: unknown, dflt = 0, base = 10): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : dflt;
  if (typeof value === 'string') {
    const t = value.trim().replace(/_/g, '');
    const asInt = base === 10 ? /^[-+]?\d+$/.test(t) : /^[-+]?[0-9a-z]+$/i.test(t);
    if (asInt) {
      const n = parseInt(t, base);
      if (!Number.isNaN(n)) return n;
    }
    const f = Number(t);
    if (t !== '' && Number.isFinite(f) && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return Math.trunc(f);
  }
  return dflt;
}

export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

export function pyType(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'NoneType';
  return 'dict';
}

/** An undefined value was used (printed, compared, iterated, given to a filter): Ansible's AnsibleUndefinedVariable. */
export class Undefined extends Error {}

/**
 * Calls fn with nunjucks' keyword arguments (a last `{ __keywords: true, … }` argument) put in their places by name;
 * an unknown keyword is refused by name.
 */
export function callWithKeywords(what: string, names: readonly string[], fn: (...a: unknown[]) => unknown, args: unknown[]): unknown {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  if (!last || typeof last !== 'object' || !Object.hasOwn(last, '__keywords')) return fn(...args);
  const positional = args.slice(0, -1);
  for (const [k, v] of Object.entries(last)) {
    if (k === '__keywords') continue;
    const at = names.indexOf(k);
    if (at < 0) throw new Error(`${what} got an unexpected keyword argument '${k}'${names.length ? ` (it takes: ${names.join(', ')})` : ''}`);
    // the value comes first, then the parameters in order
    while (positional.length < at + 1) positional.push(undefined);
    positional[at + 1] = v;
  }
  return fn(...positional);
}
