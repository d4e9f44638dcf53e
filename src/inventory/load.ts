// Reads -i sources (files, directories, `h1,h2` lists) into an Inventory, picking INI or YAML per file as Ansible does.

import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { InventoryError } from '../errors.js';
import { parseAddress } from './host-range.js';
import { Inventory } from './inventory.js';
import { InventoryData } from './model.js';
import { parseIniInventory } from './parse-ini.js';
import { parseYamlInventory } from './parse-yaml.js';
import { decryptVault, isVaultText } from './vault.js';
import { parseScriptInventory } from './script.js';
import { VarsDir } from './vars-files.js';

// Ansible's defaults: IGNORED_ALWAYS plus INVENTORY_IGNORE_EXTS (note: .ini files in a directory are skipped)
const IGNORED = /^\.|^host_vars$|^group_vars$|^vars_plugins$|(?:\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;
const YAML_EXTENSIONS = ['.yaml', '.yml', '.json'];

function isHostList(source: string): boolean {
  return source.includes(',') && !existsSync(source);
}

/** `-i 'web1,web2:2222,'`: hosts named on the command line, ungrouped. */
function parseHostList(source: string, inventory: InventoryData): void {
  for (const raw of source.split(',')) {
    const h = raw.trim();
    if (!h) continue;
    const parsed = h.includes('[') ? undefined : parseAddress(h);
    const name = parsed ? parsed.host : h;
    if (!inventory.hosts.has(name)) inventory.addHost(name, 'ungrouped', parsed?.port);
  }
}

/** How inventory sources are loaded. */
export interface LoadOptions {
  /**
   * Set when the sources were not named by the user (a saved plan's): an executable inventory is then refused with
   * this advice instead of run.
   */
  refuseScripts?: string;
}

/**
 * Whether YAML could read this text as a mapping (what a YAML inventory is): only with a `key:` (a colon before a blank
 * or the line's end), a flow mapping's `{` or a `?` key. Text without any is INI, and yaml (~70 modules) is not loaded
 * to find that out.
 */
export function couldBeYamlMapping(text: string): boolean {
  return /:(?:\s|$)/m.test(text) || text.includes('{') || /^\s*\?(?:\s|$)/m.test(text);
}

function parseFile(file: string, inventory: InventoryData, warnings: string[], opts: LoadOptions): void {
  const ext = extname(file);
  if (ext === '.toml') throw new InventoryError(file, undefined, 'TOML inventories are not supported; use INI or YAML');
  let text = readFileSync(file, 'utf8');
  if (isVaultText(text)) text = decryptVault(text, file);
  if (text.startsWith('#!')) {
    try {
      accessSync(file, constants.X_OK);
      if (opts.refuseScripts !== undefined) throw new InventoryError(file, undefined, `an executable inventory, not run: ${opts.refuseScripts}`);
      parseScriptInventory(file, inventory);
      return;
    } catch (err) {
      if (err instanceof InventoryError) throw err;
      // not executable: read as INI or YAML below, as Ansible's other plugins do
    }
  }
  if (YAML_EXTENSIONS.includes(ext)) {
    // an empty YAML file is an empty inventory (Ansible's INI plugin accepts it after the YAML plugin declines)
    if (!parseYamlInventory(text, file, inventory, warnings) && text.trim() !== '' && !/^(\s*#.*\n?)*\s*$/.test(text)) {
      throw new InventoryError(file, 1, 'YAML inventory has invalid structure, it should be a mapping of group names');
    }
    return;
  }
  if (!ext) {
    // no extension: Ansible tries YAML first, then INI
    let isYaml = false;
    try {
      isYaml = couldBeYamlMapping(text) && parseYamlInventory(text, file, new InventoryData());
    } catch {
      isYaml = false;
    }
    if (isYaml) {
      parseYamlInventory(text, file, inventory, warnings);
      return;
    }
  }
  try {
    parseIniInventory(text, file, inventory);
  } catch (err) {
    if (err instanceof InventoryError && /ending in ':' is not allowed/.test(err.message) && /^\s*[\w.-]+:\s*$/m.test(text)) {
      throw new InventoryError(err.file, err.line, `${err.message.slice(err.message.indexOf(': ') + 2)} (is this a YAML inventory? name it .yml or .yaml)`);
    }
    throw err;
  }
}

function parseSource(path: string, inventory: InventoryData, warnings: string[], opts: LoadOptions, seen = new Set<string>()): void {
  // What is neither a regular file nor a folder (a dangling link, a link loop, a FIFO, a socket) is skipped with a
  // warning, as Ansible's "Unable to parse ... as an inventory source" (a FIFO would block the read forever).
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'a symbolic link to nothing' : code === 'ELOOP' ? 'a symbolic link loop' : (err as Error).message;
    warnings.push(`Unable to parse ${path} as an inventory source: ${why}; skipped`);
    return;
  }
  if (st.isDirectory()) {
    const real = realpathSync(path);
    if (seen.has(real)) {
      warnings.push(`Unable to parse ${path} as an inventory source: a folder already read (a link back to ${real}); skipped`);
      return;
    }
    seen.add(real);
    for (const name of readdirSync(path).sort()) {
      if (IGNORED.test(name)) continue;
      parseSource(join(path, name), inventory, warnings, opts, seen);
    }
    return;
  }
  if (!st.isFile()) {
    warnings.push(`Unable to parse ${path} as an inventory source: not a regular file (a FIFO, socket or device); skipped`);
    return;
  }
  inventory.currentSource = path;
  parseFile(path, inventory, warnings, opts);
  inventory.currentSource = undefined;
}

/**
 * Loads inventory sources as `ansible-inventory -i A -i B` would: INI or YAML files, directories of them
 * (with group_vars/ and host_vars/ beside), or `host1,host2` lists. Throws InventoryError (`file:line: detail`).
 */
export async function loadInventory(sources: string[], opts: LoadOptions = {}): Promise<Inventory> {
  const data = new InventoryData();
  const warnings: string[] = [];
  const varsDirs: VarsDir[] = [];
  for (const source of sources) {
    if (!source) continue;
    if (isHostList(source)) {
      data.currentSource = source;
      parseHostList(source, data);
      data.currentSource = undefined;
      continue;
    }
    const path = resolve(source);
    if (!existsSync(path)) throw new InventoryError(source, undefined, 'inventory source not found');
    parseSource(path, data, warnings, opts);
    varsDirs.push(new VarsDir(statSync(path).isDirectory() ? path : dirname(path), warnings));
  }
  try {
    data.reconcile();
  } catch (err) {
    throw new InventoryError(sources.join(','), undefined, (err as Error).message);
  }
  const inventory = new Inventory(data, varsDirs, warnings);
  // read every group_vars/host_vars file now, so a malformed one fails the load, not a later lookup
  for (const name of inventory.hostNames()) inventory.hostVars(name);
  return inventory;
}
