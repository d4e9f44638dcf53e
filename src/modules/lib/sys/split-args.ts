// A command string becomes argv as Ansible's command module does: Python's shlex.split, the one tokenizer the
// inventory uses too (quotes, no shell features, no comments).
import { InputError } from '../../../errors.js';
import { shlexSplit } from '../../../inventory/shlex.js';

/** Splits `cmd` into words as Python's `shlex.split(cmd)`: quotes honoured, no expansion, pipes or comments. */
export function splitArgs(cmd: string): string[] {
  try {
    return shlexSplit(cmd, { comments: false });
  } catch (err) {
    const why = (err as Error).message === 'No closing quotation' ? 'no closing quotation' : 'trailing backslash';
    throw new InputError(`cannot split command (${why}): ${cmd}`);
  }
}
