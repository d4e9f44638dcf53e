// Renders a planned file change as a unified diff, coloured for a terminal and plain otherwise.
import { createTwoFilesPatch } from 'diff';
import type { FileDiff } from '../playbook/types.js';

const paint = (code: number, s: string) => `\u001b[${code}m${s}\u001b[0m`;

/** A unified diff of before → after (`/dev/null` for a missing side), or the note for binary/huge content. */
export function formatDiff(d: FileDiff, color = false): string {
  if (d.note) return `--- ${d.path}\n+++ ${d.path}\n${d.note}\n`;
  const patch = createTwoFilesPatch(
    d.before === null ? '/dev/null' : `${d.path} (before)`,
    d.after === null ? '/dev/null' : `${d.path} (after)`,
    d.before ?? '',
    d.after ?? '',
    undefined,
    undefined,
    { context: 3 },
  );
  // Drop the "====" header line createTwoFilesPatch puts first.
  const lines = patch.split('\n').filter((l, i) => !(i === 0 && l.startsWith('====')));
  if (!color) return lines.join('\n');
  return lines
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return paint(1, l);
      if (l.startsWith('+')) return paint(32, l);
      if (l.startsWith('-')) return paint(31, l);
      if (l.startsWith('@@')) return paint(36, l);
      return l;
    })
    .join('\n');
}
