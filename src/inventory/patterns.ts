// Host patterns (--limit, a playbook's hosts) resolved to host names exactly as Ansible's InventoryManager does.

import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { parseAddress } from './host-range.js';
import { type Host, type InventoryData } from './model.js';

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

/** Splits `a,b` or `a:b:&c:!d` into single patterns; ranges (`web[1:3]`) and `host:port`-like words stay whole. */
export function splitHostPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern)) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Python's fnmatch.translate: a shell glob as an anchored regular expression source. */
export function globToRegExp(glob: string): RegExp {
  let res = '';
  let i = 0;
  const n = glob.length;
  while (i < n) {
    const c = glob[i++]!;
    if (c === '*') {
      while (glob[i] === '*') i++;
      res += '.*';
    } else if (c === '?') {
      res += '.';
    } else if (c === '[') {
      let j = i;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < n && glob[j] !== ']') j++;
      if (j >= n) {
        res += '\\[';
      } else {
        let stuff = glob.slice(i, j).replace(/\\/g, '\\\\');
        i = j + 1;
        if (stuff[0] === '!') stuff = '^' + stuff.slice(1);
        else if (stuff[0] === '^' || stuff[0] === '[') stuff = '\\' + stuff;
        res += stuff === '' ? '(?!)' : `[${stuff}]`;
      }
    } else {
      res += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${res})$`, 's');
}

function compilePattern(pattern: string): RegExp {
  try {
    // `~regex` is Python's re.match: anchored at the start only
    if (pattern[0] === '~') return new RegExp(`^(?:${pattern.slice(1).replace(/\(\?P</g, '(?<')})`);
    return globToRegExp(pattern);
  } catch {
    throw new InputError(`Invalid host list pattern: ${pattern}`);
  }
}

/** Orders patterns as Ansible does: plain ones, then `&` intersections, then `!` exclusions; only exclusions means all. */
function orderPatterns(patterns: string[]): string[] {
  const regular = patterns.filter((p) => p[0] !== '!' && p[0] !== '&');
  const and = patterns.filter((p) => p[0] === '&');
  const not = patterns.filter((p) => p[0] === '!');
  return [...(regular.length ? regular : ['all']), ...and, ...not];
}

function enumerateMatches(inventory: InventoryData, pattern: string): Host[] {
  const re = compilePattern(pattern);
  const results: Host[] = [];
  const groups = [...inventory.groups.keys()].filter((g) => re.test(g));
  for (const g of groups) results.push(...inventory.groups.get(g)!.allHosts());
  if (groups.length === 0 || pattern[0] === '~' || /[.?*[]/.test(pattern)) {
    for (const [name, host] of inventory.hosts) if (re.test(name)) results.push(host);
  }
  return results;
}

/** Python list indexing/slicing semantics for `group[0]`, `group[1:3]`, `group[-1]`. */
function applySubscript(hosts: Host[], start: number, end: number | undefined): Host[] {
  if (hosts.length === 0) return hosts;
  const len = hosts.length;
  const norm = (i: number) => (i < 0 ? Math.max(0, len + i) : Math.min(i, len));
  if (end) {
    const stop = end === -1 ? len - 1 : end;
    return hosts.slice(norm(start), norm(stop + 1));
  }
  const idx = start < 0 ? len + start : start;
  return idx >= 0 && idx < len ? [hosts[idx]!] : [];
}

function matchOne(inventory: InventoryData, pattern: string): Host[] {
  const p = pattern[0] === '&' || pattern[0] === '!' ? pattern.slice(1) : pattern;
  if (p[0] !== '~') {
    const m = SUBSCRIPT.exec(p);
    if (m) {
      const hosts = enumerateMatches(inventory, m[1]!);
      if (m[2] !== undefined) return applySubscript(hosts, Number(m[2]), undefined);
      return applySubscript(hosts, Number(m[3]), m[5] ? Number(m[5]) : -1);
    }
  }
  return enumerateMatches(inventory, p);
}

/** Replaces `@file` entries by the host patterns listed in that file, one a line (relative to the working directory). */
function expandFiles(patterns: string[]): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    if (p[0] !== '@') {
      out.push(p);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(p.slice(1), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(
        code === 'EISDIR' ? `Limit starting with "@" must be a file, not a directory: ${p.slice(1)}` : `Unable to find limit file ${p.slice(1)}`,
      );
    }
    out.push(...text.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
  }
  return out;
}

/**
 * The names of the hosts a pattern selects, in inventory order: `all`, `*`, names, groups, globs, `~regex`,
 * `a:b` / `a,b` union, `a:&b` intersection, `a:!b` exclusion, `group[0]` / `group[1:3]` subscripts, `@file`.
 * A pattern that matches nothing gives an empty list.
 */
export function selectHostNames(inventory: InventoryData, pattern: string): string[] {
  const patterns = orderPatterns(expandFiles(splitHostPattern(pattern)));
  let hosts: Host[] = [];
  for (const p of patterns) {
    const plain = inventory.hosts.get(p);
    if (plain) {
      hosts.push(plain);
      continue;
    }
    const that = matchOne(inventory, p);
    if (p[0] === '!') {
      const drop = new Set(that);
      hosts = hosts.filter((h) => !drop.has(h));
    } else if (p[0] === '&') {
      const keep = new Set(that);
      hosts = hosts.filter((h) => keep.has(h));
    } else {
      const existing = new Set(hosts);
      hosts.push(...that.filter((h) => !existing.has(h)));
    }
  }
  return [...new Set(hosts)].map((h) => h.name);
}

/**
 * The single patterns of a pattern that match no host, without their `&`/`!` (as Ansible names them in its
 * "Could not match supplied host pattern, ignoring: …" warning).
 */
export function unmatchedPatterns(inventory: InventoryData, pattern: string): string[] {
  return expandFiles(splitHostPattern(pattern))
    .filter((p) => !inventory.hosts.has(p) && matchOne(inventory, p).length === 0)
    .map((p) => (p[0] === '&' || p[0] === '!' ? p.slice(1) : p));
}
