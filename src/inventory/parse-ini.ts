// Ansible's INI inventory dialect (not standard INI): sections, :vars, :children, host lines with ranges, ports and typed inline vars.

import { InventoryError } from '../errors.js';
import { expandHostPattern } from './host-range.js';
import { type InventoryData } from './model.js';
import { parseIniValue } from './python-literal.js';
import { shlexSplit } from './shlex.js';

const SECTION = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(?:#.*)?$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/u;
// Python's str.splitlines() boundaries
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

interface Pending {
  line: number;
  state: 'vars' | 'children';
  parents: string[];
}

/** Parses the text of an INI inventory into `inventory`; throws InventoryError(file, line, …) on malformed input. */
export function parseIniInventory(text: string, file: string, inventory: InventoryData): void {
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  let lineno = 0;

  const fail = (detail: string, line = lineno): never => {
    throw new InventoryError(file, line, detail);
  };
  // errors from the model (loops, bad names) get this line's number
  const atLine = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InventoryError) throw err;
      return fail((err as Error).message);
    }
  };

  const addPendingChildren = (name: string): void => {
    const decl = pending.get(name)!;
    for (const parent of decl.parents) {
      inventory.addChild(parent, name);
      const up = pending.get(parent);
      if (up && up.state === 'children') addPendingChildren(parent);
    }
    pending.delete(name);
  };

  for (const raw of text.split(LINE_BREAK)) {
    lineno++;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;

    const m = SECTION.exec(line);
    if (m) {
      group = m[1]!;
      state = m[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) {
        fail(`Section [${group}:${state}] has unknown type: ${state}`);
      }
      atLine(() => {
        if (!inventory.groups.has(group)) {
          // [g:vars] alone does not declare g; it must be declared somewhere in this file
          if (state === 'vars' && !pending.has(group)) pending.set(group, { line: lineno, state: 'vars', parents: [] });
          inventory.addGroup(group);
        }
        const decl = pending.get(group);
        if (decl && state !== 'vars') {
          if (decl.state === 'children') addPendingChildren(group);
          else pending.delete(group);
        }
      });
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(
        `Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`,
      );
    }
    if (line.startsWith('[') && !line.includes(']')) {
      // Ansible would read this as a host with a broken range; say what it most likely is
      fail(`unclosed bracket in section header '${line}'`);
    }

    if (state === 'hosts') {
      parseHostLine(line, group, inventory, fail, atLine);
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) fail(`Expected key=value, got: ${line}`);
      const key = line.slice(0, eq).trim();
      const value = parseIniValue(line.slice(eq + 1).trim());
      atLine(() => inventory.setVariable(group, key, value));
    } else {
      const gm = GROUP_NAME.exec(line);
      if (!gm) fail(`Expected group name, got: ${line}`);
      const child = gm![1]!;
      if (!inventory.groups.has(child)) {
        const decl = pending.get(child);
        if (decl) decl.parents.push(group);
        else pending.set(child, { line: lineno, state: 'children', parents: [group] });
      } else {
        atLine(() => inventory.addChild(group, child));
      }
    }
  }

  for (const [name, decl] of pending) {
    if (decl.state === 'vars') fail(`Section [${name}:vars] not valid for undefined group: ${name}`, decl.line);
    fail(`Section [${decl.parents.at(-1)}:children] includes undefined group: ${name}`, decl.line);
  }
}

function parseHostLine(
  line: string,
  group: string,
  inventory: InventoryData,
  fail: (detail: string) => never,
  atLine: <T>(fn: () => T) => T,
): void {
  let tokens: string[];
  try {
    tokens = shlexSplit(line);
  } catch (err) {
    return fail(`Error parsing host definition '${line}': ${(err as Error).message}`);
  }
  const pattern = tokens[0] ?? '';
  const { hostnames, port } = atLine(() => expandHostPattern(pattern));
  if (pattern.trim().endsWith(':') && port === undefined) {
    fail(`Invalid host pattern '${pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`);
  }
  if (hostnames.some((h) => h.trim() === '---')) {
    fail(`Invalid host pattern '${pattern}' supplied, '---' is normally a sign this is a YAML file.`);
  }
  const variables: [string, ReturnType<typeof parseIniValue>][] = [];
  for (const t of tokens.slice(1)) {
    const eq = t.indexOf('=');
    if (eq < 0) fail(`Expected key=value host variable assignment, got: ${t}`);
    variables.push([t.slice(0, eq), parseIniValue(t.slice(eq + 1))]);
  }
  atLine(() => {
    for (const name of hostnames) {
      inventory.addHost(name, group, port);
      for (const [k, v] of variables) inventory.setVariable(name, k, v);
    }
  });
}
