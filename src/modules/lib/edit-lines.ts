// The text edit of Ansible's lineinfile, as a pure function ported line by line from lineinfile.py (present/absent).

export interface EditLinesParams {
  line?: string;
  /** A Python-style regular expression searched in each line; present: replaces the last match; absent: removes all. */
  regexp?: string;
  /** A literal string searched in each line (instead of regexp). */
  searchString?: string;
  state?: 'present' | 'absent';
  /** 'EOF', 'BOF' or a regex: insert after its last match (default 'EOF'). */
  insertAfter?: string;
  /** 'BOF' or a regex: insert before its last match. */
  insertBefore?: string;
  /** With regexp: replace `\1`, `\g<name>` in line from the match; if nothing matches, leave the file alone. */
  backrefs?: boolean;
  /** Use the first match of regexp/insertAfter/insertBefore instead of the last. */
  firstMatch?: boolean;
}

export interface LineEdit {
  after: string;
  /** Ansible's message: 'line added', 'line replaced', '2 line(s) removed', or '' when unchanged. */
  msg: string;
}

/** Applies lineinfile's edit to a file's text (empty string for a missing file). */
export function editLines(before: string, params: EditLinesParams): string {
  return planLineEdit(Buffer.from(before, 'utf8'), params).after.toString('utf8');
}

/**
 * Like editLines, on bytes, with Ansible's message for what changed. As lineinfile.py, it works on bytes:
 * every string goes through latin1 (one char per byte), so '.' matches one byte of 'é', as Python's bytes regex.
 */
export function planLineEdit(before: Buffer, params: EditLinesParams): { after: Buffer; msg: string } {
  const b = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'utf8').toString('latin1'));
  const p: EditLinesParams = {
    ...params,
    line: b(params.line),
    regexp: b(params.regexp),
    searchString: b(params.searchString),
    insertAfter: b(params.insertAfter),
    insertBefore: b(params.insertBefore),
  };
  const lines = readLines(before.toString('latin1'));
  const r = (params.state ?? 'present') === 'absent' ? absent(lines, p) : present(lines, p);
  return { after: Buffer.from(r.after, 'latin1'), msg: r.msg };
}

/** Splits as Python's readlines(): each line keeps its '\n'; the last may have none. */
export function readLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** Translates the Python regex syntax people write in playbooks ((?P<n>…), (?P=n), \A, \Z, leading (?i)) to JS. */
export function pyRegex(pattern: string): RegExp {
  let flags = '';
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1] ?? '') if ('ims'.includes(f) && !flags.includes(f)) flags += f;
  }
  src = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return new RegExp(src, flags);
}

/**
 * Searches a line as Python's re.search does on a line that ends in '\n': `$` also matches before that final
 * newline, which a JS regex does when the newline is left out.
 */
function search(re: RegExp, line: string): RegExpExecArray | null {
  return re.exec(line.endsWith('\n') ? line.slice(0, -1) : line);
}

const rstripCrLf = (s: string): string => s.replace(/[\r\n]+$/, '');

/** Python's match.expand(): \1…\99, \g<n>, \g<name>, and \n \t \\ escapes; unmatched groups are empty. */
export function expandMatch(m: RegExpExecArray, template: string): string {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
  return template.replace(/\\(g<([^>]*)>|\d{1,2}|.)/gs, (all, tok: string, gname: string | undefined) => {
    if (gname !== undefined) {
      const v = /^\d+$/.test(gname) ? m[Number(gname)] : m.groups?.[gname];
      return v ?? '';
    }
    if (/^\d+$/.test(tok)) {
      if (tok === '0') return '\0';
      return m[Number(tok)] ?? '';
    }
    if (tok in escapes) return escapes[tok] ?? '';
    if (/[A-Za-z]/.test(tok)) throw new Error(`bad escape \\${tok} in line`);
    return all;
  });
}

function present(lines: string[], p: EditLinesParams): LineEdit {
  const line = p.line ?? '';
  const sep = '\n';
  let insAfter = p.insertAfter;
  const insBefore = p.insertBefore;
  if (insAfter === undefined && insBefore === undefined) insAfter = 'EOF';
  const re = p.regexp !== undefined ? pyRegex(p.regexp) : undefined;
  let reIns: RegExp | undefined;
  if (insAfter !== undefined && insAfter !== 'BOF' && insAfter !== 'EOF') reIns = pyRegex(insAfter);
  else if (insBefore !== undefined && insBefore !== 'BOF') reIns = pyRegex(insBefore);

  const index = [-1, -1] as [number, number];
  let match: RegExpExecArray | true | null = null;

  if (re) {
    for (const [i, cur] of lines.entries()) {
      const m = search(re, cur);
      if (m) {
        index[0] = i;
        match = m;
        if (p.firstMatch) break;
      }
    }
  }
  if (p.searchString !== undefined) {
    for (const [i, cur] of lines.entries()) {
      if (cur.includes(p.searchString)) {
        index[0] = i;
        match = true;
        if (p.firstMatch) break;
      }
    }
  }
  if (!match) {
    for (const [i, cur] of lines.entries()) {
      if (line === rstripCrLf(cur)) {
        index[0] = i;
      } else if (reIns && search(reIns, cur)) {
        if (insAfter) {
          index[1] = i + 1;
          if (p.firstMatch) break;
        }
        if (insBefore) {
          index[1] = i;
          if (p.firstMatch) break;
        }
      }
    }
  }

  const at = (i: number): string => lines[i < 0 ? lines.length + i : i] ?? '';
  const result = (msg: string): LineEdit => ({ after: lines.join(''), msg });
  if (index[0] !== -1) {
    // lineinfile.py has a branch here for (regexp, search_string, match) all None without an exact match:
    // index[0] can only be set by one of those, so it never runs and is left out.
    let newLine = p.backrefs && match && match !== true ? expandMatch(match, line) : line;
    if (!newLine.endsWith(sep)) newLine += sep;
    if (lines[index[0]] !== newLine) {
      lines[index[0]] = newLine;
      return result('line replaced');
    }
    return result('');
  }
  if (p.backrefs) return result('');
  if (insBefore === 'BOF' || insAfter === 'BOF') {
    lines.unshift(line + sep);
    return result('line added');
  }
  if (insAfter === 'EOF' || index[1] === -1) {
    const last = lines[lines.length - 1];
    if (last !== undefined && !(last.endsWith('\n') || last.endsWith('\r'))) lines.push(sep);
    lines.push(line + sep);
    return result('line added');
  }
  if (insAfter && index[1] !== -1) {
    if (lines.length === index[1]) {
      if (rstripCrLf(at(index[1] - 1)) !== line) {
        // Deviation: lineinfile.py appends here without ending an unterminated last line, joining the two
        // ('x=1' + 'z' → 'x=1z'); its EOF branch ends it first, and so do we.
        if (!/[\r\n]$/.test(at(-1))) lines[lines.length - 1] = at(-1) + sep;
        lines.push(line + sep);
        return result('line added');
      }
    } else if (line !== rstripCrLf(at(index[1]))) {
      lines.splice(index[1], 0, line + sep);
      return result('line added');
    }
    return result('');
  }
  lines.splice(index[1], 0, line + sep);
  return result('line added');
}

function absent(lines: string[], p: EditLinesParams): LineEdit {
  const re = p.regexp !== undefined ? pyRegex(p.regexp) : undefined;
  const matches = (cur: string): boolean => {
    if (re) return search(re, cur) !== null;
    if (p.searchString !== undefined) return cur.includes(p.searchString);
    return p.line === rstripCrLf(cur);
  };
  const kept = lines.filter((l) => !matches(l));
  const removed = lines.length - kept.length;
  return { after: kept.join(''), msg: removed > 0 ? `${removed} line(s) removed` : '' };
}
