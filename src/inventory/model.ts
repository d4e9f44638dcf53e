// The inventory's groups and hosts, with the same rules as Ansible's InventoryData so --list and precedence match it.

import { type InventoryValue } from './values.js';

export type Vars = Record<string, InventoryValue>;

/** A host: its own inventory variables, in the order Ansible keeps them. */
export class Host {
  readonly vars: Vars = {};
  /** The inventory file each variable was set in, for template error messages. */
  readonly varFiles: Record<string, string> = {};
  /** Groups that list this host directly. */
  readonly directGroups = new Set<Group>();
  constructor(readonly name: string) {}

  /** Every group of this host, ancestors included ('all' too). */
  groups(): Set<Group> {
    const out = new Set<Group>();
    for (const g of this.directGroups) {
      out.add(g);
      for (const a of g.ancestors()) out.add(a);
    }
    return out;
  }
}

/** A group: hosts and child groups in insertion order, its vars, and its depth (longest path from 'all'). */
export class Group {
  readonly hosts: Host[] = [];
  readonly children: Group[] = [];
  readonly parents: Group[] = [];
  readonly vars: Vars = {};
  /** The inventory file each variable was set in, for template error messages. */
  readonly varFiles: Record<string, string> = {};
  depth = 0;
  priority = 1;
  constructor(readonly name: string) {}

  ancestors(): Set<Group> {
    const seen = new Set<Group>();
    const stack = [...this.parents];
    while (stack.length) {
      const g = stack.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      stack.push(...g.parents);
    }
    return seen;
  }

  /** This group and its descendants, breadth-first in insertion order, as Ansible's get_descendants(preserve_ordering). */
  descendantsInOrder(): Group[] {
    const ordered: Group[] = [this, ...this.children];
    const seen = new Set<Group>([this, ...this.children]);
    let level = [...this.children];
    while (level.length) {
      const next: Group[] = [];
      for (const g of level) {
        for (const kid of g.children) {
          if (!seen.has(kid)) {
            // Ansible appends in discovery order and marks seen a level later; duplicates are removed below
            ordered.push(kid);
            next.push(kid);
          }
        }
      }
      for (const g of next) seen.add(g);
      level = next;
    }
    return [...new Set(ordered)];
  }

  /** All hosts of this group and its descendants, each once, in inventory order. */
  allHosts(): Host[] {
    const out = new Set<Host>();
    for (const g of this.descendantsInOrder()) for (const h of g.hosts) out.add(h);
    return [...out];
  }
}

/** The inventory being built: Ansible's InventoryData. Errors are plain Errors; parsers add file and line. */
export class InventoryData {
  readonly groups = new Map<string, Group>();
  readonly hosts = new Map<string, Host>();
  /** The source a new host is first seen in, for inventory_file / inventory_dir. */
  currentSource: string | undefined;
  readonly hostSource = new Map<string, string>();

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  addGroup(name: string): Group {
    if (!name) throw new Error(`invalid empty group name`);
    let g = this.groups.get(name);
    if (!g) {
      g = new Group(name);
      this.groups.set(name, g);
    }
    return g;
  }

  /** Adds a host (and to a group); a port only counts when the host is new, as in Ansible. */
  addHost(name: string, group?: string, port?: number): Host {
    if (!name) throw new Error('invalid empty host name');
    let g: Group | undefined;
    if (group !== undefined) {
      g = this.groups.get(group);
      if (!g) throw new Error(`could not find group ${group} in inventory`);
    }
    let h = this.hosts.get(name);
    if (!h) {
      h = new Host(name);
      if (port !== undefined) h.vars['ansible_port'] = port;
      this.hosts.set(name, h);
      if (this.currentSource !== undefined) this.hostSource.set(name, this.currentSource);
    }
    if (g && !g.hosts.includes(h)) {
      g.hosts.push(h);
      h.directGroups.add(g);
    }
    return h;
  }

  /** Sets a variable on a group or host; ansible_group_priority on a group sets its priority instead. */
  setVariable(entity: string, key: string, value: InventoryValue): void {
    const g = this.groups.get(entity);
    if (g) {
      if (key === 'ansible_group_priority') {
        const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : NaN;
        if (!Number.isInteger(n) && typeof value !== 'boolean') throw new Error(`ansible_group_priority must be an integer, got: ${String(value)}`);
        g.priority = typeof value === 'boolean' ? Number(value) : Math.trunc(n);
      } else {
        g.vars[key] = value;
        if (this.currentSource !== undefined) g.varFiles[key] = this.currentSource;
      }
      return;
    }
    const h = this.hosts.get(entity);
    if (!h) throw new Error(`could not identify group or host named ${entity}`);
    h.vars[key] = value;
    if (this.currentSource !== undefined) h.varFiles[key] = this.currentSource;
  }

  /** Adds a group or host as a child of a group; refuses loops, as Ansible does. */
  addChild(parentName: string, childName: string): void {
    const parent = this.groups.get(parentName);
    if (!parent) throw new Error(`${parentName} is not a known group`);
    const child = this.groups.get(childName);
    if (child) {
      if (child === parent) throw new Error(`group '${childName}' cannot be a child of itself`);
      if (parent.children.includes(child)) return;
      if (parent.ancestors().has(child)) {
        throw new Error(`adding group '${childName}' as child to '${parentName}' creates a recursive dependency loop`);
      }
      parent.children.push(child);
      if (!child.parents.includes(parent)) child.parents.push(parent);
      this.updateDepth(child, parent.depth + 1);
      return;
    }
    const host = this.hosts.get(childName);
    if (!host) throw new Error(`${childName} is not a known host nor group`);
    this.addHost(childName, parentName);
  }

  private updateDepth(group: Group, depth: number): void {
    if (group.depth >= depth) return;
    group.depth = depth;
    for (const kid of group.children) this.updateDepth(kid, depth + 1);
  }

  /** Ansible's reconcile_inventory: top-level groups go under 'all', hosts with no group into 'ungrouped'. */
  reconcile(): void {
    const all = this.groups.get('all')!;
    const ungrouped = this.groups.get('ungrouped')!;
    for (const g of this.groups.values()) {
      if (g !== all && g.parents.length === 0) this.addChild('all', g.name);
    }
    for (const h of this.hosts.values()) {
      const mine = h.groups();
      if (mine.has(ungrouped)) {
        const others = [...mine].filter((g) => g !== all && g !== ungrouped);
        const at = ungrouped.hosts.indexOf(h);
        if (others.length > 0 && at >= 0) {
          ungrouped.hosts.splice(at, 1);
          h.directGroups.delete(ungrouped);
        }
      } else if (mine.size === 0 || (mine.size === 1 && mine.has(all))) {
        this.addHost(h.name, 'ungrouped');
      }
    }
  }
}
