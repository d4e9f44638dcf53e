// INI host lines are split with Python's shlex.split(line, comments=True); this is that tokenizer, posix mode.

const WHITESPACE = ' \t\r\n';

/**
 * Splits a line as Python's `shlex.split(line, comments=True)` does (with `comments: false`, as `shlex.split(line)`,
 * which Ansible's command module uses); throws on an unclosed quote or a trailing backslash.
 */
export function shlexSplit(line: string, { comments = true }: { comments?: boolean } = {}): string[] {
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  let state: ' ' | 'a' | "'" | '"' = ' ';
  const emit = () => {
    if (token !== '' || quoted) tokens.push(token);
    token = '';
    quoted = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (state === ' ' || state === 'a') {
      if (WHITESPACE.includes(c)) {
        if (state === 'a') emit();
        state = ' ';
      } else if (c === '#' && comments) {
        // a comment runs to the end of the line, even in the middle of a word
        break;
      } else if (c === '\\') {
        if (i + 1 >= line.length) throw new Error('No escaped character');
        token += line[++i];
        state = 'a';
      } else if (c === "'" || c === '"') {
        state = c;
        quoted = true;
      } else {
        token += c;
        state = 'a';
      }
    } else if (c === state) {
      state = 'a';
    } else if (state === '"' && c === '\\') {
      const n = line[i + 1];
      if (n === undefined) throw new Error('No escaped character');
      // inside double quotes only the quote and the backslash itself can be escaped
      if (n !== '"' && n !== '\\') token += '\\';
      token += n;
      i++;
    } else {
      token += c;
    }
  }
  if (state === "'" || state === '"') throw new Error('No closing quotation');
  emit();
  return tokens;
}
