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

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Files of a vars folder, sorted, recursing into sub-folders; hidden files, backups~ and other extensions skipped.
 * A dangling link, a link loop, a FIFO (which would block the read forever) or a folder link back to one already
 * read is skipped with a warning.
 */
function dirVarsFiles(path: string, warnings?: string[], seen = new Set<string>()): string[] {
  const found: string[] = [];
  const real = realpathSync(path);
  if (seen.has(real)) {
    warnings?.push(`Skipping ${path}: a folder already read (a link back to ${real})`);
    return found;
  }
  seen.add(real);
  for (const name of readdirSync(path).sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const ext = extname(name);
    const full = join(path, name);
    if (isDir(full)) {
      if (!ext) found.push(...dirVarsFiles(full, warnings, seen));
    } else if (!ext || VARS_EXTENSIONS.includes(ext)) {
      if (isFile(full)) found.push(full);
      else warnings?.push(`Skipping ${full}: not a regular file (a dangling link, a link loop, a FIFO or a socket)`);
    }
  }
  return found;
}

/** The vars files for one group or host name in `dir`: `name` (file or folder), else name.yml, .yaml, .json — the first that exists. */
export function findVarsFiles(dir: string, name: string, warnings?: string[]): string[] {
  const base = join(dir, name);
  for (const ext of ['', ...VARS_EXTENSIONS]) {
    const path = base + ext;
    if (!existsSync(path)) continue;
    if (isDir(path)) return dirVarsFiles(path, warnings);
    if (isFile(path)) return [path];
    warnings?.push(`Skipping ${path}: not a regular file (a FIFO or a socket)`);
    return [];
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

  constructor(
    dir: string,
    /** Where skipped entries are reported (the inventory's warnings). */
    private readonly warnings?: string[],
  ) {
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
      for (const file of findVarsFiles(dir, name, this.warnings)) {
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
