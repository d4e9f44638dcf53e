// --check's one licence to predict: a state missing on the host that an earlier planned change of the run writes.
import type { MissingOnHostError } from '../errors.js';
import type { Footprint, PlannedTree } from '../playbook/types.js';
import { overlaps } from './footprint.js';

/** A change a task planned in --check (and so did not make), with what its apply would write. */
export interface PlannedChange {
  task: string;
  /** The task's footprint writes; undefined (no footprint) counts as writing anything. */
  writes: Footprint['writes'] | undefined;
  /** The directory the change would rewrite, as it would be (a sync's). */
  tree?: PlannedTree;
}

/**
 * The earlier planned change that may create what `missing` needs, or undefined when none does: then --check fails
 * as the real run would. A change without a footprint, or one that writes anything (packages, commands), may create
 * anything.
 */
export function plannedCreator(missing: Pick<MissingOnHostError, 'needs'>, planned: readonly PlannedChange[]): PlannedChange | undefined {
  return planned.find(({ writes }) => {
    if (writes === undefined || writes === 'anything' || missing.needs === 'any-change') return true;
    const needs = missing.needs;
    return writes.some((w) => needs.some((n) => overlaps(n, w)));
  });
}
