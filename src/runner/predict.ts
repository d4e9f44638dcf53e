// --check's one licence to predict: a state missing on the host that an earlier planned change of the run writes.
import type { MissingOnHostError } from '../errors.js';
import type { Footprint, PlannedTree } from '../playbook/types.js';
import { overlaps } from './footprint.js';

/** A change a task planned in --check (and so did not make), with what its apply would write. */
export interface PlannedChange {
  task: string;
  /** The task's footprint writes; undefined (no footprint) counts as writing anything. */
  writes: Footprint['writes'] | undefined;
  /** What its check read (a command's `creates` guard among them): a command guarded by a path creates it. */
  reads?: Footprint['reads'];
  /** The directory the change would rewrite, as it would be (a sync's). */
  tree?: PlannedTree;
}

/**
 * The earlier planned change that may create what `missing` needs, or undefined when none does: then --check fails
 * as the real run would. A change without a footprint, or one that writes anything (packages, commands), may create
 * anything; one whose writes cover what is missing (the sync of a project), or a command guarded by that very path
 * (`creates`), is named before those, the latest first, since it is the one that creates it.
 */
export function plannedCreator(missing: Pick<MissingOnHostError, 'needs'>, planned: readonly PlannedChange[]): PlannedChange | undefined {
  const needs = missing.needs;
  if (needs === 'any-change') return planned[0];
  // what is missing lies at (or under) what the change writes, or a command is guarded by that very path
  const covers = ({ writes, reads }: PlannedChange) =>
    writes === 'anything'
      ? (reads === undefined || reads === 'anything' ? [] : reads).some((r) => !r.tree && needs.some((n) => overlaps({ path: n.path }, r)))
      : writes !== undefined && writes.some((w) => needs.some((n) => overlaps({ path: n.path }, w)));
  const touches = ({ writes }: PlannedChange) => writes !== undefined && writes !== 'anything' && writes.some((w) => needs.some((n) => overlaps(n, w)));
  return (
    [...planned].reverse().find(covers) ??
    planned.find(touches) ??
    planned.find(({ writes }) => writes === undefined || writes === 'anything')
  );
}
