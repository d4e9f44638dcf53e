// File modes as users write them ('0770', '770', 'u=rwx,g=rx'): validated when a task is built, resolved against the current mode on the host.
import { InputError } from '../../errors.js';

type OctalDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7';
/** A numeric mode: three or four octal digits, as a string ('0770', '755'). */
export type OctalMode = `${OctalDigit}${OctalDigit}${OctalDigit}` | `${OctalDigit}${OctalDigit}${OctalDigit}${OctalDigit}`;
/** A symbolic mode as chmod takes it, each clause naming who it applies to: 'u=rwx,g=rx,o='. */
export type SymbolicMode = `${'u' | 'g' | 'o' | 'a'}${string}`;
/** A mode: a numeric string (never a number: 770 and 0o770 are the classic mistake) or a symbolic mode. */
export type FileMode = OctalMode | SymbolicMode;

const octal = /^[0-7]{3,4}$/;
const clause = /^([ugoa]+)([-+=])([rwxXst]*|[ugo])$/;

/** Throws an InputError unless `mode` is a valid numeric or symbolic mode; `what` names the task for the message. */
export function validateMode(mode: unknown, what: string): asserts mode is FileMode {
  if (typeof mode !== 'string') {
    throw new InputError(`${what}: mode must be a string such as '0644' (got ${typeof mode} ${String(mode)})`);
  }
  if (octal.test(mode)) return;
  if (/^\d+$/.test(mode)) throw new InputError(`${what}: invalid mode '${mode}': use 3 or 4 octal digits (0-7), e.g. '0644'`);
  for (const part of mode.split(',')) {
    if (!clause.test(part)) {
      throw new InputError(
        `${what}: invalid mode '${mode}': use octal digits ('0644') or chmod's symbolic form with who (u, g, o, a), e.g. 'u=rwx,g=rx,o='`,
      );
    }
  }
}

const who: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

/**
 * The permission bits (12 bits) `mode` gives a file whose current bits are `current`.
 * Numeric modes are absolute (setuid/setgid cleared unless given, unlike chmod's directory rule);
 * symbolic clauses apply in order as chmod applies them.
 */
export function resolveMode(mode: FileMode, current: number, isDirectory: boolean): number {
  if (octal.test(mode)) return parseInt(mode, 8);
  let bits = current & 0o7777;
  for (const part of mode.split(',')) {
    const m = clause.exec(part);
    if (!m) throw new InputError(`invalid mode '${mode}'`);
    const [, whoChars = '', op, perms = ''] = m;
    let mask = 0;
    for (const c of whoChars) mask |= who[c] ?? 0;
    let value = 0;
    if (perms === 'u' || perms === 'g' || perms === 'o') {
      // Copy another class's bits: 'g=u'.
      const shift = { u: 6, g: 3, o: 0 }[perms];
      const rwx = (bits >> shift) & 7;
      value = (rwx << 6) | (rwx << 3) | rwx;
    } else {
      for (const c of perms) {
        if (c === 'r') value |= 0o444;
        else if (c === 'w') value |= 0o222;
        else if (c === 'x') value |= 0o111;
        else if (c === 'X') value |= isDirectory || (bits & 0o111) !== 0 ? 0o111 : 0;
        else if (c === 's') value |= 0o6000;
        else if (c === 't') value |= 0o1000;
      }
    }
    value &= mask;
    if (op === '+') bits |= value;
    else if (op === '-') bits &= ~value;
    else {
      // As chmod: '=' keeps a directory's setuid/setgid bits unless the clause names 's'.
      const cleared = isDirectory && !perms.includes('s') ? mask & ~0o6000 : mask;
      bits = (bits & ~cleared) | value;
    }
  }
  return bits & 0o7777;
}

/** Formats permission bits as four octal digits: 0755, 2770. */
export function formatMode(bits: number): string {
  return (bits & 0o7777).toString(8).padStart(4, '0');
}

/** The argument for chmod that sets exactly `bits` (five digits, so chmod also clears a directory's setgid). */
export function chmodArg(bits: number): string {
  return `0${formatMode(bits)}`;
}
