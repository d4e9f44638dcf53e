// Inventories that are programs: run as Ansible's script plugin runs them (`--list`, `_meta.hostvars`, else `--host`).

import { spawnSync } from 'node:child_process';
import { InventoryError } from '../errors.js';
import { type InventoryData } from './model.js';
import { type InventoryValue } from './values.js';

type Obj = { [key: string]: InventoryValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function runScript(file: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  const cmd = [file, ...args].join(' ');
  if (r.error) throw new InventoryError(file, undefined, `problem running ${cmd} (${r.error.message})`);
  const stderr = r.stderr.trim();
  if (r.status !== 0) {
    throw new InventoryError(file, undefined, `inventory script ${cmd} failed (exit code ${r.status ?? r.signal})${stderr ? `: ${stderr}` : ' with nothing on stderr'}`);
  }
  return { stdout: r.stdout, stderr };
}

function parseJson(file: string, cmd: string, text: string, stderr: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InventoryError(file, undefined, `inventory script ${cmd} printed invalid JSON (${(err as Error).message})${stderr ? `; its stderr: ${stderr}` : ''}`);
  }
}

/** Runs an executable inventory file with --list (and --host NAME per host when it prints no _meta.hostvars). */
export function parseScriptInventory(file: string, inventory: InventoryData): void {
  const { stdout, stderr } = runScript(file, ['--list']);
  const data = parseJson(file, `${file} --list`, stdout, stderr);
  if (!isObj(data)) throw new InventoryError(file, undefined, `inventory script ${file} --list must print a JSON object of groups${stderr ? `; its stderr: ${stderr}` : ''}`);
  const hosts = new Set<string>();
  let meta: Obj | undefined;
  const fail = (detail: string): never => {
    throw new InventoryError(file, undefined, detail);
  };
  const model = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof InventoryError) throw err;
      fail((err as Error).message);
    }
  };
  for (const [name, raw] of Object.entries(data)) {
    if (name === '_meta') {
      if (isObj(raw) && 'hostvars' in raw) {
        const hv = raw['hostvars'];
        if (!isObj(hv)) fail(`_meta.hostvars must be a mapping of host names to variables`);
        meta = hv as Obj;
      }
      continue;
    }
    model(() => inventory.addGroup(name));
    let group: Obj = isObj(raw) ? raw : { hosts: raw };
    if (isObj(raw) && !['hosts', 'vars', 'children'].some((k) => k in raw)) group = { hosts: [name], vars: raw };
    if ('hosts' in group) {
      const list = group['hosts'];
      if (!Array.isArray(list)) fail(`group "${name}" has bad data for its host list: expected a list, got ${JSON.stringify(list)}`);
      for (const h of list as InventoryValue[]) {
        if (typeof h !== 'string') fail(`group "${name}": host names must be strings, got ${JSON.stringify(h)}`);
        hosts.add(h as string);
        model(() => inventory.addHost(h as string, name));
      }
    }
    if ('vars' in group) {
      const vars = group['vars'];
      if (!isObj(vars)) fail(`group "${name}" has bad data for its variables: expected a mapping, got ${JSON.stringify(vars)}`);
      for (const [k, v] of Object.entries(vars as Obj)) model(() => inventory.setVariable(name, k, v));
    }
    if ('children' in group) {
      const kids = group['children'];
      if (!Array.isArray(kids)) fail(`group "${name}" has bad data for its children: expected a list, got ${JSON.stringify(kids)}`);
      for (const kid of kids as InventoryValue[]) {
        model(() => {
          inventory.addGroup(String(kid));
          inventory.addChild(name, String(kid));
        });
      }
    }
  }
  for (const host of hosts) {
    let vars: unknown;
    if (meta === undefined) {
      const r = runScript(file, ['--host', host]);
      // ansible-core 2.14 fails on an empty answer too (it compares bytes with ''), so say so rather than guess {}
      if (r.stdout.trim() === '') fail(`inventory script ${file} --host ${host} printed nothing: it must print a JSON object ({} for no variables)`);
      vars = parseJson(file, `${file} --host ${host}`, r.stdout, r.stderr);
    } else {
      vars = meta[host] ?? {};
    }
    if (!isObj(vars)) fail(`variables of host ${host} must be a mapping, got ${JSON.stringify(vars)}`);
    model(() => {
      inventory.addHost(host);
      for (const [k, v] of Object.entries(vars as Obj)) inventory.setVariable(host, k, v);
    });
  }
}
