// Jinja2 in inventory variables, rendered lazily as Ansible's templar does: nunjucks evaluates, Ansible's filters and
// Ansible's rules for the type of a result (a lone number stays a number, "[…]" becomes a list) are added here.

import { createRequire } from 'node:module';
import type nunjucks from 'nunjucks';
import { InputError } from '../errors.js';
import { evalPythonLiteral } from './python-literal.js';
import { UnsafeText, VaultText } from './values.js';
import { FILTERS, FILTER_PARAMS, OWN_KEYWORDS, SUPPORTED_FILTERS } from './jinja-filters.js';
import { SUPPORTED_TESTS, TEST_PARAMS, TESTS } from './jinja-tests.js';
import { SUPPORTED_LOOKUPS, callLookup, type LookupContext } from './jinja-lookups.js';
import { Missing, NativeText, Undefined, callWithKeywords, defined, pyEquals, pyIn, pyOrder, pyRepr, pyText, pyTruth, pyType, undefinedSeen, unwrap } from './jinja-python.js';

export { pyJson, pyRepr, pyText, pyYaml } from './jinja-python.js';

// nunjucks (22 modules) loads at the first template rendered: most inventories hold no Jinja, and a run that renders
// none should not pay for it.
const require = createRequire(import.meta.url);
let nunjucksModule: typeof nunjucks | undefined;
const nj = (): typeof nunjucks => (nunjucksModule ??= require('nunjucks') as typeof nunjucks);

/** A variable whose template cannot be rendered: names the variable, the file it came from and the construct. */
export class TemplateVarError extends InputError {
  override name = 'TemplateVarError';
  /** The template met an undefined value (Ansible's AnsibleUndefinedVariable), not another error. */
  undefinedName = false;
}

/** What a rendering needs: the raw (untemplated) vars of one host, where each came from, and the magic vars. */
export interface TemplateScope {
  raw: Record<string, unknown>;
  /** The file (or `-e`, or the playbook) a variable came from, for error messages. */
  originOf(name: string): string | undefined;
  /** `groups`, `hostvars` and other magic variables: they win over `raw`, as Ansible's magic vars win over all. */
  magic: Record<string, unknown>;
}

const TEMPLATE_START = /\{\{|\{%|\{#/;
const SINGLE_VAR = /^\{\{\s*(\w*)\s*\}\}$/;

/** Ansible templates only strings that hold a Jinja start marker. */
export function isPossiblyTemplate(text: string): boolean {
  return TEMPLATE_START.test(text);
}

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

// ---- the engine ----

type Runtime = {
  fromIterator: (v: unknown) => unknown;
  suppressValue: (val: unknown, autoescape: boolean) => unknown;
  memberLookup: (obj: unknown, val: unknown) => unknown;
};
const nunjucksRuntime = (): Runtime => (nj() as unknown as { runtime: Runtime }).runtime;

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
  const runtime = nunjucksRuntime();
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
  type Emitter = { _emit(s: string): void; compile(n: unknown, f: unknown): void; _compileAggregate(n: unknown, f: unknown): void; fail(msg: string): never };
  compiler.Compiler.prototype['compileIs'] = function compileIs(this: Emitter, node: Node, frame: unknown): void {
    const test = node.right.typename === 'FunCall' ? node.right.name! : node.right;
    // `none`, `true` and `false` are both constants and test names
    const literalTest = test.typename === 'Literal' && (test.value === null || typeof test.value === 'boolean') ? String(test.value ?? 'none') : undefined;
    if (literalTest === undefined && (test.typename !== 'Symbol' || typeof test.value !== 'string')) this.fail('a test is named by a name, as in `x is defined`');
    this._emit(`env.getTest(${JSON.stringify(literalTest ?? test.value)}).call(context, `);
    this.compile(node.left, frame);
    if (node.right.args) {
      this._emit(',');
      this._compileAggregate(node.right.args, frame);
    }
    this._emit(') === true');
  };
  // the called name only labels the error of a call: what is not a name, a dot or a subscript of one is left out
  const nodeName = compiler.Compiler.prototype['_getNodeName'] as (this: unknown, node: unknown) => string;
  compiler.Compiler.prototype['_getNodeName'] = function safeNodeName(this: unknown, node: unknown): string {
    return nodeName.call(this, node).replace(/[^\p{L}\p{N}_.[\]' ]/gu, '?');
  };
  const own = (bag: object, name: string): boolean => Object.hasOwn(bag, name);
  (runtime as unknown as Record<string, unknown>)['contextOrFrameLookup'] = (
    context: { ctx: Record<string, unknown>; env: { globals: Record<string, unknown> } },
    frame: { lookup(name: string): unknown },
    name: string,
  ): unknown => {
    const local = frame.lookup(name);
    if (local !== undefined) return local;
    return own(context.ctx, name) ? context.ctx[name] : context.env.globals[name];
  };
}


/** Python's `+`, `-`, `*`, `%` and `~`: lists concatenate, text and numbers do not mix (nunjucks would use JavaScript's). */
function pythonOperator(op: string, a: unknown, b: unknown): unknown {
  a = unwrap(defined(a));
  b = unwrap(defined(b));
  if (op === '~') return pyText(a) + pyText(b);
  const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (num(a) && num(b)) {
    const x = Number(a);
    const y = Number(b);
    if (op === '+') return x + y;
    if (op === '-') return x - y;
    if (op === '*') return x * y;
    if (op === '**') return x ** y;
    if (y === 0) throw new Error('division by zero');
    if (op === '/') return x / y;
    if (op === '//') return Math.floor(x / y);
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
  const runtime = nunjucksRuntime();
  const compiler = (nj() as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } }).compiler;
  (runtime as unknown as Record<string, unknown>)['pythonOperator'] = pythonOperator;
  const ops: Record<string, string> = {
    compileAdd: '+', compileSub: '-', compileMul: '*', compileMod: '%', compileConcat: '~', compileDiv: '/', compileFloorDiv: '//', compilePow: '**',
  };
  // unary minus and plus: numbers only, an undefined value fails (JavaScript would give NaN)
  (runtime as unknown as Record<string, unknown>)['pythonUnary'] = (op: string, v: unknown): unknown => {
    v = unwrap(defined(v));
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new Error(`bad operand type for unary ${op}: '${pyType(v)}'`);
    return op === '-' ? -Number(v) : Number(v);
  };
  for (const [method, op] of [['compileNeg', '-'], ['compilePos', '+']] as const) {
    compiler.Compiler.prototype[method] = function emit(
      this: { _emit(s: string): void; compile(n: unknown, f: unknown): void },
      node: { target: unknown },
      frame: unknown,
    ): void {
      this._emit(`runtime.pythonUnary(${JSON.stringify(op)}, `);
      this.compile(node.target, frame);
      this._emit(')');
    };
  }
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

/**
 * Ansible's StrictUndefined: a condition (`if`, `… if … else …`, `and`, `or`, `not`), a comparison, `in`, a loop and a
 * call all use Python's truth and equality, and fail on an undefined value instead of reading it as true.
 */
function installUndefinedRules(): void {
  const runtime = nunjucksRuntime();
  const compiler = (nj() as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } }).compiler;
  const proto = compiler.Compiler.prototype;
  type N = { cond: unknown; body: unknown; else_: unknown; left: unknown; right: unknown; target: unknown; expr: unknown; ops: Array<{ type: string; expr: unknown }> };
  type Emitter = {
    _emit(s: string): void;
    _emitLine(s: string): void;
    compile(n: unknown, f: unknown): void;
    _compileExpression(n: unknown, f: unknown): void;
    _withScopedSyntax(fn: () => void): void;
    fail(msg: string): never;
  };
  const rt = runtime as unknown as Record<string, unknown>;
  rt['pyTruth'] = pyTruth;
  rt['pyOr'] = (a: unknown, b: () => unknown) => (pyTruth(a) ? a : b());
  rt['pyAnd'] = (a: unknown, b: () => unknown) => (pyTruth(a) ? b() : a);
  rt['pyCompare'] = (first: unknown, ...rest: unknown[]) => {
    let left = first;
    for (let i = 0; i < rest.length; i += 2) {
      const op = rest[i] as string;
      const right = rest[i + 1];
      const ok = op === '==' ? pyEquals(left, right) : op === '!=' ? !pyEquals(left, right)
        : op === '<' ? pyOrder(left, right) < 0 : op === '>' ? pyOrder(left, right) > 0
        : op === '<=' ? pyOrder(left, right) <= 0 : pyOrder(left, right) >= 0;
      if (!ok) return false;
      left = right;
    }
    return true;
  };
  rt['inOperator'] = (item: unknown, container: unknown) => pyIn(item, container);
  const fromIterator = runtime.fromIterator;
  rt['fromIterator'] = (v: unknown) => fromIterator(unwrap(defined(v)));
  rt['callWrap'] = (fn: unknown, name: string, context: unknown, args: unknown[]) => {
    if (fn instanceof Missing) throw new Error(`Unable to call \`${name}\`, which is undefined or falsey`);
    for (const a of args) defined(a);
    if (typeof fn !== 'function') throw new Error(`Unable to call \`${name}\`, which is ${fn ? 'not a function' : 'undefined or falsey'}`);
    return (fn as (...a: unknown[]) => unknown).apply(context, args);
  };
  proto['compileIf'] = function compileIf(this: Emitter, node: N, frame: unknown, async?: boolean): void {
    if (async) this.fail('asynchronous templates are not supported');
    this._emit('if(runtime.pyTruth(');
    this._compileExpression(node.cond, frame);
    this._emitLine(')) {');
    this._withScopedSyntax(() => this.compile(node.body, frame));
    if (node.else_) {
      this._emitLine('}\nelse {');
      this._withScopedSyntax(() => this.compile(node.else_, frame));
    }
    this._emitLine('}');
  };
  proto['compileInlineIf'] = function compileInlineIf(this: Emitter, node: N, frame: unknown): void {
    this._emit('(runtime.pyTruth(');
    this.compile(node.cond, frame);
    this._emit(')?');
    this.compile(node.body, frame);
    this._emit(':');
    // Jinja's `a if c` without else gives an undefined value
    if (node.else_ !== null) this.compile(node.else_, frame);
    else this._emit('""');
    this._emit(')');
  };
  for (const [method, fn] of [['compileOr', 'pyOr'], ['compileAnd', 'pyAnd']] as const) {
    proto[method] = function emit(this: Emitter, node: N, frame: unknown): void {
      this._emit(`runtime.${fn}(`);
      this.compile(node.left, frame);
      this._emit(', function() { return ');
      this.compile(node.right, frame);
      this._emit('; })');
    };
  }
  proto['compileNot'] = function compileNot(this: Emitter, node: N, frame: unknown): void {
    this._emit('!runtime.pyTruth(');
    this.compile(node.target, frame);
    this._emit(')');
  };
  const compareOps: Record<string, string> = { '==': '==', '===': '==', '!=': '!=', '!==': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };
  proto['compileCompare'] = function compileCompare(this: Emitter, node: N, frame: unknown): void {
    this._emit('runtime.pyCompare(');
    this.compile(node.expr, frame);
    for (const op of node.ops) {
      const js = compareOps[op.type];
      if (!js) this.fail(`the comparison ${JSON.stringify(op.type)} is not supported`);
      this._emit(`, "${js}", `);
      this.compile(op.expr, frame);
    }
    this._emit(')');
  };
}

/**
 * Jinja's conditional expression chains: `a if x else b if y else c` reads the else branch as another conditional
 * (Jinja2's parse_condexpr), where nunjucks reads only an `or` there and fails with "expected variable end".
 */
function installChainedInlineIf(): void {
  type Parser = { parseOr(): { lineno: number; colno: number }; skipSymbol(s: string): boolean; parseInlineIf(): unknown };
  const nunjucks = nj() as unknown as { parser: { Parser: { prototype: Record<string, unknown> } }; nodes: { InlineIf: new (l: number, c: number) => Record<string, unknown> } };
  nunjucks.parser.Parser.prototype['parseInlineIf'] = function parseInlineIf(this: Parser): unknown {
    const body = this.parseOr();
    if (!this.skipSymbol('if')) return body;
    const node = new nunjucks.nodes.InlineIf(body.lineno, body.colno);
    node['body'] = body;
    node['cond'] = this.parseOr();
    node['else_'] = this.skipSymbol('else') ? this.parseInlineIf() : null;
    return node;
  };
}

/**
 * A filter or test that does not exist fails the whole template before it renders, as in Ansible, even in a branch
 * not taken or a loop over nothing: Jinja2's optimizer looks every filter and test up while it folds constants,
 * innermost first, and Ansible's lookup of a name it has no plugin for fails ("Could not load"). So the name
 * named is the first unknown one in that order. nunjucks would fail only on the call.
 */
function installKnownNamesFirst(): void {
  const nunjucks = nj() as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } };
  type Node = { typename: string; fields?: string[]; children?: unknown[]; value?: unknown; [k: string]: unknown };
  const unknownName = (x: unknown): string | undefined => {
    if (!x || typeof x !== 'object') return undefined;
    if (Array.isArray(x)) {
      for (const c of x) {
        const u = unknownName(c);
        if (u) return u;
      }
      return undefined;
    }
    const n = x as Node;
    if (n.typename === 'Filter' || n.typename === 'FilterAsync') {
      const inner = unknownName(n['args']);
      if (inner) return inner;
      const name = String((n['name'] as Node).value);
      return Object.hasOwn(FILTERS, name) ? undefined : `filter not found: ${name}`;
    }
    if (n.typename === 'Is') {
      const right = n['right'] as Node;
      const inner = unknownName(n['left']) ?? (right?.typename === 'FunCall' ? unknownName(right['args']) : undefined);
      if (inner) return inner;
      const test = right?.typename === 'FunCall' ? (right['name'] as Node) : right;
      const name = String(test?.value);
      return test?.typename !== 'Symbol' || Object.hasOwn(TESTS, name) ? undefined : `test not found: ${name}`;
    }
    for (const f of n.fields ?? []) {
      const u = unknownName(n[f]);
      if (u) return u;
    }
    return undefined;
  };
  const proto = nunjucks.compiler.Compiler.prototype;
  const compileRoot = proto['compileRoot'] as (this: unknown, node: Node, frame: unknown) => void;
  proto['compileRoot'] = function knownNamesFirst(this: unknown, node: Node, frame: unknown): void {
    const unknown = unknownName(node);
    if (unknown !== undefined) throw new Error(unknown);
    namesOfLastCompiled = rootNames(node);
    compileRoot.call(this, node, frame);
  };
}

/** The names the template compiled last resolves when it starts (see rootNames). */
let namesOfLastCompiled: string[] = [];

/**
 * The variable names a template resolves when it starts, as Jinja2's compiled code does for its top frame: every
 * name outside a loop's body or a macro, in any branch, under default() too, but not filter and test names,
 * keyword names, or names the template sets or loops over. Ansible renders each such variable then, so one that
 * fails (other than by meeting an undefined name) fails the template, even where the branch is not taken.
 */
function rootNames(root: unknown): string[] {
  type N = { typename: string; fields: string[]; value?: unknown; children?: unknown[]; [k: string]: unknown };
  const names = new Set<string>();
  const locals = new Set<string>();
  const local = (target: unknown): void => {
    const t = target as N | undefined;
    if (!t) return;
    if (t.typename === 'Symbol') locals.add(String(t.value));
    else for (const c of (t.children ?? []) as unknown[]) local(c);
  };
  const walk = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(walk);
    const n = x as N;
    switch (n.typename) {
      case 'Symbol':
        names.add(String(n.value));
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        walk(n['arr']);
        local(n['name']);
        return;
      case 'Macro':
      case 'Caller':
        return;
      case 'Set':
        for (const t of (n['targets'] as unknown[]) ?? []) local(t);
        walk(n['value']);
        walk(n['body']);
        return;
      case 'Filter':
      case 'FilterAsync':
        walk(n['args']);
        return;
      case 'Is': {
        walk(n['left']);
        const right = n['right'] as N;
        if (right?.typename === 'FunCall') walk(right['args']);
        return;
      }
      case 'KeywordArgs':
        for (const pair of (n.children ?? []) as N[]) walk(pair['value']);
        return;
      default:
        for (const f of n.fields ?? []) walk(n[f]);
    }
  };
  walk(root);
  return [...names].filter((name) => !locals.has(name) && name !== 'loop');
}

/** The filters an undefined value may be given to. */
const LENIENT_FILTERS = new Set(['default', 'd', 'mandatory']);

/** Fails the render in progress when v is undefined, keeping the message (nunjucks would wrap it). */
function undefinedIn(v: unknown): void {
  defined(v);
}

undefinedSeen.hook = (err) => {
  const frame = frames[frames.length - 1];
  if (frame) frame.error ??= err;
};

let env: nunjucks.Environment | undefined;
const compiled = new Map<string, nunjucks.Template>();

function environment(): nunjucks.Environment {
  if (env) return env;
  installLiteralBackslashes();
  installNamesAsData();
  installPythonOperators();
  installUndefinedRules();
  installChainedInlineIf();
  installKnownNamesFirst();
  env = new (nj().Environment)(null, { autoescape: false, throwOnUndefined: false });
  const filters = (env as unknown as { filters: Record<string, unknown> }).filters;
  for (const name of Object.keys(filters)) delete filters[name];
  for (const [name, fn] of Object.entries(FILTERS)) {
    // only default/d and mandatory take an undefined value; for any other filter it is an error, as in Ansible
    const lenient = LENIENT_FILTERS.has(name);
    env.addFilter(name, (...args: unknown[]) => {
      if (!lenient) for (const a of args) undefinedIn(a);
      const plain = args.map(unwrap);
      if (OWN_KEYWORDS.has(name)) return (fn as (...a: unknown[]) => unknown)(...plain);
      return callWithKeywords(`the filter "${name}"`, FILTER_PARAMS[name] ?? [], fn as (...a: unknown[]) => unknown, plain);
    });
  }
  const tests = (env as unknown as { tests: Record<string, unknown> }).tests;
  for (const name of Object.keys(tests)) delete tests[name];
  // a filter or test is one of these by its own name, never an inherited one (`constructor`, `__proto__`)
  const e = env as unknown as { getFilter(n: string): unknown; getTest(n: string): unknown };
  e.getFilter = (n: string) => {
    if (!Object.hasOwn(filters, n)) throw new Error(`filter not found: ${n}`);
    return filters[n];
  };
  e.getTest = (n: string) => {
    if (!Object.hasOwn(tests, n)) throw new Error(`test not found: ${n}`);
    return tests[n];
  };
  for (const [name, fn] of Object.entries(TESTS)) {
    const params = TEST_PARAMS[name] ?? [];
    tests[name] = (value: unknown, ...args: unknown[]) => {
      for (const a of args) undefinedIn(a);
      const v = value instanceof Missing ? value : unwrap(value);
      return callWithKeywords(`the test "${name}"`, params, fn as (...a: unknown[]) => unknown, [v, ...args.map(unwrap)]);
    };
  }
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

/** Each compiled template's names resolved at its start (see rootNames). */
const rootNamesOf = new WeakMap<nunjucks.Template, string[]>();

function compile(text: string): nunjucks.Template {
  let t = compiled.get(text);
  if (!t) {
    namesOfLastCompiled = [];
    t = new (nj().Template)(text, environment(), undefined, true);
    rootNamesOf.set(t, namesOfLastCompiled);
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
  if (call) return `calling "${call[1]}" is not supported (the functions are lookup, query and q, with the lookups ${SUPPORTED_LOOKUPS.join(', ')}; Python's methods are not)`;
  const test = /test not found: (\w+)/.exec(message);
  if (test) return `the test "${test[1]}" is not supported (supported: ${SUPPORTED_TESTS.join(', ')})`;
  return message;
}


/**
 * Renders one host's variables on demand: `vars.x` renders x when read (and what x refers to), never before,
 * so a broken variable no task reads does not fail the run. Results are cached per host.
 */
export class HostTemplar {
  private readonly cache = new Map<string, unknown>();
  private readonly rendering = new Set<string>();
  /** A read-only view of the variables that renders each one when it is read. */
  readonly vars: Record<string, unknown>;
  /** The same variables as `hostvars[host]` shows them to a template (see the constructor). */
  readonly hostvarsView: Record<string, unknown>;
  private readonly lookupScope: Record<string, unknown>;

  constructor(private readonly scope: TemplateScope) {
    const self = this;
    const has = (name: string) => Object.hasOwn(scope.raw, name) || Object.hasOwn(scope.magic, name);
    const view = (read: (name: string) => unknown) =>
      new Proxy({} as Record<string, unknown>, {
        get: (_t, name) => (typeof name === 'string' && has(name) ? read(name) : undefined),
        has: (_t, name) => typeof name === 'string' && has(name),
        ownKeys: () => [...new Set([...Object.keys(scope.raw), ...Object.keys(scope.magic)])],
        getOwnPropertyDescriptor: (_t, name) =>
          typeof name === 'string' && has(name) ? { value: read(name), enumerable: true, configurable: true, writable: false } : undefined,
        set: () => false,
        deleteProperty: () => false,
      });
    this.vars = view((name) => self.read(name));
    // Ansible's hostvars render with fail_on_undefined=False: a variable that meets an undefined name stays as written
    this.hostvarsView = view((name) => {
      try {
        return self.read(name);
      } catch (err) {
        if (err instanceof TemplateVarError && err.undefinedName) return scope.raw[name];
        throw err;
      }
    });
    // what a template sees: variables rendered lazily (an undefined one is a Missing marker), then True/False/None
    const consts: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false, none: null };
    // lookups run on the controller; relative paths are found from playbook_dir, as Ansible's search path does
    const lookupContext: LookupContext = {
      baseDir: typeof scope.magic['playbook_dir'] === 'string' ? scope.magic['playbook_dir'] : process.cwd(),
      renderTemplate: (text, path) => {
        const name = self.current[self.current.length - 1] ?? 'lookup';
        return isPossiblyTemplate(text) ? unwrap(self.render(text, name, `template ${path}`)) : text;
      },
    };
    const lookupFn = (kind: 'lookup' | 'query') => (...args: unknown[]) => {
      try {
        return callLookup(kind, args, lookupContext);
      } catch (err) {
        const frame = frames[frames.length - 1];
        if (frame) frame.error ??= err as Error;
        throw err;
      }
    };
    consts['lookup'] = lookupFn('lookup');
    consts['query'] = consts['q'] = lookupFn('query');
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
    // magic variables win over every other, -e included, as in Ansible
    if (!Object.hasOwn(this.scope.magic, name) && Object.hasOwn(this.scope.raw, name)) {
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
    if (Object.hasOwn(this.scope.magic, name) || !Object.hasOwn(this.scope.raw, name)) return this.scope.magic[name];
    const frame = frames[frames.length - 1]!;
    if (this.rendering.has(name)) {
      failIn(frame, new TemplateVarError(`${this.where(name)}: recursive loop detected in template: "${name}" refers to itself`));
    }
    try {
      return unwrap(this.read(name));
    } catch (err) {
      // as Ansible's lazy variables: a variable whose template meets an undefined name is itself undefined here,
      // an error only where it is used (so `x | default(…)` and `x is defined` work)
      if (err instanceof TemplateVarError && err.undefinedName) return new Missing(name, err.message);
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
      if (single && Object.hasOwn(this.scope.raw, single[1]!) && !Object.hasOwn(this.scope.magic, single[1]!)) {
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

  /** The variables being rendered, innermost last (a template lookup's errors name the variable that called it). */
  private readonly current: string[] = [];

  private render(text: string, name: string, label = JSON.stringify(text)): unknown {
    let template: nunjucks.Template;
    try {
      template = compile(text);
    } catch (err) {
      const why = describe(err);
      // an unknown filter or test, found when compiling: said as when it is called
      if (/(filter|test) not found: \w+/.test(why)) throw new TemplateVarError(`${this.where(name)}: ${label}: ${explain(why)}`);
      throw new TemplateVarError(`${this.where(name)}: template syntax error in ${label}: ${why}`);
    }
    this.current.push(name);
    try {
      return this.renderCompiled(template, name, label);
    } finally {
      this.current.pop();
    }
  }

  private renderCompiled(template: nunjucks.Template, name: string, label: string): unknown {
    const frame: Frame = { outputs: [] };
    frames.push(frame);
    const e = environment() as unknown as { globals: unknown };
    const runtime = nunjucksRuntime();
    const saved = { suppressValue: runtime.suppressValue, memberLookup: runtime.memberLookup, globals: e.globals };
    e.globals = this.lookupScope;
    runtime.suppressValue = (val) => {
      defined(val);
      if (val === undefined) failIn(frame, new Undefined('an attribute or item of the value is undefined'));
      frame.outputs.push(val);
      return pyText(val);
    };
    runtime.memberLookup = (obj, key) => {
      // Ansible's undefined gives itself for any attribute or item, so `x.y | default(…)` works when x is undefined
      if (obj instanceof Missing) return obj;
      const k = String(key);
      if (obj === undefined || obj === null) return new Missing(k, `${pyRepr(obj)} has no attribute ${pyRepr(k)}`);
      // only a value's own attributes and items: never its prototype's (`constructor`, `__proto__`)
      const v = typeof obj === 'object' && !Object.hasOwn(obj, k) ? undefined : saved.memberLookup(obj, key);
      // JavaScript's own methods ('x'.toUpperCase, a list's pop) are not Jinja's: calling one is refused by name
      if (typeof v === 'function') return undefined;
      if (v === undefined) {
        const kind = Array.isArray(obj) ? 'list object' : typeof obj === 'object' ? 'dict object' : `${pyType(obj)} object`;
        return new Missing(k, `'${kind}' has no attribute ${pyRepr(k)}`);
      }
      return v;
    };
    let out: string;
    try {
      // as Jinja2 resolves (and Ansible renders) them when the template starts, whichever branch then runs
      for (const n of rootNamesOf.get(template) ?? []) if (Object.hasOwn(this.scope.raw, n)) this.lookup(n);
      out = template.render({});
    } catch (err) {
      const first = frame.error;
      if (first instanceof TemplateVarError) throw first;
      const msg = first ? first.message : explain(describe(err));
      const failure = new TemplateVarError(`${this.where(name)}: ${label}: ${msg}`);
      failure.undefinedName = first instanceof Undefined;
      throw failure;
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
