// Renders a planned file change as a unified diff, coloured for a terminal and plain otherwise.
import { createRequire } from 'node:module';
import type { FileDiff } from '../playbook/types.js';

// Loaded on first use: a run that prints no diff does not pay for it at start-up.
const require = createRequire(import.meta.url);
let diffModule: typeof import('diff') | undefined;
const loadDiff = (): typeof import('diff') => (diffModule ??= require('diff') as typeof import('diff'));

const paint = (code: number, s: string) => `\u001b[${code}m${s}\u001b[0m`;

/** A unified diff of before → after (`/dev/null` for a missing side), or the note for binary/huge content. */
export function formatDiff(d: FileDiff, color = false): string {
  if (d.note) return `${d.path}: ${d.note}\n`;
  const patch = loadDiff().createTwoFilesPatch(
    d.before === null ? '/dev/null' : d.path,
    d.after === null ? '/dev/null' : d.path,
    d.before ?? '',
    d.after ?? '',
    'before',
    'after',
  );
  // createTwoFilesPatch opens with "Index:" and "=====" lines that are not part of the unified format.
  const lines = patch.slice(patch.indexOf('--- ')).split('\n');
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
