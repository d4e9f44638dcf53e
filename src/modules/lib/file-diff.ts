// Builds the diff shown for a file's content change: a text before/after, or a note for binary and huge files.
import type { FileDiff } from '../../playbook/types.js';

/** Above this size a diff shows sizes only (as Ansible's max_diff_size). */
export const maxDiffBytes = 256 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether bytes are text worth diffing: valid UTF-8 with no NUL byte. */
export function isText(b: Buffer): boolean {
  if (b.includes(0)) return false;
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * The diff of a file going from `before` to `after` (null: absent). `beforeSize` stands in for the old
 * bytes when they were not fetched because the file is too big.
 */
export function buildFileDiff(path: string, before: Buffer | null, after: Buffer | null, beforeSize?: number): FileDiff {
  const oldSize = before?.length ?? beforeSize;
  const tooBig = (after?.length ?? 0) > maxDiffBytes || (oldSize ?? 0) > maxDiffBytes || (before === null && beforeSize !== undefined);
  if (tooBig) {
    return { path, before: null, after: null, note: `size ${oldSize ?? 'absent'} → ${after?.length ?? 'absent'} bytes` };
  }
  if ((before && !isText(before)) || (after && !isText(after))) {
    const note = before === null ? `binary file created (${after?.length ?? 0} bytes)` : after === null ? 'binary file removed' : 'binary differs';
    return { path, before: null, after: null, note };
  }
  return { path, before: before?.toString('utf8') ?? null, after: after?.toString('utf8') ?? null };
}
