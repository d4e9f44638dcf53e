// The loaded inventory as the rest of provision sees it: hosts, groups, merged vars, patterns, and ansible-inventory's views.

import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { isIpAddress } from './host-range.js';
import { type Group, type Host, type InventoryData, type Vars } from './model.js';
import { selectHostNames, unmatchedPatterns } from './patterns.js';
import { toAnsibleJson, toPlainValue } from './values.js';
import { HostTemplar } from './jinja.js';
import { VarsDir } from './vars-files.js';
import { OMIT } from './omit.js';

/** The ansible-core release whose behaviour provision matches: what `ansible_version` says. */
export const ANSIBLE_VERSION = { full: '2.14.18', major: 2, minor: 14, revision: 18, string: '2.14.18' };

/** The controller's python3 on the PATH (Ansible's ansible_playbook_python is the Python it runs on). */
function controllerPython(): string | null {
  if (pythonFound === undefined) {
    pythonFound = null;
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      if (dir && existsSync(join(dir, 'python3'))) {
        pythonFound = join(dir, 'python3');
        break;
      }
    }
  }
  return pythonFound;
}
let pythonFound: string | null | undefined;

/** One source of variables in precedence order, with the file each variable came from. */
interface Layer {
  vars: Vars;
  origins: Record<string, string>;
}

/** Variables ansible-inventory never prints: magic and per-run values. */
const INTERNAL_VARS = new Set([
  'ansible_diff_mode', 'ansible_config_file', 'ansible_facts', 'ansible_forks', 'ansible_inventory_sources',
  'ansible_limit', 'ansible_playbook_python', 'ansible_run_tags', 'ansible_skip_tags', 'ansible_verbosity',
  'ansible_version', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short',
  'groups', 'group_names', 'omit', 'playbook_dir',
]);

/** Ansible's sort_groups: by depth, then ansible_group_priority, then name. */
function sortGroups(groups: Iterable<Group>): Group[] {
  return [...groups].sort((a, b) => a.depth - b.depth || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function withoutInternal(vars: Vars): Vars {
  const out: Vars = {};
  for (const [k, v] of Object.entries(vars)) if (!INTERNAL_VARS.has(k)) out[k] = v;
  return out;
}

/** An inventory loaded from one or more sources (see loadInventory). */
export class Inventory {
  /** What Ansible would only warn about (skipped YAML keys and the like), as `file:line: message`. */
  readonly warnings: string[];

  constructor(
    private readonly data: InventoryData,
    /** group_vars/host_vars folders, one per inventory source, in source order. */
    private readonly varsDirs: VarsDir[],
    warnings: string[] = [],
  ) {
    this.warnings = warnings;
  }

  /** Every host, in inventory order (the order of the `all` pattern). */
  hostNames(): string[] {
    return this.data.groups.get('all')!.allHosts().map((h) => h.name);
  }

  /** Every group name, sorted (all and ungrouped included). */
  groupNames(): string[] {
    return [...this.data.groups.keys()].sort();
  }

  private host(name: string): Host {
    const h = this.data.hosts.get(name);
    if (!h) throw new InputError(`host ${name} is not in the inventory`);
    return h;
  }

  /** The groups a host belongs to, parents included, sorted, without 'all' (Ansible's group_names). */
  groupsOf(host: string): string[] {
    return [...this.host(host).groups()].filter((g) => g.name !== 'all').map((g) => g.name).sort();
  }

  /** group_vars/ and host_vars/ beside the playbook: they win over the inventory's, as in Ansible. */
  private readonly playbookDirs: VarsDir[] = [];
  /** Magic variables of the run (playbook_dir, ansible_check_mode, ansible_run_tags …): they win over every other. */
  private readonly runMagic: Record<string, unknown> = {
    playbook_dir: process.cwd(),
    ansible_check_mode: false,
    ansible_diff_mode: false,
    ansible_run_tags: ['all'],
    ansible_skip_tags: [],
  };

  /** Sets magic variables of the run, as ansible-playbook's options set them (ansible_check_mode from --check …). */
  setRunVars(vars: Record<string, unknown>): void {
    Object.assign(this.runMagic, vars);
  }

  /** Below everything else (e.g. ansible.cfg's ssh_args as ansible_ssh_args), with where each came from. */
  private readonly defaults: Layer = { vars: {}, origins: {} };

  /** Sets variables of the lowest precedence, below the inventory's `all` group; `origin` names them in errors. */
  setDefaultVars(vars: Vars, origin: string): void {
    for (const [k, v] of Object.entries(vars)) {
      this.defaults.vars[k] = v;
      this.defaults.origins[k] = origin;
    }
  }

  private pluginLayers(dirs: VarsDir[], kind: 'group' | 'host', names: string[]): Layer[] {
    // source by source, then entity by entity, as get_vars_from_inventory_sources merges
    const out: Layer[] = [];
    for (const dir of dirs) for (const name of names) out.push({ vars: dir.varsFor(kind, name), origins: dir.originsFor(kind, name) });
    return out;
  }

  /**
   * Reads group_vars/ and host_vars/ beside a playbook too (Ansible's precedence: inventory group_vars/all <
   * playbook group_vars/all < inventory group_vars/<group> < playbook group_vars/<group> < inventory host vars <
   * inventory host_vars/ < playbook host_vars/). A malformed file fails here.
   */
  addPlaybookDir(dir: string): void {
    this.playbookDirs.push(new VarsDir(dir));
    for (const name of this.hostNames()) this.mergedVars(name);
  }

  /**
   * A host's variables merged as Ansible does — all < other groups (by depth, priority, name) < group_vars/all
   * < group_vars/<group> < host's inventory vars < host_vars/<host> — plus inventory_hostname,
   * inventory_hostname_short, group_names, inventory_file and inventory_dir.
   */
  hostVars(host: string): Record<string, unknown> {
    return toPlainValue(this.mergedVars(host)) as Record<string, unknown>;
  }

  private layers(host: string): Layer[] {
    const h = this.host(host);
    const all = this.data.groups.get('all')!;
    const groups = sortGroups([...h.groups()].filter((g) => g !== all));
    const source = this.data.hostSource.get(h.name);
    return [
      this.defaults,
      { vars: all.vars, origins: all.varFiles },
      ...groups.map((g) => ({ vars: g.vars, origins: g.varFiles })),
      ...this.pluginLayers(this.varsDirs, 'group', ['all']),
      ...this.pluginLayers(this.playbookDirs, 'group', ['all']),
      ...this.pluginLayers(this.varsDirs, 'group', groups.map((g) => g.name)),
      ...this.pluginLayers(this.playbookDirs, 'group', groups.map((g) => g.name)),
      { vars: { inventory_file: source ?? null, inventory_dir: source ? dirname(source) : null }, origins: {} },
      { vars: h.vars, origins: h.varFiles },
      {
        vars: {
          inventory_hostname: h.name,
          inventory_hostname_short: isIpAddress(h.name) ? h.name : h.name.split('.')[0]!,
          group_names: this.groupsOf(h.name),
        },
        origins: {},
      },
      ...this.pluginLayers(this.varsDirs, 'host', [h.name]),
      ...this.pluginLayers(this.playbookDirs, 'host', [h.name]),
    ];
  }

  private mergedVars(host: string): Vars {
    const vars: Vars = {};
    for (const layer of this.layers(host)) Object.assign(vars, layer.vars);
    return vars;
  }

  /**
   * A host's variables as tasks read them: each rendered (Jinja2, as Ansible templates inventory variables) when
   * it is read, with `overrides` (play vars, extra vars) on top and `groups`/`hostvars` available to templates.
   * `overrideOrigin` names where an override came from in error messages. Other hosts' `hostvars` get
   * `hostvarsOverrides` only (extra vars: Ansible's hostvars hold no play vars); by default, `overrides`.
   */
  templatedVars(
    host: string,
    overrides: Record<string, unknown> = {},
    overrideOrigin: (name: string) => string = () => 'extra vars',
    hostvarsOverrides: Record<string, unknown> = overrides,
  ): Record<string, unknown> {
    return this.templar(host, overrides, overrideOrigin, hostvarsOverrides).vars;
  }

  private groupsCache: Record<string, string[]> | undefined;

  /** Ansible's `groups`: every group name → its hosts, descendants' included (computed once: the inventory is fixed). */
  private groupsMagic(): Record<string, string[]> {
    if (!this.groupsCache) {
      const groups: Record<string, string[]> = {};
      for (const name of this.groupNames()) groups[name] = Object.freeze(this.data.groups.get(name)!.allHosts().map((h) => h.name)) as string[];
      // shared by every host's view, so nobody may change it
      this.groupsCache = Object.freeze(groups);
    }
    return this.groupsCache;
  }

  private templar(
    host: string,
    overrides: Record<string, unknown>,
    overrideOrigin: (name: string) => string,
    hostvarsOverrides: Record<string, unknown>,
  ): HostTemplar {
    const raw: Record<string, unknown> = {};
    const origins: Record<string, string> = {};
    for (const layer of this.layers(host)) {
      Object.assign(raw, layer.vars);
      for (const k of Object.keys(layer.vars)) {
        const o = layer.origins[k];
        if (o === undefined) delete origins[k];
        else origins[k] = o;
      }
    }
    Object.assign(raw, overrides);
    const groups = this.groupsMagic();
    const others = new Map<string, HostTemplar>();
    const hostvars: Record<string, unknown> = new Proxy({} as Record<string, unknown>, {
      get: (_t, name) => {
        if (typeof name !== 'string' || !this.data.hosts.has(name)) return undefined;
        if (name === host && overrides === hostvarsOverrides) return templar.hostvarsView;
        let t = others.get(name);
        if (!t) {
          t = this.templar(name, hostvarsOverrides, overrideOrigin, hostvarsOverrides);
          others.set(name, t);
        }
        return t.hostvarsView;
      },
      has: (_t, name) => typeof name === 'string' && this.data.hosts.has(name),
      ownKeys: () => this.hostNames(),
      getOwnPropertyDescriptor: (_t, name): PropertyDescriptor | undefined =>
        typeof name === 'string' && this.data.hosts.has(name) ? { value: hostvars[name], enumerable: true, configurable: true } : undefined,
    });
    const templar: HostTemplar = new HostTemplar({
      raw,
      originOf: (name) => (Object.hasOwn(overrides, name) ? overrideOrigin(name) : origins[name]),
      magic: {
        ...this.runMagic,
        ansible_version: ANSIBLE_VERSION,
        ansible_playbook_python: controllerPython(),
        omit: OMIT,
        groups,
        hostvars,
      },
    });
    return templar;
  }

  /** Host names a pattern selects, in inventory order; an unknown pattern gives []. */
  selectHosts(pattern: string): string[] {
    return selectHostNames(this.data, pattern);
  }

  /** The single patterns of a pattern that match no host (what Ansible warns it ignores). */
  unmatchedPatterns(pattern: string): string[] {
    return unmatchedPatterns(this.data, pattern);
  }

  /** Exactly what `ansible-inventory --list` prints (as data). */
  toList(): object {
    const results: Record<string, unknown> = {};
    const seen = new Set<string>();
    const format = (group: Group): void => {
      const entry: Record<string, string[]> = {};
      if (group.name !== 'all') entry['hosts'] = group.hosts.map((h) => h.name);
      entry['children'] = group.children.map((c) => c.name);
      results[group.name] = entry;
      for (const sub of group.children) {
        if (!seen.has(sub.name)) {
          format(sub);
          seen.add(sub.name);
        }
      }
      for (const key of ['hosts', 'children']) if (entry[key]?.length === 0) delete entry[key];
      if (Object.keys(entry).length === 0) delete results[group.name];
    };
    format(this.data.groups.get('all')!);
    const hostvars: Record<string, unknown> = {};
    for (const name of this.hostNames()) {
      const vars = this.toHost(name);
      if (Object.keys(vars).length > 0) hostvars[name] = vars;
    }
    return { _meta: { hostvars }, ...results };
  }

  /** Exactly what `ansible-inventory --host NAME` prints (as data): merged vars without magic ones. */
  toHost(host: string): Record<string, unknown> {
    return toAnsibleJson(withoutInternal(this.mergedVars(host))) as Record<string, unknown>;
  }

  /** The text of `ansible-inventory --graph` (no trailing newline), optionally from one group. */
  toGraph(group = 'all'): string {
    const start = this.data.groups.get(group);
    if (!start) throw new InputError(`Pattern must be valid group name when using --graph: ${group}`);
    const lines: string[] = [];
    const name = (text: string, depth: number) => (depth ? '  |'.repeat(depth) + '--' + text : text);
    const walk = (g: Group, depth: number): void => {
      lines.push(name(`@${g.name}:`, depth));
      for (const kid of g.children) walk(kid, depth + 1);
      if (g.name !== 'all') for (const h of g.hosts) lines.push(name(h.name, depth + 1));
    };
    walk(start, 0);
    return lines.join('\n');
  }
}
