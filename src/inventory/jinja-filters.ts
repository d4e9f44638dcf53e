// Ansible's filters, on plain values: nothing here reads a file, runs a program or evaluates inventory text as code.

import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, resolve } from 'node:path';
import { toPlainValue } from './values.js';
import { loadYaml } from './yaml-load.js';
import { sha512Crypt } from './jinja-crypt.js';
import { pythonRandom } from './jinja-random.js';
import { Missing, NativeText, defined, pyEquals, pyJson, pyOrder, pyRegex, pyRepr, pyReplacement, pyText, pyTruth, pyType, pyYaml, toInt, truthy, unwrap } from './jinja-python.js';
import { callTest } from './jinja-tests.js';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Missing);

/** Python's list(): text gives its characters, a mapping its keys. */
function pyList(v: unknown, what = 'list'): unknown[] {
  v = defined(v);
  if (Array.isArray(v)) return [...v];
  if (typeof v === 'string') return [...v];
  if (isDict(v)) return Object.keys(v);
  throw new Error(`${what}: '${pyType(v)}' object is not iterable`);
}

/** Jinja's attribute getter: `a.b.0` walks mappings and list indexes; what is missing is undefined. */
function attrGetter(attribute: unknown): (item: unknown) => unknown {
  const parts = pyText(attribute).split('.');
  return (item) => {
    let v = item;
    for (const part of parts) {
      if (Array.isArray(v) && /^-?\d+$/.test(part)) v = v[Number(part) < 0 ? v.length + Number(part) : Number(part)];
      else if (isDict(v) && Object.hasOwn(v, part)) v = v[part];
      else return new Missing(part, `'${isDict(v) ? 'dict object' : pyType(v) + ' object'}' has no attribute '${part}'`);
      if (v === undefined) return new Missing(part, `'list object' has no element ${part}`);
    }
    return v;
  };
}

/** Jinja's sort key: text compared case-insensitively unless asked. */
const sortKey = (caseSensitive: boolean) => (v: unknown) => (!caseSensitive && typeof v === 'string' ? v.toLowerCase() : v);

/** Ansible's combine: later mappings win; recursive merges nested mappings; list_merge says what lists do. */
function combineTwo(a: Dict, b: Dict, recursive: boolean, listMerge: string): Dict {
  const out: Dict = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    const av = out[k];
    if (recursive && isDict(av) && isDict(bv)) out[k] = combineTwo(av, bv, recursive, listMerge);
    else if (Array.isArray(av) && Array.isArray(bv) && listMerge !== 'replace') {
      if (listMerge === 'keep') out[k] = av;
      else if (listMerge === 'append') out[k] = [...av, ...bv];
      else if (listMerge === 'prepend') out[k] = [...bv, ...av];
      else if (listMerge === 'append_rp') out[k] = [...av.filter((x) => !bv.some((y) => pyEquals(x, y))), ...bv];
      else if (listMerge === 'prepend_rp') out[k] = [...bv, ...av.filter((x) => !bv.some((y) => pyEquals(x, y)))];
      else throw new Error(`combine: list_merge must be one of replace, keep, append, prepend, append_rp, prepend_rp (got '${listMerge}')`);
    } else out[k] = bv;
  }
  return out;
}

/** Python's %-formatting, as Jinja's format filter: %s %r %d %i %f %e %g %x %o %c %% with flags, width, precision. */
export function percentFormat(fmt: string, args: unknown[]): string {
  let i = 0;
  const byName = args.length === 1 && isDict(args[0]) ? args[0] : undefined;
  const out = fmt.replace(/%(\((\w+)\))?([-+ 0#]*)(\d+|\*)?(?:\.(\d+))?([sdirfFeEgGxXoc%])/g, (_m, _k, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    let v: unknown;
    if (key !== undefined) {
      if (!byName || !Object.hasOwn(byName, key)) throw new Error(`format: no value for %(${key})`);
      v = byName[key];
    } else {
      if (i >= args.length) throw new Error('format: not enough arguments for format string');
      v = args[i++];
    }
    const p = prec === undefined ? undefined : Number(prec);
    const num = () => {
      if (typeof v === 'number' || typeof v === 'boolean') return Number(v);
      throw new Error(`format: %${conv} format: a real number is required, not ${pyType(v)}`);
    };
    let text: string;
    if (conv === 's') text = pyText(v);
    else if (conv === 'r') text = pyRepr(v);
    else if (conv === 'd' || conv === 'i') text = String(Math.trunc(num()));
    else if (conv === 'f' || conv === 'F') text = num().toFixed(p ?? 6);
    else if (conv === 'e' || conv === 'E') text = num().toExponential(p ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
    else if (conv === 'g' || conv === 'G') text = String(Number(num().toPrecision(p || 6)));
    else if (conv === 'x' || conv === 'X') text = Math.trunc(num()).toString(16);
    else if (conv === 'o') text = Math.trunc(num()).toString(8);
    else text = typeof v === 'number' ? String.fromCodePoint(v) : pyText(v);
    if (conv === 's' && p !== undefined) text = text.slice(0, p);
    if (conv === 'X' || conv === 'E' || conv === 'G') text = text.toUpperCase();
    if ('dieEfFgGxXo'.includes(conv) && !text.startsWith('-')) {
      if (flags.includes('+')) text = `+${text}`;
      else if (flags.includes(' ')) text = ` ${text}`;
    }
    const w = width === '*' ? Number(args[i++]) : Number(width ?? 0);
    if (text.length < w) {
      if (flags.includes('-')) text = text.padEnd(w);
      else if (flags.includes('0') && conv !== 's') {
        const sign = /^[-+ ]/.test(text) ? text[0]! : '';
        text = sign + text.slice(sign.length).padStart(w - sign.length, '0');
      } else text = text.padStart(w);
    }
    return text;
  });
  if (!byName && i < args.length) throw new Error('format: not all arguments converted during string formatting');
  return out;
}

/** Python's str.split: without a separator, runs of whitespace split and the ends are trimmed. */
function pySplit(s: string, sep?: unknown, maxsplit = -1): string[] {
  if (sep === undefined || sep === null) {
    const parts: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest !== '') {
      if (maxsplit >= 0 && parts.length === maxsplit) {
        parts.push(rest.replace(/\s+$/, ''));
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        parts.push(rest);
        break;
      }
      parts.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return parts;
  }
  const d = pyText(sep);
  if (d === '') throw new Error('split: empty separator');
  const all = s.split(d);
  if (maxsplit < 0 || all.length <= maxsplit + 1) return all;
  return [...all.slice(0, maxsplit), all.slice(maxsplit).join(d)];
}

/** Python's shlex.quote. */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Python's json.dumps(indent=4, sort_keys=True, separators=(',', ': ')): Ansible's to_nice_json. */
function niceJson(v: unknown, indent: number, level = 0): string {
  const pad = ' '.repeat(indent * (level + 1));
  const end = ' '.repeat(indent * level);
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => pad + niceJson(x, indent, level + 1)).join(',\n')}\n${end}]` : '[]';
  if (isDict(v)) {
    const keys = Object.keys(v).sort();
    return keys.length ? `{\n${keys.map((k) => `${pad}${pyJson(k)}: ${niceJson(v[k], indent, level + 1)}`).join(',\n')}\n${end}}` : '{}';
  }
  return pyJson(v);
}

/** Python's re.findall: the whole matches, or the group when there is one, or lists of the groups. */
function findAll(text: string, re: RegExp): unknown[] {
  const out: unknown[] = [];
  for (const m of text.matchAll(re)) out.push(m.length === 1 ? m[0] : m.length === 2 ? (m[1] ?? '') : m.slice(1).map((g) => g ?? ''));
  return out;
}

/** Applies a named test to an item, as select/selectattr do (no test: the item's truth). */
function passes(item: unknown, test: unknown, args: unknown[]): boolean {
  if (test === undefined) return pyTruth(item);
  return callTest(pyText(test), item, args);
}

const HASHES = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

export const FILTERS: Record<string, (...args: never[]) => unknown> = {
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
  list: (value: unknown) => pyList(value),
  ternary: (value: unknown, yes: unknown, no: unknown, none: unknown = null) => (value === null && none !== null ? none : pyTruth(value) ? yes : no),
  combine: (...terms: unknown[]) => {
    const kw = (isDict(terms[terms.length - 1]) && Object.hasOwn(terms[terms.length - 1] as Dict, '__keywords') ? terms.pop() : {}) as Dict;
    for (const k of Object.keys(kw)) if (!['__keywords', 'recursive', 'list_merge'].includes(k)) throw new Error(`combine: unexpected keyword argument '${k}' (it takes: recursive, list_merge)`);
    const dicts = terms.flatMap((t) => (Array.isArray(t) ? t : [t]));
    for (const d of dicts) if (!isDict(d)) throw new Error(`combine expects dictionaries, got ${pyRepr(d)}`);
    return (dicts as Dict[]).reduce((a, b) => combineTwo(a, b, kw['recursive'] === true, pyText(kw['list_merge'] ?? 'replace')), {});
  },
  dict2items: (value: unknown, keyName = 'key', valueName = 'value') => {
    if (!isDict(value)) throw new Error(`dict2items requires a dictionary, got ${pyType(value)} instead.`);
    return Object.entries(value).map(([k, v]) => ({ [keyName]: k, [valueName]: v }));
  },
  items2dict: (value: unknown, keyName = 'key', valueName = 'value') => {
    if (!Array.isArray(value)) throw new Error(`items2dict requires a list, got ${pyType(value)} instead.`);
    const out: Dict = {};
    for (const item of value) {
      if (!isDict(item) || !Object.hasOwn(item, keyName) || !Object.hasOwn(item, valueName)) throw new Error(`items2dict requires each item to have '${keyName}' and '${valueName}' keys: ${pyRepr(item)}`);
      out[pyText(item[keyName])] = item[valueName];
    }
    return out;
  },
  unique: (value: unknown, caseSensitive: unknown = false, attribute: unknown = null) => {
    const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
    const key = (x: unknown) => { const v = get(x); return caseSensitive === false && typeof v === 'string' ? v.toLowerCase() : v; };
    const out: unknown[] = [];
    for (const x of pyList(value, 'unique')) if (!out.some((y) => pyEquals(key(y), key(x)))) out.push(x);
    return out;
  },
  sort: (value: unknown, reverse = false, caseSensitive = false, attribute: unknown = null) => {
    const getters = attribute === null ? [(x: unknown) => x] : pyText(attribute).split(',').map((a) => attrGetter(a.trim()));
    const key = sortKey(caseSensitive);
    const sorted = pyList(value, 'sort').sort((a, b) => {
      for (const g of getters) {
        const c = pyOrder(key(defined(g(a))), key(defined(g(b))));
        if (c !== 0) return c;
      }
      return 0;
    });
    return reverse ? sorted.reverse() : sorted;
  },
  format: (value: unknown, ...args: unknown[]) => percentFormat(pyText(value), args),
  zip: (value: unknown, ...others: unknown[]) => {
    const lists = [pyList(value, 'zip'), ...others.map((o) => pyList(o, 'zip'))];
    return Array.from({ length: Math.min(...lists.map((l) => l.length)) }, (_x, i) => lists.map((l) => l[i]));
  },
  zip_longest: (value: unknown, ...others: unknown[]) => {
    const last = others[others.length - 1];
    const fill = isDict(last) && Object.hasOwn(last, '__keywords') ? (others.pop() as Dict)['fillvalue'] ?? null : null;
    const lists = [pyList(value, 'zip_longest'), ...others.map((o) => pyList(o, 'zip_longest'))];
    return Array.from({ length: Math.max(...lists.map((l) => l.length)) }, (_x, i) => lists.map((l) => (i < l.length ? l[i] : fill)));
  },
  flatten: (value: unknown, levels: unknown = null, skipNulls = true) => {
    const walk = (list: unknown[], depth: number): unknown[] =>
      list.flatMap((x) => {
        if (skipNulls && (x === null || x === 'None')) return [];
        if (Array.isArray(x) && (levels === null || depth < Number(levels))) return walk(x, depth + 1);
        return [x];
      });
    return walk(pyList(value, 'flatten'), 0);
  },
  product: (value: unknown, ...others: unknown[]) => {
    const last = others[others.length - 1];
    const repeat = isDict(last) && Object.hasOwn(last, '__keywords') ? Number((others.pop() as Dict)['repeat'] ?? 1) : 1;
    const base = [pyList(value, 'product'), ...others.map((o) => pyList(o, 'product'))];
    const lists = Array.from({ length: repeat }, () => base).flat();
    return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((prefix) => l.map((x) => [...prefix, x])), [[]]);
  },
  min: (value: unknown, attribute: unknown = null, caseSensitive = false) => {
    const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
    const key = sortKey(caseSensitive);
    const l = pyList(value, 'min');
    return l.length ? l.reduce((a, b) => (pyOrder(key(get(b)), key(get(a))) < 0 ? b : a)) : new Missing('min', 'No aggregated item, sequence was empty.');
  },
  max: (value: unknown, attribute: unknown = null, caseSensitive = false) => {
    const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
    const key = sortKey(caseSensitive);
    const l = pyList(value, 'max');
    return l.length ? l.reduce((a, b) => (pyOrder(key(get(b)), key(get(a))) > 0 ? b : a)) : new Missing('max', 'No aggregated item, sequence was empty.');
  },
  sum: (value: unknown, attribute: unknown = null, start: unknown = 0) => {
    const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
    return pyList(value, 'sum').reduce((acc: unknown, x) => {
      const v = defined(get(x));
      if (Array.isArray(acc) && Array.isArray(v)) return [...acc, ...v];
      if ((typeof acc === 'number' || typeof acc === 'boolean') && (typeof v === 'number' || typeof v === 'boolean')) return Number(acc) + Number(v);
      throw new Error(`unsupported operand type(s) for +: '${pyType(acc)}' and '${pyType(v)}'`);
    }, start);
  },
  select: (value: unknown, test?: unknown, ...args: unknown[]) => pyList(value, 'select').filter((x) => passes(x, test, args)),
  reject: (value: unknown, test?: unknown, ...args: unknown[]) => pyList(value, 'reject').filter((x) => !passes(x, test, args)),
  selectattr: (value: unknown, attribute: unknown, test?: unknown, ...args: unknown[]) => {
    const get = attrGetter(attribute);
    return pyList(value, 'selectattr').filter((x) => passes(get(x), test, args));
  },
  rejectattr: (value: unknown, attribute: unknown, test?: unknown, ...args: unknown[]) => {
    const get = attrGetter(attribute);
    return pyList(value, 'rejectattr').filter((x) => !passes(get(x), test, args));
  },
  map: (value: unknown, ...args: unknown[]) => {
    const last = args[args.length - 1];
    const kw = isDict(last) && Object.hasOwn(last, '__keywords') ? (args.pop() as Dict) : undefined;
    const list = pyList(value, 'map');
    if (kw && Object.hasOwn(kw, 'attribute')) {
      const get = attrGetter(kw['attribute']);
      const dflt = Object.hasOwn(kw, 'default') ? kw['default'] : undefined;
      return list.map((x) => { const v = get(x); return v instanceof Missing && dflt !== undefined ? dflt : v; });
    }
    const name = pyText(args.shift());
    const filter = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!filter) throw new Error(`filter not found: ${name}`);
    return list.map((x) => unwrap((filter as (...a: unknown[]) => unknown)(x, ...args, ...(kw ? [kw] : []))));
  },
  regex_search: (value: unknown, pattern: unknown, ...args: unknown[]) => {
    const last = args[args.length - 1];
    const kw = isDict(last) && Object.hasOwn(last, '__keywords') ? (args.pop() as Dict) : {};
    const re = pyRegex(pyText(pattern), `${kw['ignorecase'] ? 'i' : ''}${kw['multiline'] ? 'm' : ''}`);
    const m = re.exec(pyText(value));
    if (!m) return null;
    if (!args.length) return m[0];
    return args.map((a) => {
      const g = /^\\(\d+)$/.exec(pyText(a)) ?? /^\\g<(\d+)>$/.exec(pyText(a));
      if (g) return m[Number(g[1])] ?? null;
      const named = /^\\g<(\w+)>$/.exec(pyText(a));
      if (named) return m.groups?.[named[1]!] ?? null;
      throw new Error(`regex_search: unknown argument ${pyRepr(a)}`);
    });
  },
  regex_findall: (value: unknown, pattern: unknown, multiline = false, ignorecase = false) =>
    findAll(pyText(value), pyRegex(pyText(pattern), `g${ignorecase ? 'i' : ''}${multiline ? 'm' : ''}`)),
  split: (value: unknown, sep?: unknown, maxsplit = -1) => pySplit(pyText(value), sep, maxsplit),
  b64encode: (value: unknown) => Buffer.from(pyText(value), 'utf8').toString('base64'),
  b64decode: (value: unknown) => Buffer.from(pyText(value), 'base64').toString('utf8'),
  hash: (value: unknown, hashtype: unknown = 'sha1') => {
    const h = pyText(hashtype);
    if (!HASHES.has(h)) throw new Error(`hash: the hash type "${h}" is not supported (supported: ${[...HASHES].join(', ')})`);
    return createHash(h).update(pyText(value), 'utf8').digest('hex');
  },
  checksum: (value: unknown) => createHash('sha1').update(pyText(value), 'utf8').digest('hex'),
  password_hash: (value: unknown, hashtype: unknown = 'sha512', salt: unknown = null, rounds: unknown = null) => {
    const h = pyText(hashtype);
    if (h !== 'sha512' && h !== 'sha512_crypt') throw new Error(`password_hash: the hash type "${h}" is not supported (supported: sha512, sha512_crypt)`);
    return sha512Crypt(pyText(value), salt === null ? undefined : pyText(salt), rounds === null ? undefined : Number(rounds));
  },
  to_nice_json: (value: unknown, indent = 4) => new NativeText(niceJson(value, Number(indent))),
  to_nice_yaml: (value: unknown, indent = 4) => new NativeText(pyYaml(value, { nice: true, indent: Number(indent) })),
  from_json: (value: unknown) => {
    try {
      return JSON.parse(pyText(value)) as unknown;
    } catch (err) {
      throw new Error(`from_json: ${(err as Error).message}`);
    }
  },
  from_yaml: (value: unknown) => (typeof value === 'string' ? toPlainValue(loadYaml(value, 'from_yaml').value) : value),
  quote: (value: unknown) => shellQuote(pyText(value)),
  basename: (value: unknown) => basename(pyText(value)),
  dirname: (value: unknown) => { const p = pyText(value); return p.includes('/') ? p.slice(0, p.lastIndexOf('/')).replace(/(.)\/+$/, '$1') || '/' : ''; },
  expanduser: (value: unknown) => pyText(value).replace(/^~(?=$|\/)/, homedir()),
  realpath: (value: unknown) => { const p = resolve(pyText(value)); try { return realpathSync(p); } catch { return p; } },
  random: (value: unknown, start: unknown = null, step: unknown = null, seed: unknown = null) => {
    const r = pythonRandom(seed === null ? undefined : seed);
    if (typeof value === 'number' && Number.isInteger(value)) return r.randrange(Number(start ?? 0) || 0, value, Number(step ?? 1) || 1);
    if (start || step) throw new Error('start and step can only be used with integer values');
    return r.choice(pyList(value, 'random'));
  },
  mandatory: (value: unknown, msg?: string) => {
    if (value === undefined || value instanceof Missing) {
      throw new Error(msg ?? `Mandatory variable ${value instanceof Missing ? `'${value.name}' ` : ''}not defined.`);
    }
    return value;
  },
};
FILTERS['d'] = FILTERS['default']!;

/** The names of the parameters after the value, for keyword arguments (`sort(attribute='name')`). */
export const FILTER_PARAMS: Record<string, string[]> = {
  default: ['default_value', 'boolean'], d: ['default_value', 'boolean'], int: ['default', 'base'],
  replace: ['old', 'new', 'count'], join: ['d', 'attribute'], regex_replace: ['regex', 'replace', 'ignorecase', 'multiline'],
  ternary: ['true_val', 'false_val', 'none_val'], dict2items: ['key_name', 'value_name'], items2dict: ['key_name', 'value_name'],
  unique: ['case_sensitive', 'attribute'], sort: ['reverse', 'case_sensitive', 'attribute'], flatten: ['levels', 'skip_nulls'],
  min: ['attribute', 'case_sensitive'], max: ['attribute', 'case_sensitive'], sum: ['attribute', 'start'],
  regex_findall: ['regex', 'multiline', 'ignorecase'], split: ['sep', 'maxsplit'], hash: ['hashtype'],
  password_hash: ['hashtype', 'salt', 'rounds'], to_nice_json: ['indent'], to_nice_yaml: ['indent'], random: ['start', 'step', 'seed'],
  mandatory: ['msg'],
};
/** Filters that read nunjucks' keyword arguments themselves (they take any number of positional ones). */
export const OWN_KEYWORDS = new Set(['combine', 'zip_longest', 'product', 'map', 'regex_search', 'select', 'reject', 'selectattr', 'rejectattr', 'format']);

/** The filters a variable's template may use. */
export const SUPPORTED_FILTERS = Object.keys(FILTERS).sort();

