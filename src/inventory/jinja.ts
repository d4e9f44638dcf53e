// Jinja2 in inventory variables, rendered lazily as Ansible's templar does: nunjucks evaluates, Ansible's filters and
// Ansible's rules for the type of a result (a lone number stays a number, "[…]" becomes a list) are added here.

import { createRequire } from 'node:module';
import type nunjucks from 'nunjucks';
import { InputError } from '../errors.js';
import { evalPythonLiteral } from './python-literal.js';
import { UnsafeText, VaultText } from './values.js';

// nunjucks (22 modules) and yaml (70) load at the first template rendered or to_yaml called: most inventories hold no
// Jinja, and a run that renders none should not pay for them.
const require = createRequire(import.meta.url);
let nunjucksModule: typeof nunjucks | undefined;
const nj = (): typeof nunjucks => (nunjucksModule ??= require('nunjucks') as typeof nunjucks);
let yamlModule: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlModule ??= require('yaml') as typeof import('yaml'));

/** A variable whose template cannot be rendered: names the variable, the file it came from and the construct. */
export class TemplateVarError extends InputError {
  override name = 'TemplateVarError';
}

/** What a rendering needs: the raw (untemplated) vars of one host, where each came from, and the magic vars. */
export interface TemplateScope {
  raw: Record<string, unknown>;
  /** The file (or `-e`, or the playbook) a variable came from, for error messages. */
  originOf(name: string): string | undefined;
  /** `groups`, `hostvars` and other magic variables, looked up after `raw`. */
  magic: Record<string, unknown>;
}

const TEMPLATE_START = /\{\{|\{%|\{#/;
const SINGLE_VAR = /^\{\{\s*(\w*)\s*\}\}$/;

/** Ansible templates only strings that hold a Jinja start marker. */
export function isPossiblyTemplate(text: string): boolean {
  return TEMPLATE_START.test(text);
}

// ---- Python's text forms of values (str() and repr()), as Jinja prints them under Ansible ----

function pyStrRepr(s: string): string {
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

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python's repr() of a value. */
export function pyRepr(v: unknown): string {
  if (v instanceof Missing) throw new Undefined(`'${v.name}' is undefined`);
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
export function pyYaml(v: unknown): string {
  const { Document, isScalar, visit } = yaml();
  const doc = new Document(v, { version: '1.1', sortMapEntries: true });
  visit(doc, {
    Map: (_k, node) => void (node.flow = node.items.every((p) => isScalar(p.value))),
    Seq: (_k, node) => void (node.flow = node.items.every((i) => isScalar(i))),
  });
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0, indentSeq: false });
}

/** Ansible's result typing (ansible_eval_concat): text that looks like a list, dict or bool becomes one. */
function convertText(out: string): unknown {
  if (out.startsWith('{') || out.startsWith('[') || out === 'True' || out === 'False') {
    const v = evalPythonLiteral(out);
    if (v !== undefined) return v;
    try {
      return JSON.parse(out) as unknown;
    } catch {
      return out;
    }
  }
  return out;
}

// ---- filters: only the ones the README lists; anything else is refused by name ----

/** The text of the string-making filters (string, to_json, to_yaml): Ansible never turns it back into data. */
class NativeText {
  constructor(readonly text: string) {}
}

const unwrap = (v: unknown): unknown => (v instanceof NativeText ? v.text : v);

class Missing {
  constructor(readonly name: string) {}
}

function pyRegex(pattern: string, flags: string): RegExp {
  const js = pattern
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return new RegExp(js, flags);
}

function pyReplacement(repl: string): string {
  return repl.replace(/\$/g, '$$$$').replace(/\\g<(\w+)>|\\(\d{1,2})|\\(.)/g, (_m, name: string | undefined, num: string | undefined, ch: string | undefined) => {
    if (name !== undefined) return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
    if (num !== undefined) return `$${num}`;
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\' } as Record<string, string>)[ch!] ?? `\\${ch}`;
  });
}

function toInt(value: unknown, dflt = 0, base = 10): number {
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

const FILTERS: Record<string, (...args: never[]) => unknown> = {
  default: (value: unknown, dflt: unknown = '', boolean = false) => (value === undefined || value instanceof Missing || (boolean && !truthy(value)) ? dflt : value),
  lower: (value: unknown) => pyText(value).toLowerCase(),
  upper: (value: unknown) => pyText(value).toUpperCase(),
  int: (value: unknown, dflt = 0, base = 10) => toInt(value, dflt, base),
  bool: (value: unknown) => {
    if (typeof value === 'boolean') return value;
    if (value === null || value === undefined) return false;
    const v = typeof value === 'string' ? value.toLowerCase() : value;
    return v === 'yes' || v === 'on' || v === '1' || v === 'true' || v === 1;
  },
  string: (value: unknown) => new NativeText(pyText(value)),
  trim: (value: unknown) => pyText(value).trim(),
  replace: (value: unknown, old: string, repl: string, count?: number) => {
    const s = pyText(value);
    const o = pyText(old);
    if (count === undefined) return s.split(o).join(pyText(repl));
    const parts = s.split(o);
    return parts.slice(0, count + 1).join(pyText(repl)) + (parts.length > count + 1 ? o + parts.slice(count + 1).join(o) : '');
  },
  join: (value: unknown, sep = '') => (Array.isArray(value) ? value.map(pyText).join(pyText(sep)) : typeof value === 'string' ? [...value].join(pyText(sep)) : pyText(value)),
  length: (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value.length : value !== null && typeof value === 'object' ? Object.keys(value).length : 0),
  first: (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value[0] : undefined),
  last: (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value[value.length - 1] : undefined),
  regex_replace: (value: unknown, pattern = '', replacement = '', ignorecase = false, multiline = false) =>
    pyText(value).replace(pyRegex(pyText(pattern), `g${ignorecase ? 'i' : ''}${multiline ? 'm' : ''}`), pyReplacement(pyText(replacement))),
  to_json: (value: unknown) => new NativeText(pyJson(value)),
  to_yaml: (value: unknown) => new NativeText(pyYaml(value)),
  mandatory: (value: unknown, msg?: string) => {
    if (value === undefined || value instanceof Missing) {
      throw new Error(msg ?? `Mandatory variable ${value instanceof Missing ? `'${value.name}' ` : ''} not defined.`);
    }
    return value;
  },
};
FILTERS['d'] = FILTERS['default']!;

/** The filters a variable's template may use. */
export const SUPPORTED_FILTERS = Object.keys(FILTERS).sort();

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

// ---- the engine ----

type Runtime = {
  suppressValue: (val: unknown, autoescape: boolean) => unknown;
  memberLookup: (obj: unknown, val: unknown) => unknown;
};
let runtimeOf: Runtime | undefined;
const rt = (): Runtime => (runtimeOf ??= (nj() as unknown as { runtime: Runtime }).runtime);

/**
 * Ansible doubles every backslash inside an expression before Jinja reads it, so a backslash in a string literal is
 * just a backslash (`'\.'` is the two characters a regex wants); nunjucks would read escapes instead.
 */
function installLiteralBackslashes(): void {
  const lexer = (nj() as unknown as { lexer: { lex: (src: string) => object } }).lexer;
  const proto = Object.getPrototypeOf(lexer.lex('')) as Record<string, unknown>;
  proto['_parseString'] = function parseString(this: { forward(): void; current(): string; isFinished(): boolean }, delimiter: string): string {
    this.forward();
    let str = '';
    while (!this.isFinished() && this.current() !== delimiter) {
      str += this.current();
      this.forward();
    }
    this.forward();
    return str;
  };
}

/** A Jinja name (Python's identifier): what nunjucks would otherwise accept as a symbol is any run of non-delimiters. */
const NAME = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;

/**
 * Inventory text is data. nunjucks' compiler writes names (symbols, filter, test and keyword names, a called name)
 * into the JavaScript it generates without escaping them, and looks names up through the prototypes of its context:
 * every symbol that is not a name is a syntax error (as in Jinja), a test is named by a name only, a called name is
 * quoted, and a name is looked up only among the template's own variables and the host's (never `constructor`,
 * `__proto__` or `valueOf`), an attribute only among a value's own.
 */
function installNamesAsData(): void {
  const lexer = (nj() as unknown as { lexer: { lex: (src: string) => object; TOKEN_SYMBOL: string } }).lexer;
  const proto = Object.getPrototypeOf(lexer.lex('')) as Record<string, unknown>;
  const nextToken = proto['nextToken'] as (this: unknown) => { type: string; value: string } | null;
  proto['nextToken'] = function checkedToken(this: unknown) {
    const tok = nextToken.call(this);
    if (tok && tok.type === lexer.TOKEN_SYMBOL && !NAME.test(tok.value)) {
      throw new Error(`unexpected ${JSON.stringify(tok.value)}: a name is letters, digits and underscores`);
    }
    return tok;
  };
  const compiler = (nj() as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } }).compiler;
  type Node = { typename: string; value?: unknown; name?: Node; args?: unknown; left: unknown; right: Node };
  type Emitter = { _emit(s: string): void; compile(n: unknown, f: unknown): void; fail(msg: string): never };
  compiler.Compiler.prototype['compileIs'] = function compileIs(this: Emitter, node: Node, frame: unknown): void {
    const test = node.right.typename === 'FunCall' ? node.right.name! : node.right;
    if (test.typename !== 'Symbol' || typeof test.value !== 'string') this.fail('a test is named by a name, as in `x is defined`');
    this._emit(`env.getTest(${JSON.stringify(test.value)}).call(context, `);
    this.compile(node.left, frame);
    if (node.right.args) {
      this._emit(',');
      this.compile(node.right.args, frame);
    }
    this._emit(') === true');
  };
  // the called name only labels the error of a call: what is not a name, a dot or a subscript of one is left out
  const nodeName = compiler.Compiler.prototype['_getNodeName'] as (this: unknown, node: unknown) => string;
  compiler.Compiler.prototype['_getNodeName'] = function safeNodeName(this: unknown, node: unknown): string {
    return nodeName.call(this, node).replace(/[^\p{L}\p{N}_.[\]' ]/gu, '?');
  };
  const own = (bag: object, name: string): boolean => Object.hasOwn(bag, name);
  (rt() as unknown as Record<string, unknown>)['contextOrFrameLookup'] = (
    context: { ctx: Record<string, unknown>; env: { globals: Record<string, unknown> } },
    frame: { lookup(name: string): unknown },
    name: string,
  ): unknown => {
    const local = frame.lookup(name);
    if (local !== undefined) return local;
    return own(context.ctx, name) ? context.ctx[name] : context.env.globals[name];
  };
}

function pyType(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'NoneType';
  return 'dict';
}

/** Python's `+`, `-`, `*`, `%` and `~`: lists concatenate, text and numbers do not mix (nunjucks would use JavaScript's). */
function pythonOperator(op: string, a: unknown, b: unknown): unknown {
  if (a instanceof Missing) throw new Undefined(`'${a.name}' is undefined`);
  if (b instanceof Missing) throw new Undefined(`'${b.name}' is undefined`);
  a = unwrap(a);
  b = unwrap(b);
  if (op === '~') return pyText(a) + pyText(b);
  const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (num(a) && num(b)) {
    const x = Number(a);
    const y = Number(b);
    if (op === '+') return x + y;
    if (op === '-') return x - y;
    if (op === '*') return x * y;
    if (y === 0) throw new Error('division by zero');
    return ((x % y) + y) % y;
  }
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (op === '*' && (typeof a === 'string' || Array.isArray(a)) && typeof b === 'number' && Number.isInteger(b)) {
    return typeof a === 'string' ? a.repeat(Math.max(0, b)) : Array.from({ length: Math.max(0, b) }, () => a as unknown[]).flat();
  }
  throw new Error(`unsupported operand types for ${op}: '${pyType(a)}' and '${pyType(b)}'`);
}

/** Makes nunjucks compile `+ - * % ~` to pythonOperator instead of JavaScript's operators. */
function installPythonOperators(): void {
  const compiler = (nj() as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } }).compiler;
  (rt() as unknown as Record<string, unknown>)['pythonOperator'] = pythonOperator;
  const ops: Record<string, string> = { compileAdd: '+', compileSub: '-', compileMul: '*', compileMod: '%', compileConcat: '~' };
  for (const [method, op] of Object.entries(ops)) {
    compiler.Compiler.prototype[method] = function emit(
      this: { _emit(s: string): void; compile(n: unknown, f: unknown): void },
      node: { left: unknown; right: unknown },
      frame: unknown,
    ): void {
      this._emit(`runtime.pythonOperator(${JSON.stringify(op)}, `);
      this.compile(node.left, frame);
      this._emit(', ');
      this.compile(node.right, frame);
      this._emit(')');
    };
  }
}

let env: nunjucks.Environment | undefined;
const compiled = new Map<string, nunjucks.Template>();

function environment(): nunjucks.Environment {
  if (env) return env;
  installLiteralBackslashes();
  installNamesAsData();
  installPythonOperators();
  env = new (nj().Environment)(null, { autoescape: false, throwOnUndefined: false });
  const filters = (env as unknown as { filters: Record<string, unknown> }).filters;
  for (const name of Object.keys(filters)) delete filters[name];
  for (const [name, fn] of Object.entries(FILTERS)) {
    env.addFilter(name, (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args.map(unwrap)));
  }
  const tests = (env as unknown as { tests: Record<string, unknown> }).tests;
  for (const name of Object.keys(tests)) if (!['defined', 'undefined', 'none'].includes(name)) delete tests[name];
  const addTest = (name: string, fn: (v: unknown) => boolean) => (tests[name] = fn);
  addTest('defined', (v: unknown) => v !== undefined && !(v instanceof Missing));
  addTest('undefined', (v: unknown) => v === undefined || v instanceof Missing);
  addTest('none', (v: unknown) => v === null);
  return env;
}

/** One render in progress: the values printed by each `{{ }}`, and the names looked up but not found. */
interface Frame {
  outputs: unknown[];
  /** The first error of this render: nunjucks wraps what is thrown through it, this keeps the original. */
  error?: Error;
}

function failIn(frame: Frame, err: Error): never {
  frame.error ??= err;
  throw err;
}

const frames: Frame[] = [];

function compile(text: string): nunjucks.Template {
  let t = compiled.get(text);
  if (!t) {
    t = new (nj().Template)(text, environment(), undefined, true);
    compiled.set(text, t);
  }
  return t;
}

/** Why a template failed, as one line: nunjucks' message without its "(unknown path)" prefix. */
function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '').replace(/\s*\n\s*/g, ' ').replace(/^Error:\s*/, '').trim();
}

/** Explains a nunjucks failure in Jinja's and the user's terms: which construct is not supported. */
function explain(message: string): string {
  const filter = /filter not found: (\w+)/.exec(message);
  if (filter) return `the filter "${filter[1]}" is not supported (supported: ${SUPPORTED_FILTERS.join(', ')})`;
  const call = /Unable to call `([^`]+)`/.exec(message);
  if (call) return `calling "${call[1]}" is not supported (lookups, queries and other functions are not; only filters: ${SUPPORTED_FILTERS.join(', ')})`;
  const test = /test not found: (\w+)/.exec(message);
  if (test) return `the test "${test[1]}" is not supported (supported: defined, undefined, none)`;
  return message;
}

class Undefined extends Error {}

/**
 * Renders one host's variables on demand: `vars.x` renders x when read (and what x refers to), never before,
 * so a broken variable no task reads does not fail the run. Results are cached per host.
 */
export class HostTemplar {
  private readonly cache = new Map<string, unknown>();
  private readonly rendering = new Set<string>();
  /** A read-only view of the variables that renders each one when it is read. */
  readonly vars: Record<string, unknown>;
  private readonly lookupScope: Record<string, unknown>;

  constructor(private readonly scope: TemplateScope) {
    const self = this;
    const has = (name: string) => Object.hasOwn(scope.raw, name) || Object.hasOwn(scope.magic, name);
    this.vars = new Proxy({} as Record<string, unknown>, {
      get: (_t, name) => (typeof name === 'string' && has(name) ? self.read(name) : undefined),
      has: (_t, name) => typeof name === 'string' && has(name),
      ownKeys: () => [...new Set([...Object.keys(scope.raw), ...Object.keys(scope.magic)])],
      getOwnPropertyDescriptor: (_t, name) =>
        typeof name === 'string' && has(name) ? { value: self.read(name), enumerable: true, configurable: true, writable: false } : undefined,
      set: () => false,
      deleteProperty: () => false,
    });
    // what a template sees: variables rendered lazily (an undefined one is a Missing marker), then True/False/None
    const consts: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false, none: null };
    this.lookupScope = new Proxy({} as Record<string, unknown>, {
      has: () => true,
      get: (_t, name) => {
        if (typeof name !== 'string') return undefined;
        if (has(name)) return self.lookup(name);
        if (Object.hasOwn(consts, name)) return consts[name];
        return new Missing(name);
      },
    });
  }

  /** What a task reads as `vars.name`: Ansible's template("{{ name }}"). */
  read(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    let value: unknown;
    if (Object.hasOwn(this.scope.raw, name)) {
      const raw = this.scope.raw[name];
      this.rendering.add(name);
      try {
        value = raw instanceof UnsafeText || raw instanceof VaultText ? raw.text : this.templateValue(raw, name);
      } finally {
        this.rendering.delete(name);
      }
      // reading is Ansible's template("{{ name }}"): a rendered number or None is printed into text once more
      if (value instanceof NativeText) value = value.text;
      else if (typeof raw === 'string' && isPossiblyTemplate(raw)) value = typeof value === 'string' || typeof value === 'number' || value === null ? convertText(pyText(value)) : value;
    } else {
      value = this.scope.magic[name];
    }
    this.cache.set(name, value);
    return value;
  }

  /** A variable looked up from inside a template. */
  private lookup(name: string): unknown {
    if (!Object.hasOwn(this.scope.raw, name)) return this.scope.magic[name];
    const frame = frames[frames.length - 1]!;
    if (this.rendering.has(name)) {
      failIn(frame, new TemplateVarError(`${this.where(name)}: recursive loop detected in template: "${name}" refers to itself`));
    }
    try {
      return unwrap(this.read(name));
    } catch (err) {
      return failIn(frame, err as Error);
    }
  }

  private where(name: string): string {
    const origin = this.scope.originOf(name);
    return `${origin ? `${origin}: ` : ''}variable "${name}"`;
  }

  /** Ansible's Templar.template on a raw value: strings rendered, lists and mappings walked. */
  private templateValue(raw: unknown, name: string): unknown {
    if (raw instanceof UnsafeText || raw instanceof VaultText) return raw.text;
    if (typeof raw === 'string') {
      if (!isPossiblyTemplate(raw)) return raw;
      const single = SINGLE_VAR.exec(raw);
      if (single && Object.hasOwn(this.scope.raw, single[1]!)) {
        const target = this.scope.raw[single[1]!];
        if (typeof target === 'boolean' || typeof target === 'number' || target === null) return target;
      }
      return this.render(raw, name);
    }
    if (Array.isArray(raw)) return raw.map((v) => unwrap(this.templateValue(v, name)));
    if (raw !== null && typeof raw === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) out[k] = unwrap(this.templateValue(v, name));
      return out;
    }
    return raw;
  }

  private render(text: string, name: string): unknown {
    let template: nunjucks.Template;
    try {
      template = compile(text);
    } catch (err) {
      throw new TemplateVarError(`${this.where(name)}: template syntax error in ${JSON.stringify(text)}: ${describe(err)}`);
    }
    const frame: Frame = { outputs: [] };
    frames.push(frame);
    const e = environment() as unknown as { globals: unknown };
    const runtime = rt();
    const saved = { suppressValue: runtime.suppressValue, memberLookup: runtime.memberLookup, globals: e.globals };
    e.globals = this.lookupScope;
    runtime.suppressValue = (val) => {
      if (val instanceof Missing) failIn(frame, new Undefined(`'${val.name}' is undefined`));
      if (val === undefined) failIn(frame, new Undefined('an attribute or item of the value is undefined'));
      frame.outputs.push(val);
      return pyText(val);
    };
    runtime.memberLookup = (obj, key) => {
      if (obj instanceof Missing) failIn(frame, new Undefined(`'${obj.name}' is undefined`));
      if (obj === undefined || obj === null) failIn(frame, new Undefined(`cannot read ${pyRepr(key)} of ${pyRepr(obj)}`));
      // only a value's own attributes and items: never its prototype's (`constructor`, `__proto__`)
      const v = typeof obj === 'object' && obj !== null && !Object.hasOwn(obj, String(key)) ? undefined : saved.memberLookup(obj, key);
      // JavaScript's own methods ('x'.toUpperCase, a list's pop) are not Jinja's: calling one is refused by name
      if (typeof v === 'function') return undefined;
      return v;
    };
    let out: string;
    try {
      out = template.render({});
    } catch (err) {
      const first = frame.error;
      if (first instanceof TemplateVarError) throw first;
      const msg = first ? first.message : explain(describe(err));
      throw new TemplateVarError(`${this.where(name)}: ${JSON.stringify(text)}: ${msg}`);
    } finally {
      runtime.suppressValue = saved.suppressValue;
      runtime.memberLookup = saved.memberLookup;
      e.globals = saved.globals;
      frames.pop();
    }
    // a lone {{ expression }} keeps a list, mapping or bool it evaluates to (what repr + literal_eval give back)
    if (frame.outputs.length === 1 && out === pyText(frame.outputs[0])) {
      const v = frame.outputs[0];
      if (v instanceof NativeText) return v;
      if (typeof v === 'boolean' || Array.isArray(v) || (v !== null && typeof v === 'object')) return v;
    }
    return convertText(out);
  }
}
