// Loads YAML the way Ansible's loader (PyYAML, YAML 1.1) types it, keeping line numbers for error messages.

import { createRequire } from 'node:module';
import type { Document, LineCounter, Node } from 'yaml';
import { InventoryError } from '../errors.js';
import { type InventoryValue, UnsafeText, VaultText } from './values.js';
import { decryptVault, isVaultText } from './vault.js';
import { secret } from '../secret.js';

// yaml (~70 modules) loads at the first YAML file read: an INI inventory with no group_vars/host_vars never needs it.
const require = createRequire(import.meta.url);
type Yaml = typeof import('yaml');
let yamlModule: Yaml | undefined;
const yaml = (): Yaml => (yamlModule ??= require('yaml') as Yaml);
const isAlias = ((n: unknown) => yaml().isAlias(n)) as Yaml['isAlias'];
const isMap = ((n: unknown) => yaml().isMap(n)) as Yaml['isMap'];
const isScalar = ((n: unknown) => yaml().isScalar(n)) as Yaml['isScalar'];
const isSeq = ((n: unknown) => yaml().isSeq(n)) as Yaml['isSeq'];

type Obj = { [key: string]: InventoryValue };

/** Where things were in the source: line of each map and of each of its keys, and which keys were not strings. */
export interface YamlLines {
  lineOf(value: object): number | undefined;
  keyLine(map: object, key: string): number | undefined;
  /** True when the key was written as a non-string (a number, a boolean…): Ansible refuses such host names. */
  keyNotString(map: object, key: string): boolean;
}

export interface LoadedYaml {
  value: InventoryValue;
  lines: YamlLines;
}

// PyYAML's implicit resolvers (yaml/resolver.py), in the order it tries them
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function constructInt(text: string): number {
  let v = text.replace(/_/g, '');
  const sign = v[0] === '-' ? -1 : 1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '0') return 0;
  if (v.startsWith('0b')) return sign * parseInt(v.slice(2), 2);
  if (v.startsWith('0x')) return sign * parseInt(v.slice(2), 16);
  if (v[0] === '0') return sign * parseInt(v, 8);
  if (v.includes(':')) return sign * sexagesimal(v);
  return sign * Number(v);
}

function constructFloat(text: string): number {
  let v = text.replace(/_/g, '').toLowerCase();
  const sign = v[0] === '-' ? -1 : 1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) return sign * sexagesimal(v);
  return sign * Number(v);
}

/** A YAML timestamp as Ansible prints it: Python's date/datetime isoformat(). */
function constructTimestamp(text: string): string {
  const m =
    /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)?$/.exec(
      text,
    )!;
  const p2 = (s: string | undefined) => (s ?? '0').padStart(2, '0');
  const date = `${m[1]}-${p2(m[2])}-${p2(m[3])}`;
  if (m[4] === undefined) return date;
  let out = `${date}T${p2(m[4])}:${m[5]}:${m[6]}`;
  const frac = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  if (Number(frac) !== 0) out += `.${frac}`;
  if (m[8] === 'Z') out += '+00:00';
  else if (m[8]) out += `${m[9]}${p2(m[10])}:${p2(m[11])}`;
  return out;
}

/** Types a plain (unquoted, untagged) scalar as PyYAML does. */
export function resolvePlainScalar(text: string): InventoryValue {
  if (BOOL.test(text)) return /^(?:yes|true|on)$/i.test(text);
  if (FLOAT.test(text)) return constructFloat(text);
  if (INT.test(text)) return constructInt(text);
  if (NULL.test(text)) return null;
  if (TIMESTAMP.test(text)) return constructTimestamp(text);
  return text;
}

function keyString(key: InventoryValue): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'number' || typeof key === 'boolean') return String(key);
  return JSON.stringify(key);
}

class Converter {
  private readonly lines = new WeakMap<object, number>();
  private readonly keyLines = new WeakMap<object, Map<string, number>>();
  private readonly nonStringKeys = new WeakMap<object, Set<string>>();
  private readonly done = new Map<Node, InventoryValue>();

  constructor(
    private readonly doc: Document,
    private readonly counter: LineCounter,
    private readonly file: string,
  ) {}

  private line(node: Node | null | undefined): number | undefined {
    return node?.range ? this.counter.linePos(node.range[0]).line : undefined;
  }

  convert(node: unknown): InventoryValue {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.convert(node.resolve(this.doc));
    const known = this.done.get(node as Node);
    if (known !== undefined) return known;
    if (isScalar(node)) return this.scalar(node);
    if (isSeq(node)) {
      const arr: InventoryValue[] = [];
      this.done.set(node, arr);
      this.lines.set(arr, this.line(node) ?? 0);
      for (const item of node.items) arr.push(this.convert(item));
      return arr;
    }
    if (isMap(node)) return this.map(node);
    throw new InventoryError(this.file, this.line(node as Node), 'unsupported YAML node');
  }

  private scalar(node: import('yaml').Scalar): InventoryValue {
    const text = String(node.value ?? '');
    const tag = node.tag;
    const fail = (detail: string): never => {
      throw new InventoryError(this.file, this.line(node), detail);
    };
    if (tag === undefined || tag === '!') {
      return node.type === 'PLAIN' && tag === undefined ? resolvePlainScalar(text) : text;
    }
    switch (tag) {
      case 'tag:yaml.org,2002:str':
        return text;
      case '!unsafe':
        return new UnsafeText(text);
      case 'tag:yaml.org,2002:int':
        return INT.test(text) ? constructInt(text) : fail(`invalid !!int value: ${text}`);
      case 'tag:yaml.org,2002:float':
        return FLOAT.test(text) || INT.test(text) ? constructFloat(text) : fail(`invalid !!float value: ${text}`);
      case 'tag:yaml.org,2002:bool':
        return BOOL.test(text) ? /^(?:yes|true|on)$/i.test(text) : fail(`invalid !!bool value: ${text}`);
      case 'tag:yaml.org,2002:null':
        return null;
      case '!vault':
        return new VaultText(text, decryptVault(text, this.file, this.line(node)));
      default:
        return fail(`unsupported YAML tag ${tag}`);
    }
  }

  private map(node: import('yaml').YAMLMap): Obj {
    const obj: Obj = {};
    this.done.set(node, obj);
    this.lines.set(obj, this.line(node) ?? 0);
    const keyLines = new Map<string, number>();
    const nonString = new Set<string>();
    this.keyLines.set(obj, keyLines);
    this.nonStringKeys.set(obj, nonString);
    // PyYAML: merged maps (<<) first, earlier ones in a list winning, then the map's own keys
    const merged: Obj[] = [];
    const own: [string, InventoryValue, number | undefined, boolean][] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (isScalar(keyNode) && keyNode.type === 'PLAIN' && keyNode.tag === undefined && keyNode.value === '<<') {
        const v = this.convert(pair.value);
        const sources = Array.isArray(v) ? v : [v];
        for (const s of sources) {
          if (s === null || typeof s !== 'object' || Array.isArray(s) || s instanceof UnsafeText || s instanceof VaultText) {
            throw new InventoryError(this.file, this.line(keyNode), 'expected a mapping or list of mappings for merging');
          }
          merged.push(s);
        }
        continue;
      }
      const key = this.convert(keyNode);
      own.push([keyString(key), this.convert(pair.value), this.line(keyNode) ?? this.line(pair.value as Node), typeof key !== 'string']);
    }
    for (const s of merged.reverse()) {
      for (const [k, v] of Object.entries(s)) obj[k] = v;
    }
    for (const [k, v, line, notString] of own) {
      obj[k] = v;
      if (line !== undefined) keyLines.set(k, line);
      if (notString) nonString.add(k);
      else nonString.delete(k);
    }
    return obj;
  }

  yamlLines(): YamlLines {
    return {
      lineOf: (v) => this.lines.get(v),
      keyLine: (m, k) => this.keyLines.get(m)?.get(k),
      keyNotString: (m, k) => this.nonStringKeys.get(m)?.has(k) ?? false,
    };
  }
}

/** Marks every string of a decrypted file secret (numbers and booleans are left: redacting every "1" helps no one). */
function markSecret(value: InventoryValue): void {
  if (typeof value === 'string') secret(value);
  else if (value instanceof UnsafeText) secret(value.text);
  else if (Array.isArray(value)) value.forEach(markSecret);
  else if (value !== null && typeof value === 'object' && !(value instanceof VaultText)) Object.values(value).forEach(markSecret);
}

const NO_LINES: YamlLines = { lineOf: () => undefined, keyLine: () => undefined, keyNotString: () => false };

/**
 * Loads one YAML (or JSON) document as Ansible's loader would: JSON first, then YAML 1.1 with PyYAML's typing.
 * An empty document is null. Throws InventoryError with the line of a syntax error.
 */
export function loadYaml(text: string, file: string): LoadedYaml {
  // a whole vault-encrypted file (vars file, inventory) is decrypted first; its strings are secrets
  if (isVaultText(text)) {
    const loaded = loadYaml(decryptVault(text, file), file);
    markSecret(loaded.value);
    return loaded;
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { value: JSON.parse(trimmed) as InventoryValue, lines: NO_LINES };
    } catch {
      // not JSON: YAML below says where it is wrong
    }
  }
  const counter = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { schema: 'failsafe', version: '1.1', uniqueKeys: false, lineCounter: counter, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? (err.pos ? counter.linePos(err.pos[0]).line : undefined);
    throw new InventoryError(file, line, `YAML syntax error: ${err.message.split('\n')[0]}`);
  }
  if (text.includes('*')) checkAliasExpansion(doc, counter, file);
  const converter = new Converter(doc, counter, file);
  const value = converter.convert(doc.contents);
  return { value, lines: converter.yamlLines() };
}

/**
 * Refuses a document whose aliases expand to far more values than it holds (a "billion laughs" alias bomb), before
 * anything copies the expansion: the bound of the `yaml` library's maxAliasCount, measured on the expanded size so
 * that a large inventory that reuses an anchor on every host still loads. A recursive alias is refused as well.
 */
function checkAliasExpansion(doc: Document, counter: LineCounter, file: string): void {
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let source = 0;
  const sizeOf = (node: unknown): number => {
    if (node === null || node === undefined || typeof node !== 'object') return 1;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) return 1;
      if (open.has(target as Node)) {
        throw new InventoryError(file, node.range ? counter.linePos(node.range[0]).line : undefined, `YAML alias *${node.source} refers to a node that contains it`);
      }
      return sizeOf(target);
    }
    const known = sizes.get(node as Node);
    if (known !== undefined) return known;
    source++;
    open.add(node as Node);
    let n = 1;
    if (isSeq(node) || isMap(node)) {
      for (const item of node.items as unknown[]) {
        if (item !== null && typeof item === 'object' && 'key' in item && 'value' in item) n += sizeOf((item as { key: unknown }).key) + sizeOf((item as { value: unknown }).value);
        else n += sizeOf(item);
      }
    }
    open.delete(node as Node);
    sizes.set(node as Node, n);
    return n;
  };
  const total = sizeOf(doc.contents);
  const limit = 10 * source + 100_000;
  if (total > limit) {
    throw new InventoryError(file, undefined, `YAML aliases expand ${source} values to ${total} (more than ${limit}): refused as an alias bomb`);
  }
}
