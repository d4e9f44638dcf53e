// group_vars/ and host_vars/ beside each inventory source, found and merged as Ansible's host_group_vars plugin does.

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InventoryError } from '../errors.js';
import { type Vars } from './model.js';
import { UnsafeText, VaultText } from './values.js';
import { loadYaml } from './yaml-load.js';

const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files of a vars folder, sorted, recursing into sub-folders; hidden files, backups~ and other extensions skipped. */
function dirVarsFiles(path: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(path).sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const ext = extname(name);
    const full = join(path, name);
    if (isDir(full)) {
      if (!ext) found.push(...dirVarsFiles(full));
    } else if (!ext || VARS_EXTENSIONS.includes(ext)) {
      found.push(full);
    }
  }
  return found;
}

/** The vars files for one group or host name in `dir`: `name` (file or folder), else name.yml, .yaml, .json — the first that exists. */
export function findVarsFiles(dir: string, name: string): string[] {
  const base = join(dir, name);
  for (const ext of ['', ...VARS_EXTENSIONS]) {
    const path = base + ext;
    if (existsSync(path)) return isDir(path) ? dirVarsFiles(path) : [path];
  }
  return [];
}

/** Loads one vars file: a mapping, or nothing when empty. */
export function loadVarsFile(path: string): Vars | undefined {
  const { value } = loadYaml(readFileSync(path, 'utf8'), path);
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof UnsafeText || value instanceof VaultText) {
    throw new InventoryError(path, undefined, `a vars file must hold a mapping of variable names to values, not ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value;
}

/** Vars from group_vars/ and host_vars/ of one inventory directory, merged per name (later files win). */
export class VarsDir {
  private readonly cache = new Map<string, Vars>();
  /** The file each variable of a cached entry came from. */
  private readonly origins = new Map<string, Record<string, string>>();
  private readonly groupDir: string | undefined;
  private readonly hostDir: string | undefined;

  constructor(dir: string) {
    const resolve = (sub: string) => {
      const p = join(dir, sub);
      return isDir(p) ? realpathSync(p) : undefined;
    };
    this.groupDir = resolve('group_vars');
    this.hostDir = resolve('host_vars');
  }

  /** Merged vars for a group or host name here; names starting with '/' are skipped as Ansible does. */
  varsFor(kind: 'group' | 'host', name: string): Vars {
    const dir = kind === 'group' ? this.groupDir : this.hostDir;
    if (!dir || name.startsWith('/')) return {};
    const key = `${kind}:${name}`;
    let vars = this.cache.get(key);
    if (!vars) {
      vars = {};
      const origins: Record<string, string> = {};
      for (const file of findVarsFiles(dir, name)) {
        const loaded = loadVarsFile(file);
        Object.assign(vars, loaded);
        for (const k of Object.keys(loaded ?? {})) origins[k] = file;
      }
      this.cache.set(key, vars);
      this.origins.set(key, origins);
    }
    return vars;
  }

  /** The file each variable of varsFor(kind, name) came from. */
  originsFor(kind: 'group' | 'host', name: string): Record<string, string> {
    this.varsFor(kind, name);
    return this.origins.get(`${kind}:${name}`) ?? {};
  }
}
