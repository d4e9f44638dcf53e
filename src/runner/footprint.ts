// Decides whether a plan made early still holds: nothing applied since then wrote what its check read.
import { posix } from 'node:path';
import type { Footprint, PathUse } from '../playbook/types.js';

const clean = (p: string) => {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
};

/** Whether `inner` is `outer` or lies under it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer === '/' ? '/' : `${outer}/`);
}

/** Whether a write can change what a read saw: the same path, or one inside the other's tree. */
export function overlaps(read: PathUse, write: PathUse): boolean {
  const r = clean(read.path);
  const w = clean(write.path);
  return r === w || (write.tree === true && within(r, w)) || (read.tree === true && within(w, r));
}

/** Whether a plan read under `footprint` still holds after these writes (each apply's writes, in order). */
export function planStillHolds(footprint: Footprint | undefined, writesSince: ReadonlyArray<Footprint['writes'] | undefined>): boolean {
  if (writesSince.length === 0) return true;
  if (!footprint) return false;
  return writesSince.every(
    (writes) =>
      writes !== undefined &&
      writes !== 'anything' &&
      (footprint.reads === 'anything' ? writes.length === 0 : writes.every((w) => (footprint.reads as PathUse[]).every((r) => !overlaps(r, w)))),
  );
}
