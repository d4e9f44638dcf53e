// The text edit of Ansible's replace (ansible-core 2.14), as a pure function: every match, Python re semantics.
import { expandTemplate, groupCount, pyReToJs } from './py-re.js';

export interface EditReplaceParams {
  /** A Python regex, compiled with re.MULTILINE, replaced wherever it matches. */
  regexp: string;
  /** Python's replacement template (`\1`, `\g<name>`); default '' (the matches are removed). */
  replace?: string;
  /** A Python regex: only the text after its first match is edited (re.DOTALL). */
  after?: string;
  /** A Python regex: only the text before its match is edited (re.DOTALL). */
  before?: string;
}

export type ReplaceEdit =
  | { matched: true; after: string; count: number; msg: string }
  /** after/before did not match: nothing is edited, as Ansible says. */
  | { matched: false; msg: string };

/** The section after/before select, as replace.py builds it: `after(?P<subsection>.*?)before`, DOTALL. */
export function sectionPattern(p: EditReplaceParams): string {
  if (p.after && p.before) return `${p.after}(?P<subsection>.*?)${p.before}`;
  if (p.after) return `${p.after}(?P<subsection>.*)`;
  if (p.before) return `(?P<subsection>.*)${p.before}`;
  return '';
}

/** re.subn(pattern, repl, text): the new text and how many matches were replaced. */
export function pySubn(re: RegExp, repl: string, text: string): [string, number] {
  const groups = groupCount(re);
  let out = '';
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(re)) {
    out += text.slice(last, m.index) + expandTemplate(repl, m as RegExpExecArray, groups);
    last = m.index + m[0].length;
    n++;
  }
  return [out + text.slice(last), n];
}

/** Applies replace's edit to a file's text. */
export function planReplaceEdit(contents: string, p: EditReplaceParams): ReplaceEdit {
  const pattern = sectionPattern(p);
  let section = contents;
  let start = 0;
  let end = contents.length;
  if (pattern) {
    const re = pyReToJs(pattern, { dotall: true, indices: true });
    const m = re.exec(contents);
    const at = m?.indices?.groups?.subsection;
    if (!m || !at) return { matched: false, msg: `Pattern for before/after params did not match the given file: ${pattern}` };
    [start, end] = at;
    section = contents.slice(start, end);
  }
  const [edited, count] = pySubn(pyReToJs(p.regexp, { multiline: true }), p.replace ?? '', section);
  if (count > 0 && edited !== section) {
    return { matched: true, after: contents.slice(0, start) + edited + contents.slice(end), count, msg: `${count} replacements made` };
  }
  return { matched: true, after: contents, count: 0, msg: '' };
}
