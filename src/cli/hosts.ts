// Which hosts a play (or an ad-hoc command) runs on, with Ansible's warnings and its one error about patterns.
import { InputError } from '../errors.js';
import type { Inventory } from '../inventory/index.js';
import { terminalSafe } from '../report/terminal-safe.js';

/** Hosts of a pattern (a play's `hosts`, an ad-hoc PATTERN), narrowed by --limit (both Ansible patterns). */
export function selectHosts(inventory: Inventory, pattern: string, limit?: string): string[] {
  const hosts = inventory.selectHosts(pattern);
  if (limit === undefined) return hosts;
  const allowed = new Set(inventory.selectHosts(limit));
  return hosts.filter((h) => allowed.has(h));
}

/**
 * As Ansible before a run: a warning for each single pattern (of the plays' `hosts` and of --limit) that matches no
 * host, once; and an error when --limit leaves no host of the inventory at all. A play whose hosts are then empty
 * is skipped, not an error (ansible-playbook's "skipping: no hosts matched").
 */
export function checkPatterns(inventory: Inventory, patterns: string[], limit?: string): void {
  const warned = new Set<string>();
  for (const pattern of limit === undefined ? patterns : [...patterns, limit]) {
    for (const p of inventory.unmatchedPatterns(pattern)) {
      if (warned.has(p)) continue;
      warned.add(p);
      process.stderr.write(`provision: warning: Could not match supplied host pattern, ignoring: ${terminalSafe(p)}\n`);
    }
  }
  if (limit !== undefined && inventory.selectHosts(limit).length === 0) {
    throw new InputError(`Specified inventory, host pattern and/or --limit leaves us with no hosts to target (--limit "${limit}").`);
  }
}
