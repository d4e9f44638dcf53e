// The text edit of Ansible's blockinfile, as a pure function ported from blockinfile.py (ansible-core 2.14), on bytes.
import { leadingFlags, pyReToJs } from './py-re.js';

export interface EditBlockParams {
  /** The block's text (a trailing newline is added); empty, or state absent: the block is removed. */
  block?: string;
  /** The marker line template; `{mark}` becomes markerBegin / markerEnd (default '# {mark} ANSIBLE MANAGED BLOCK'). */
  marker?: string;
  markerBegin?: string;
  markerEnd?: string;
  /** 'EOF' (default) or a Python regex: a new block goes after its last matching line. */
  insertAfter?: string;
  /** 'BOF' or a Python regex: a new block goes before its last matching line. */
  insertBefore?: string;
  state?: 'present' | 'absent';
}

export interface BlockEdit {
  after: Buffer;
  /** Ansible's message: 'Block inserted', 'Block removed', 'File created', or '' when unchanged. */
  msg: string;
}

/** Python's bytes.splitlines(True): lines end at '\n', '\r\n' or '\r', each keeping its end. */
export function splitLinesKeep(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** Compiles insertAfter/insertBefore as blockinfile does: a bytes pattern, a byte a character. */
export function blockRegex(pattern: string): RegExp {
  return pyReToJs(Buffer.from(pattern, 'utf8').toString('latin1'), { ascii: true });
}

/** Applies blockinfile's edit to a file's bytes (null: the file is missing, and create is set). */
export function planBlockEdit(original: Buffer | null, p: EditBlockParams): BlockEdit {
  const b = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const text = original === null ? null : original.toString('latin1');
  const lines = text === null ? [] : splitLinesKeep(text);
  const present = (p.state ?? 'present') === 'present';
  let insertAfter = p.insertAfter;
  const insertBefore = p.insertBefore;
  if (insertBefore === undefined && insertAfter === undefined) insertAfter = 'EOF';
  const source = insertAfter !== undefined && insertAfter !== 'EOF' ? insertAfter : insertBefore !== undefined && insertBefore !== 'BOF' ? insertBefore : undefined;
  const insertRe = source === undefined ? undefined : blockRegex(source);
  const marker = b(p.marker ?? '# {mark} ANSIBLE MANAGED BLOCK');
  const marker0 = marker.split('{mark}').join(b(p.markerBegin ?? 'BEGIN')) + '\n';
  const marker1 = marker.split('{mark}').join(b(p.markerEnd ?? 'END')) + '\n';
  let block = b(p.block ?? '');
  let blockLines: string[] = [];
  if (present && block !== '') {
    if (!block.endsWith('\n')) block += '\n';
    blockLines = [marker0, ...splitLinesKeep(block), marker1];
  }
  let n0: number | undefined;
  let n1: number | undefined;
  for (const [i, line] of lines.entries()) {
    if (line === marker0) n0 = i;
    if (line === marker1) n1 = i;
  }
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertRe !== undefined) {
      if (source !== undefined && leadingFlags(source).includes('m')) {
        // a MULTILINE pattern is searched in the whole file; the block goes at the line of the match's end (after)
        // or start (before)
        insertRe.lastIndex = 0;
        const m = text === null ? null : insertRe.exec(text);
        if (m && text !== null) {
          const upTo = insertAfter ? m.index + m[0].length : m.index;
          if (insertAfter || insertBefore) n0 = (text.slice(0, upTo).match(/\n/g) ?? []).length;
        }
      } else {
        for (const [i, line] of lines.entries()) {
          insertRe.lastIndex = 0;
          if (insertRe.test(line)) n0 = i;
        }
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insertAfter !== undefined) n0 += 1;
    } else if (insertBefore !== undefined) {
      n0 = 0; // BOF
    } else {
      n0 = lines.length; // EOF
    }
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  // a line separator before the block (blockinfile.py adds it even when nothing is inserted)
  if (n0 > 0 && !(lines[n0 - 1] ?? '').endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blockLines);
  const result = lines.join('');
  const msg = text === result ? '' : text === null ? 'File created' : blockLines.length === 0 ? 'Block removed' : 'Block inserted';
  return { after: Buffer.from(result, 'latin1'), msg };
}
