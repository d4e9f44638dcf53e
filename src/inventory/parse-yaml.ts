// Ansible's YAML inventory: top-level keys are groups, each with hosts:, children:, vars:, as its yaml plugin reads them.

import { InventoryError } from '../errors.js';
import { expandHostPattern } from './host-range.js';
import { type InventoryData } from './model.js';
import { type InventoryValue, UnsafeText, VaultText } from './values.js';
import { loadYaml, type YamlLines } from './yaml-load.js';

type Obj = { [key: string]: InventoryValue };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof UnsafeText) && !(v instanceof VaultText);

/** Python's type name, for messages that mirror Ansible's. */
function typeName(v: InventoryValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string' || v instanceof UnsafeText) return 'a string';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a number';
}

/**
 * Parses a YAML inventory into `inventory`. Returns false when the text is not a YAML inventory at all
 * (empty, or not a mapping), so a caller may try INI as Ansible does; throws InventoryError on a malformed one.
 * `warnings` receives what Ansible only warns about (skipped keys).
 */
export function parseYamlInventory(text: string, file: string, inventory: InventoryData, warnings: string[] = []): boolean {
  const { value: data, lines } = loadYaml(text, file);
  if (data === null) return false;
  if (!isObj(data)) return false;
  if (data['plugin']) {
    throw new InventoryError(file, lines.keyLine(data, 'plugin'), `inventory plugin configuration (plugin: ${String(data['plugin'])}) is not supported`);
  }
  new YamlInventoryWalker(file, inventory, lines, warnings).walkTop(data);
  return true;
}

class YamlInventoryWalker {
  constructor(
    private readonly file: string,
    private readonly inventory: InventoryData,
    private readonly lines: YamlLines,
    private readonly warnings: string[],
  ) {}

  private fail(line: number | undefined, detail: string): never {
    throw new InventoryError(this.file, line, detail);
  }

  private warn(line: number | undefined, detail: string): void {
    this.warnings.push(`${this.file}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }

  private model<T>(line: number | undefined, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InventoryError) throw err;
      return this.fail(line, (err as Error).message);
    }
  }

  walkTop(data: Obj): void {
    for (const [name, groupData] of Object.entries(data)) {
      this.group(name, groupData, this.lines.keyLine(data, name), this.lines.keyNotString(data, name));
    }
  }

  private group(name: string, data: InventoryValue, line: number | undefined, nameNotString: boolean): string {
    if (!(data === null || isObj(data))) {
      this.warn(line, `Skipping '${name}' as this is not a valid group definition`);
      return name;
    }
    if (nameNotString) this.fail(line, `Unable to add group ${name}: group names must be strings`);
    this.model(line, () => this.inventory.addGroup(name));
    if (data === null) return name;

    const sections: Record<string, Obj | null> = {};
    for (const section of ['vars', 'children', 'hosts']) {
      if (!(section in data)) continue;
      let v = data[section]!;
      if (typeof v === 'string' || v instanceof UnsafeText) v = { [typeof v === 'string' ? v : v.text]: null };
      if (!(v === null || isObj(v))) {
        this.fail(
          this.lines.keyLine(data, section),
          `Invalid "${section}" entry for "${name}" group, requires a dictionary, found ${typeName(v)} instead.`,
        );
      }
      sections[section] = v;
    }

    for (const key of Object.keys(data)) {
      const keyLine = this.lines.keyLine(data, key);
      const value = key in sections ? sections[key]! : data[key]!;
      if (!(value === null || isObj(value))) {
        this.warn(keyLine, `Skipping key (${key}) in group (${name}) as it is not a mapping, it is ${typeName(value)}`);
        continue;
      }
      if (value === null) continue;
      if (key === 'vars') {
        for (const [k, v] of Object.entries(value)) this.model(this.lines.keyLine(value, k) ?? keyLine, () => this.inventory.setVariable(name, k, v));
      } else if (key === 'children') {
        for (const [sub, subData] of Object.entries(value)) {
          const subLine = this.lines.keyLine(value, sub) ?? keyLine;
          const child = this.group(sub, subData, subLine, this.lines.keyNotString(value, sub));
          this.model(subLine, () => this.inventory.addChild(name, child));
        }
      } else if (key === 'hosts') {
        for (const [pattern, hostVars] of Object.entries(value)) {
          const hostLine = this.lines.keyLine(value, pattern) ?? keyLine;
          if (this.lines.keyNotString(value, pattern)) {
            this.fail(hostLine, `Host pattern ${pattern} must be a string. Enclose integers/floats in quotation marks.`);
          }
          if (!(hostVars === null || isObj(hostVars))) {
            this.fail(hostLine, `Invalid data for host ${pattern}, expected a dictionary of variables, got ${typeName(hostVars)}`);
          }
          const { hostnames, port } = this.model(hostLine, () => expandHostPattern(pattern));
          this.model(hostLine, () => {
            for (const host of hostnames) {
              this.inventory.addHost(host, name, port);
              for (const [k, v] of Object.entries(hostVars ?? {})) this.inventory.setVariable(host, k, v);
            }
          });
        }
      } else {
        this.warn(keyLine, `Skipping unexpected key (${key}) in group (${name}), only "vars", "children" and "hosts" are valid`);
      }
    }
    return name;
  }
}
