// Ansible types INI values with Python's ast.literal_eval; this reproduces that subset so `port=22` is a number here too.

import { type InventoryValue } from './values.js';

/** Thrown internally when the text is not a Python literal; callers fall back to the raw string. */
class NotALiteral extends Error {}

type Token =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string; bytes: boolean }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string }
  | { kind: 'end' };

const DIGITS = String.raw`[0-9](?:_?[0-9])*`;
const NUMBER_RE = new RegExp(
  String.raw`^(?:` +
    String.raw`0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|` +
    // floats: 1.5, 1., .5, 1e3, 1.5e-3
    String.raw`(?:${DIGITS}\.(?:${DIGITS})?|\.${DIGITS})(?:[eE][-+]?${DIGITS})?|${DIGITS}[eE][-+]?${DIGITS}|` +
    String.raw`[1-9](?:_?[0-9])*|0(?:_?0)*` +
    String.raw`)`,
);
const IDENT_RE = /^[\p{L}_][\p{L}\p{N}_]*/u;
const STRING_PREFIX_RE = /^([rRbBuUfF]{0,2})(['"])/;

function parseNumber(text: string): number {
  const t = text.replace(/_/g, '');
  if (/^0[xX]/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[oO]/.test(t)) return parseInt(t.slice(2), 8);
  if (/^0[bB]/.test(t)) return parseInt(t.slice(2), 2);
  return Number(t);
}

/** Decodes the escapes of a non-raw Python string or bytes literal body. */
function unescape(body: string, bytes: boolean): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      if (bytes && c.charCodeAt(0) > 127) throw new NotALiteral('non-ASCII in bytes');
      out += c;
      continue;
    }
    const n = body[i + 1];
    if (n === undefined) throw new NotALiteral('trailing backslash');
    i++;
    const simple: Record<string, string> = {
      '\n': '', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
    };
    if (n in simple) {
      out += simple[n];
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out += String.fromCodePoint(parseInt(m, 8));
      i += m.length - 1;
    } else if (n === 'x') {
      const m = /^[0-9a-fA-F]{2}/.exec(body.slice(i + 1));
      if (!m) throw new NotALiteral('bad \\x escape');
      out += String.fromCodePoint(parseInt(m[0], 16));
      i += 2;
    } else if (!bytes && (n === 'u' || n === 'U')) {
      const len = n === 'u' ? 4 : 8;
      const m = new RegExp(`^[0-9a-fA-F]{${len}}`).exec(body.slice(i + 1));
      if (!m) throw new NotALiteral('bad unicode escape');
      const cp = parseInt(m[0], 16);
      if (cp > 0x10ffff) throw new NotALiteral('bad unicode escape');
      out += String.fromCodePoint(cp);
      i += len;
    } else if (!bytes && n === 'N') {
      throw new NotALiteral('named unicode escapes are not supported');
    } else {
      out += '\\' + n; // Python keeps unknown escapes as written
    }
  }
  if (bytes) {
    // Ansible's to_text decodes bytes as UTF-8
    return Buffer.from(out, 'latin1').toString('utf8');
  }
  return out;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    const sp = STRING_PREFIX_RE.exec(rest);
    if (sp) {
      const prefix = sp[1]!.toLowerCase();
      if (!/^(|r|u|b|br|rb|f|fr|rf)$/.test(prefix)) throw new NotALiteral('bad string prefix');
      if (prefix.includes('f')) throw new NotALiteral('f-strings are not literals');
      const raw = prefix.includes('r');
      const bytes = prefix.includes('b');
      const q = sp[2]!;
      const start = i + sp[0].length;
      const triple = src.startsWith(q.repeat(3), start - 1);
      const delim = triple ? q.repeat(3) : q;
      let j = triple ? start + 2 : start;
      let body = '';
      for (;;) {
        if (j >= src.length) throw new NotALiteral('unterminated string');
        if (src.startsWith(delim, j)) break;
        const ch = src[j]!;
        if (!triple && ch === '\n') throw new NotALiteral('newline in string');
        if (ch === '\\' && j + 1 < src.length) {
          body += ch + src[j + 1];
          j += 2;
          continue;
        }
        body += ch;
        j++;
      }
      i = j + delim.length;
      if (raw && bytes && /[^\x00-\x7f]/.test(body)) throw new NotALiteral('non-ASCII in bytes');
      tokens.push({ kind: 'str', value: raw ? (bytes ? Buffer.from(body, 'latin1').toString('utf8') : body) : unescape(body, bytes), bytes });
      continue;
    }
    const num = NUMBER_RE.exec(rest);
    if (num && /[0-9.]/.test(c) && !(c === '.' && !/^\.[0-9]/.test(rest))) {
      const after = rest.slice(num[0].length);
      // 1abc, 07, 1j (complex) and the like are not plain numbers
      if (/^[\p{L}\p{N}_.]/u.test(after)) throw new NotALiteral('bad number');
      tokens.push({ kind: 'num', value: parseNumber(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = IDENT_RE.exec(rest);
    if (id) {
      tokens.push({ kind: 'name', value: id[0] });
      i += id[0].length;
      continue;
    }
    if ('[](){},:+-'.includes(c)) {
      tokens.push({ kind: 'op', value: c });
      i++;
      continue;
    }
    throw new NotALiteral(`unexpected ${c}`);
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

/** Python's json.dumps turns non-string dict keys into these strings. */
function keyOf(value: InventoryValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  throw new NotALiteral('unhashable dict key');
}

class LiteralParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }
  private expectOp(value: string): void {
    if (!this.isOp(value)) throw new NotALiteral(`expected ${value}`);
    this.pos++;
  }

  /** The whole input: an expression, or a bare tuple `1, 2`. */
  parseTop(): InventoryValue {
    const value = this.parseTupleOrExpr('end');
    if (this.peek().kind !== 'end') throw new NotALiteral('trailing input');
    return value;
  }

  /** Comma-separated items until `closer`; a comma makes a tuple (a list in JSON). */
  private parseTupleOrExpr(closer: string): InventoryValue {
    const atEnd = () => (closer === 'end' ? this.peek().kind === 'end' : this.isOp(closer));
    if (atEnd()) {
      if (closer === ')') return [];
      throw new NotALiteral('empty');
    }
    const first = this.parseExpr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.pos++;
      if (atEnd()) break;
      items.push(this.parseExpr());
    }
    return items;
  }

  private parseExpr(): InventoryValue {
    const t = this.peek();
    if (t.kind === 'op' && (t.value === '+' || t.value === '-')) {
      this.pos++;
      const operand = this.peek();
      // literal_eval accepts a sign only directly on a number, or on a parenthesised number
      let n: InventoryValue;
      if (operand.kind === 'num') {
        this.pos++;
        n = operand.value;
      } else if (operand.kind === 'op' && operand.value === '(') {
        n = this.parseExpr();
        if (typeof n !== 'number') throw new NotALiteral('sign on non-number');
      } else {
        throw new NotALiteral('sign on non-number');
      }
      return t.value === '-' ? -n : n;
    }
    this.pos++;
    switch (t.kind) {
      case 'num':
        return t.value;
      case 'str': {
        let value = t.value;
        while (this.peek().kind === 'str') {
          const next = this.peek() as Extract<Token, { kind: 'str' }>;
          if (next.bytes !== t.bytes) throw new NotALiteral('cannot mix bytes and str');
          value += next.value;
          this.pos++;
        }
        return value;
      }
      case 'name':
        if (t.value === 'True') return true;
        if (t.value === 'False') return false;
        if (t.value === 'None') return null;
        throw new NotALiteral(`name ${t.value}`);
      case 'op':
        if (t.value === '(') {
          const inner = this.parseTupleOrExpr(')');
          this.expectOp(')');
          return inner;
        }
        if (t.value === '[') return this.parseList();
        if (t.value === '{') return this.parseBrace();
        throw new NotALiteral(`unexpected ${t.value}`);
      default:
        throw new NotALiteral('unexpected end');
    }
  }

  private parseList(): InventoryValue[] {
    const items: InventoryValue[] = [];
    while (!this.isOp(']')) {
      items.push(this.parseExpr());
      if (!this.isOp(',')) break;
      this.pos++;
    }
    this.expectOp(']');
    return items;
  }

  /** A dict `{k: v}` or a set `{a, b}` (a set has no JSON form; Ansible cannot print it, we make it a list). */
  private parseBrace(): InventoryValue {
    if (this.isOp('}')) {
      this.pos++;
      return {};
    }
    const first = this.parseExpr();
    if (this.isOp(':')) {
      const dict: Record<string, InventoryValue> = {};
      let key = first;
      for (;;) {
        this.expectOp(':');
        dict[keyOf(key)] = this.parseExpr();
        if (!this.isOp(',')) break;
        this.pos++;
        if (this.isOp('}')) break;
        key = this.parseExpr();
      }
      this.expectOp('}');
      return dict;
    }
    const items = [first];
    while (this.isOp(',')) {
      this.pos++;
      if (this.isOp('}')) break;
      items.push(this.parseExpr());
    }
    this.expectOp('}');
    return items;
  }
}

/**
 * Evaluates `text` as ast.literal_eval would; returns `undefined` when it is not a Python literal.
 * Leading spaces and tabs are ignored, as literal_eval does.
 */
export function evalPythonLiteral(text: string): InventoryValue | undefined {
  try {
    return new LiteralParser(tokenize(text.replace(/^[ \t]+/, ''))).parseTop();
  } catch (err) {
    if (err instanceof NotALiteral) return undefined;
    throw err;
  }
}

/** Types one INI value exactly as Ansible's INI plugin does: a Python literal if it is one, else the text. */
export function parseIniValue(text: string): InventoryValue {
  const value = evalPythonLiteral(text);
  return value === undefined ? text : value;
}
