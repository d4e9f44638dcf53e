// A command string becomes argv as Ansible's command module does (Python's shlex.split): quotes, no shell features.
import { InputError } from '../../../errors.js';

/** Splits `cmd` into words with POSIX shell quoting rules, without expansion, pipes or comments. */
export function splitArgs(cmd: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < cmd.length && '"\\$`\n'.includes(cmd[i + 1]!)) word += cmd[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= cmd.length) throw new InputError(`cannot split command (trailing backslash): ${cmd}`);
      word += cmd[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new InputError(`cannot split command (no closing quotation): ${cmd}`);
  if (inWord) words.push(word);
  return words;
}
