// Jinja's and Ansible's tests (`x is version('2.17', '>=')`, `x is match(…)`), on plain values. The file tests look
// at the controller's files (as Ansible's do) and read nothing from them.

import { existsSync, lstatSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import { Missing, callWithKeywords, defined, pyEquals, pyIn, pyRegex, pyText, pyTruth } from './jinja-python.js';

/** Python's re.match/re.search with Ansible's ignorecase and multiline flags. */
export function regexTest(value: unknown, pattern: unknown, ignorecase = false, multiline = false, matchType = 'search'): boolean {
  const flags = `${ignorecase ? 'i' : ''}${multiline ? 'm' : ''}`;
  const text = pyText(value);
  const source = pyText(pattern);
  if (matchType === 'match') return pyRegex(`^(?:${source})`, flags.replace('m', '')).test(text) || (multiline && pyRegex(`^(?:${source})`, flags).exec(text)?.index === 0);
  if (matchType === 'fullmatch') return pyRegex(`^(?:${source})$(?![\\s\\S])`, flags.replace('m', '')).test(text);
  if (matchType !== 'search') throw new Error(`"${matchType}" is not a valid regex match_type (match, fullmatch, search)`);
  return pyRegex(source, flags).test(text);
}

// ---- version comparison, as Ansible's version test (LooseVersion, StrictVersion, SemanticVersion) ----

type Part = number | string;

function looseParts(v: string): Part[] {
  return v.split(/(\d+|[a-z]+|\.)/i).filter((p) => p && p !== '.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function strictParts(v: string): Part[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$/.exec(v);
  if (!m) throw new Error(`invalid version number '${v}'`);
  // a release sorts after its pre-releases: 'z' stands above 'a' and 'b'
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), m[4] ?? 'z', Number(m[5] ?? 0)];
}

function semverCompare(a: string, b: string): number {
  const re = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
  const pa = re.exec(a);
  const pb = re.exec(b);
  if (!pa) throw new Error(`invalid semantic version '${a}'`);
  if (!pb) throw new Error(`invalid semantic version '${b}'`);
  for (let i = 1; i <= 3; i++) if (Number(pa[i]) !== Number(pb[i])) return Number(pa[i]) - Number(pb[i]);
  if (!pa[4] || !pb[4]) return pa[4] ? -1 : pb[4] ? 1 : 0;
  const xa = pa[4].split('.');
  const xb = pb[4].split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    const x = xa[i];
    const y = xb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareParts(a: Part[], b: Part[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x !== typeof y) throw new Error(`Version comparison failed: '<' not supported between instances of '${typeof x === 'number' ? 'int' : 'str'}' and '${typeof y === 'number' ? 'int' : 'str'}'`);
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

const VERSION_OPS: Record<string, (c: number) => boolean> = {
  '==': (c) => c === 0, '=': (c) => c === 0, eq: (c) => c === 0,
  '<': (c) => c < 0, lt: (c) => c < 0, '<=': (c) => c <= 0, le: (c) => c <= 0,
  '>': (c) => c > 0, gt: (c) => c > 0, '>=': (c) => c >= 0, ge: (c) => c >= 0,
  '!=': (c) => c !== 0, '<>': (c) => c !== 0, ne: (c) => c !== 0,
};

/** Ansible's `version` test: loose by default; strict (or strict=True), semver/semantic; pep440 is refused by name. */
export function versionTest(value: unknown, version: unknown, operator = 'eq', strict?: boolean, versionType?: string): boolean {
  const op = VERSION_OPS[operator];
  if (!op) throw new Error(`Invalid operator type (${operator})`);
  if (strict && versionType) throw new Error('Cannot specify both \'strict\' and \'version_type\'');
  const type = versionType ?? (strict ? 'strict' : 'loose');
  const a = pyText(value);
  const b = pyText(version);
  if (!a) throw new Error('Input version value cannot be empty');
  if (!b) throw new Error('Version parameter to compare against cannot be empty');
  let c: number;
  if (type === 'loose') c = compareParts(looseParts(a), looseParts(b));
  else if (type === 'strict') c = compareParts(strictParts(a), strictParts(b));
  else if (type === 'semver' || type === 'semantic') c = semverCompare(a, b);
  else throw new Error(`Invalid version type (${type}). Must be one of loose, strict, semver, semantic (pep440 is not supported)`);
  return op(c);
}

// ---- the tests ----

const expandUser = (p: unknown): string => pyText(p).replace(/^~(?=$|\/)/, homedir());
const isMapping = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
const items = (v: unknown): unknown[] => (Array.isArray(v) ? v : typeof v === 'string' ? [...v] : isMapping(v) ? Object.keys(v as object) : []);

/** Ansible's boolean() as the truthy test's convert_bool reads text. */
function asBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.toLowerCase();
  if (['yes', 'on', '1', 'true', 'y', 't'].includes(t)) return true;
  if (['no', 'off', '0', 'false', 'n', 'f', ''].includes(t)) return false;
  return v;
}

/**
 * The tests by name. Each gets the tested value first; a type test is false for an undefined value, every other test
 * fails on one (defined/undefined excepted), as under Ansible's StrictUndefined.
 */
export const TESTS: Record<string, (value: unknown, ...args: never[]) => boolean> = {
  defined: (v) => v !== undefined && !(v instanceof Missing),
  undefined: (v) => v === undefined || v instanceof Missing,
  none: (v) => v === null,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' || typeof v === 'boolean',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  mapping: (v) => isMapping(v),
  iterable: (v) => typeof defined(v) === 'string' || Array.isArray(v) || isMapping(v),
  sequence: (v) => typeof defined(v) === 'string' || Array.isArray(v) || isMapping(v),
  lower: (v) => pyText(defined(v)) === pyText(v).toLowerCase(),
  upper: (v) => pyText(defined(v)) === pyText(v).toUpperCase(),
  even: (v) => Number(defined(v)) % 2 === 0,
  odd: (v) => Math.abs(Number(defined(v)) % 2) === 1,
  divisibleby: (v, n: number) => Number(defined(v)) % n === 0,
  eq: (v, o: unknown) => pyEquals(v, o),
  ne: (v, o: unknown) => !pyEquals(v, o),
  truthy: (v, convertBool = false) => pyTruth(convertBool ? asBoolean(v) : v),
  falsy: (v, convertBool = false) => !pyTruth(convertBool ? asBoolean(v) : v),
  match: (v, pattern: unknown, ignorecase = false, multiline = false) => regexTest(defined(v), pattern, ignorecase, multiline, 'match'),
  search: (v, pattern: unknown, ignorecase = false, multiline = false) => regexTest(defined(v), pattern, ignorecase, multiline, 'search'),
  regex: (v, pattern: unknown, ignorecase = false, multiline = false, matchType = 'search') => regexTest(defined(v), pattern, ignorecase, multiline, matchType),
  in: (v, seq: unknown) => pyIn(v, seq),
  contains: (seq, v: unknown) => pyIn(v, seq),
  subset: (a, b: unknown) => items(defined(a)).every((x) => items(b).some((y) => pyEquals(x, y))),
  superset: (a, b: unknown) => items(b).every((x) => items(defined(a)).some((y) => pyEquals(x, y))),
  version: (v, version: unknown, operator = 'eq', strict?: boolean, versionType?: string) => versionTest(defined(v), version, operator, strict, versionType),
  exists: (p) => existsSync(expandUser(defined(p))),
  file: (p) => existsSync(pyText(defined(p))) && statSync(pyText(p)).isFile(),
  directory: (p) => existsSync(pyText(defined(p))) && statSync(pyText(p)).isDirectory(),
  link: (p) => { try { return lstatSync(pyText(defined(p))).isSymbolicLink(); } catch { return false; } },
  abs: (p) => isAbsolute(pyText(defined(p))),
};
for (const [alias, name] of Object.entries({ '==': 'eq', equalto: 'eq', '!=': 'ne', version_compare: 'version', is_file: 'file', is_dir: 'directory', is_link: 'link', is_abs: 'abs', issubset: 'subset', issuperset: 'superset' })) {
  TESTS[alias] = TESTS[name]!;
}

/** The names of the parameters after the value, for keyword arguments (`version_type='semver'`). */
export const TEST_PARAMS: Record<string, string[]> = {
  truthy: ['convert_bool'], falsy: ['convert_bool'],
  match: ['pattern', 'ignorecase', 'multiline'], search: ['pattern', 'ignorecase', 'multiline'],
  regex: ['pattern', 'ignorecase', 'multiline', 'match_type'],
  version: ['version', 'operator', 'strict', 'version_type'], version_compare: ['version', 'operator', 'strict', 'version_type'],
};

/** The tests a variable's template may use. */
export const SUPPORTED_TESTS = Object.keys(TESTS).filter((n) => /^\w+$/.test(n)).sort();

/** Runs the test named `name` on value (filters' select and selectattr name their test): an unknown name is refused. */
export function callTest(name: string, value: unknown, args: unknown[]): boolean {
  const fn = Object.hasOwn(TESTS, name) ? TESTS[name] : undefined;
  if (!fn) throw new Error(`test not found: ${name}`);
  return callWithKeywords(`the test "${name}"`, (Object.hasOwn(TEST_PARAMS, name) ? TEST_PARAMS[name] : undefined) ?? [], fn as (...a: unknown[]) => unknown, [value, ...args]) === true;
}
