// Python `re` patterns (str patterns, as Ansible's replace compiles them) translated to JavaScript, token by token:
// where the two engines read the same text differently the translation says what Python means; what has no
// JavaScript equivalent is refused by name rather than matched another way.

export interface PyReOptions {
  /** re.MULTILINE: ^ and $ at every '\n' (replace's regexp). */
  multiline?: boolean;
  /** re.DOTALL: '.' matches '\n' too (replace's after/before section). */
  dotall?: boolean;
  /** Keep the match indices of groups (the 'd' flag). */
  indices?: boolean;
  /** A bytes pattern (text given as latin1, a byte a character): \\w, \\d, \\s and \\b are ASCII, as re.ASCII. */
  ascii?: boolean;
}

/** The global inline flags a pattern starts with (`(?im)` → 'im'). */
export function leadingFlags(pattern: string): string {
  let flags = '';
  for (let src = pattern, m = /^\(\?([aiLmsux]+)\)/.exec(src); m; src = src.slice(m[0].length), m = /^\(\?([aiLmsux]+)\)/.exec(src)) flags += m[1];
  return flags;
}

/** A pattern Python would read but JavaScript cannot be made to read the same way. */
export class PyReUnsupported extends Error {}

// Python's \w for str patterns: letters and digits of every script (str.isalnum) and '_'.
const word = '\\p{L}\\p{N}_';
const asciiWord = 'A-Za-z0-9_';
const pySpace = ' \\t\\n\\r\\f\\v\\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const asciiSpace = ' \\t\\n\\r\\f\\v';

const hex = (c: string) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;

/**
 * Translates a Python pattern to a JavaScript RegExp (always the 'u' flag, so a character is a code point as in
 * Python): `^`/`$`/`\A`/`\Z`/`.` as Python anchors and dots them, `(?P<n>…)`, `(?P=n)`, Unicode `\w`/`\d`/`\s`/`\b`,
 * `{,n}`, a literal `{`, identity escapes, leading inline flags `(?aimsx)` (x refused). Throws PyReUnsupported for
 * scoped flags `(?i:…)`, conditionals, atomic groups and possessive quantifiers; a SyntaxError for a broken pattern.
 */
export function pyReToJs(pattern: string, opts: PyReOptions = {}): RegExp {
  let src = pattern;
  let ignoreCase = false;
  let multiline = opts.multiline === true;
  let dotall = opts.dotall === true;
  let ascii = opts.ascii === true;
  // Python 3.11 accepts global inline flags only at the start (several groups may follow one another)
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(src); m; m = /^\(\?([aiLmsux]+)\)/.exec(src)) {
    for (const f of m[1] ?? '') {
      if (f === 'i') ignoreCase = true;
      else if (f === 'm') multiline = true;
      else if (f === 's') dotall = true;
      else if (f === 'a') ascii = true;
      else if (f === 'x') throw new PyReUnsupported('the verbose flag (?x) is not supported');
      else if (f === 'L') throw new PyReUnsupported('the locale flag (?L) is not supported');
    }
    src = src.slice(m[0].length);
  }
  const w = ascii ? asciiWord : word;
  const d = ascii ? '0-9' : '\\p{Nd}';
  const s = ascii ? asciiSpace : pySpace;
  const boundary = `(?:(?<=[${w}])(?![${w}])|(?<![${w}])(?=[${w}]))`;
  const nonBoundary = `(?:(?<=[${w}])(?=[${w}])|(?<![${w}])(?![${w}]))`;
  let out = '';
  let inClass = false;
  let classStart = false;
  // where the open class starts in out, whether it is negated, and the sets of \W \D \S it holds (as JavaScript
  // cannot put a negated Python class inside a class, the class is rewritten as a group when it closes)
  let classAt = 0;
  let classNegated = false;
  let classComplements: string[] = [];
  let groups = 0;
  // the last token was a quantifier, so a '+' now would make it possessive
  let prevQuant = false;
  for (let i = 0; i < src.length; ) {
    const c = src[i] as string;
    const wasQuant = prevQuant;
    prevQuant = false;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new SyntaxError('bad escape (end of pattern)');
      const rest = src.slice(i + 1);
      let m: RegExpExecArray | null;
      if ((m = /^x([0-9a-fA-F]{2})/.exec(rest))) { out += `\\x${m[1]}`; i += 4; }
      else if ((m = /^u([0-9a-fA-F]{4})/.exec(rest))) { out += `\\u${m[1]}`; i += 6; }
      else if ((m = /^U([0-9a-fA-F]{8})/.exec(rest))) { out += `\\u{${parseInt(m[1] as string, 16).toString(16)}}`; i += 10; }
      else if ((m = /^0[0-7]{0,2}/.exec(rest))) { out += hex(String.fromCharCode(parseInt(m[0], 8))); i += 1 + m[0].length; }
      else if (/^[1-9]/.test(rest)) {
        m = /^[0-7]{3}/.exec(rest);
        if (m) { out += hex(String.fromCharCode(parseInt(m[0], 8))); i += 4; }
        else {
          const ref = /^\d{1,2}/.exec(rest)?.[0] as string;
          if (inClass) throw new SyntaxError(`bad escape \\${ref} in a character class`);
          out += `\\${ref}`;
          i += 1 + ref.length;
        }
      } else {
        i += 2;
        const cls: Record<string, string> = { w, d, s };
        if (e in cls) out += inClass ? cls[e] : `[${cls[e]}]`;
        else if ('WDS'.includes(e)) {
          if (inClass) classComplements.push(cls[e.toLowerCase()] as string);
          else out += `[^${cls[e.toLowerCase()]}]`;
        } else if (e === 'b') out += inClass ? '\\x08' : boundary;
        else if (e === 'B') {
          if (inClass) throw new SyntaxError('bad escape \\B');
          out += nonBoundary;
        } else if (e === 'A') out += inClass ? 'A' : '(?<![\\s\\S])';
        else if (e === 'Z') out += inClass ? 'Z' : '(?![\\s\\S])';
        else if ('ntrfv'.includes(e)) out += `\\${e}`;
        else if (e === 'a') out += '\\x07';
        else if (e === 'N') throw new PyReUnsupported('named characters \\N{…} are not supported');
        else if (/[A-Za-z]/.test(e)) throw new SyntaxError(`bad escape \\${e}`);
        else out += hex(e);
      }
      classStart = false;
      continue;
    }
    if (inClass) {
      if (c === ']' && !classStart) {
        inClass = false;
        if (classComplements.length === 0) out += ']';
        else {
          const members = out.slice(classAt + (classNegated ? 2 : 1));
          out = out.slice(0, classAt);
          if (!classNegated) out += `(?:${[...(members ? [`[${members}]`] : []), ...classComplements.map((set) => `[^${set}]`)].join('|')})`;
          else out += `(?:${members ? `(?![${members}])` : ''}${classComplements.map((set) => `(?=[${set}])`).join('')}[\\s\\S])`;
        }
      } else if (c === '[') out += '\\[';
      else if (c === ']') out += '\\]';
      else out += c;
      classStart = false;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = true;
      classAt = out.length;
      classComplements = [];
      out += '[';
      i++;
      classNegated = src[i] === '^';
      if (classNegated) { out += '^'; i++; }
      continue;
    }
    if (c === '(') {
      const rest = src.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^\(\?P<([A-Za-z_]\w*)>/.exec(rest))) { out += `(?<${m[1]}>`; groups++; i += m[0].length; }
      else if ((m = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest))) { out += `\\k<${m[1]}>`; i += m[0].length; }
      else if (/^\(\?(<[=!]|[:=!])/.test(rest)) { const t = /^\(\?(<[=!]|[:=!])/.exec(rest)?.[0] as string; out += t; i += t.length; }
      else if (rest.startsWith('(?#')) {
        const end = src.indexOf(')', i);
        if (end < 0) throw new SyntaxError('missing ), unterminated comment');
        i = end + 1;
      } else if (rest.startsWith('(?(')) throw new PyReUnsupported('conditional groups (?(…)…) are not supported');
      else if (rest.startsWith('(?>')) throw new PyReUnsupported('atomic groups (?>…) are not supported');
      else if (/^\(\?[-aiLmsux]+:/.test(rest)) throw new PyReUnsupported('scoped inline flags (?flags:…) are not supported');
      else if (rest.startsWith('(?')) throw new SyntaxError('unknown extension or a global flag not at the start');
      else { out += '('; groups++; i++; }
      continue;
    }
    if (c === '{') {
      // as sre_parse: {m}, {m,}, {,n}, {m,n}, {,} repeat; anything else is a literal '{'
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(src.slice(i));
      if (m && m[0] !== '{}') {
        const lo = m[1] === '' ? '0' : m[1];
        out += m[2] === undefined ? `{${lo}}` : `{${lo},${m[3] ?? ''}}`;
        i += m[0].length;
        prevQuant = true;
      } else { out += '\\{'; i++; }
      continue;
    }
    if (c === '+' && wasQuant) throw new PyReUnsupported('possessive quantifiers are not supported');
    prevQuant = c === '*' || c === '+' || c === '?';
    if (c === '}') out += '\\}';
    else if (c === ']') out += '\\]';
    else if (c === '.') out += dotall ? '[\\s\\S]' : '[^\\n]';
    else if (c === '^') out += multiline ? '(?<![^\\n])' : '(?<![\\s\\S])';
    else if (c === '$') out += multiline ? '(?![^\\n])' : '(?=\\n?(?![\\s\\S]))';
    else if (c === '/') out += '\\/';
    else out += c;
    i++;
  }
  if (inClass) throw new SyntaxError('unterminated character set');
  void groups;

  return new RegExp(out, `u${ignoreCase ? 'i' : ''}${opts.indices ? 'd' : ''}g`);
}

/**
 * Python's replacement template (re.sub's repl) expanded for a JavaScript match: `\1`…`\99`, `\g<n>`, `\g<name>`,
 * `\0`…`\077` octal, `\n` `\t` `\r` `\f` `\v` `\a` `\b` `\\`; an unmatched group is empty (Python ≥ 3.5); a group that
 * does not exist and a bad escape of a letter are errors, as in Python.
 */
export function expandTemplate(template: string, m: RegExpExecArray, groupCount: number): string {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
  const group = (ref: string): string => {
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n > groupCount) throw new SyntaxError(`invalid group reference ${n}`);
      return m[n] ?? '';
    }
    if (!m.groups || !(ref in m.groups)) throw new SyntaxError(`unknown group name '${ref}'`);
    return m.groups[ref] ?? '';
  };
  return template.replace(/\\(g<([^>]*)>|0[0-7]{0,2}|[1-9]\d?|[\s\S])?/g, (all, tok: string | undefined, gname: string | undefined) => {
    if (tok === undefined) return '\\';
    if (gname !== undefined) return group(gname);
    if (tok.startsWith('g')) throw new SyntaxError('missing < in \\g');
    if (tok.startsWith('0')) return String.fromCharCode(parseInt(tok, 8));
    if (/^[1-9]/.test(tok)) return group(tok);
    if (tok in escapes) return escapes[tok] ?? '';
    if (/[A-Za-z]/.test(tok)) throw new SyntaxError(`bad escape \\${tok}`);
    return all;
  });
}

/** How many capturing groups a translated pattern has (for the template's "invalid group reference"). */
export function groupCount(re: RegExp): number {
  return (new RegExp(`${re.source}|`, 'u').exec('')?.length ?? 1) - 1;
}
