// Shell snippets shared by every transport: sudo wrapping and the atomic file write.
import { createHash } from 'node:crypto';
import { quote, sh, toScript, wrapScript } from './quote.js';
import type { BecomeSettings, Command, ExecOptions, WriteFileOptions } from './types.js';

export interface PreparedCommand {
  /** The full script the transport hands to `sh -c` (or sends as the exec line). */
  script: string;
  /** Standard input to send (the become password line first when sudo asks for one). */
  stdin?: Buffer;
}

/**
 * Wraps a command for the transport: cwd/env, then sudo when becoming.
 * `passwordNeeded` says whether sudo asks for a password (probed once per connection); the password travels
 * on stdin, never on the command line.
 */
export function prepareCommand(
  cmd: Command,
  opts: ExecOptions,
  become: BecomeSettings,
  passwordNeeded: boolean,
): PreparedCommand {
  const inner = wrapScript(toScript(cmd), { cwd: opts.cwd, env: opts.env });
  const input = opts.stdin === undefined ? undefined : Buffer.from(opts.stdin);
  const user = become.becomeUser ?? 'root';
  // Already that user (root deploying as root): no sudo, which a minimal host may not even have.
  if (!(opts.become ?? become.become) || become.loginUser === user) return { script: inner, stdin: input };
  if (passwordNeeded) {
    if (become.becomePassword === undefined) {
      throw new Error('sudo needs a password: give --ask-become-pass or ansible_become_password');
    }
    const script = `sudo -k -S -p '' -H -u ${quote(user)} -- sh -c ${quote(inner)}`;
    const pw = Buffer.from(`${become.becomePassword}\n`);
    return { script, stdin: input ? Buffer.concat([pw, input]) : pw };
  }
  return { script: `sudo -n -H -u ${quote(user)} -- sh -c ${quote(inner)}`, stdin: input };
}

/** The probe a connection runs once when it becomes with a password: exit 0 means no password is needed. */
export const sudoProbe = 'sudo -n true 2>/dev/null';

/**
 * The script that writes stdin to `path` atomically: a temporary file in the same directory, its size and
 * checksum verified (a dropped connection cannot install half a file), mode and owner set (kept from the old
 * file when not given), validated, the old file backed up if asked, then renamed over the target. The temporary
 * file is removed on any exit. One command: a write costs one round trip whatever it asks for.
 */
export function atomicWriteScript(path: string, content: Buffer, opts: WriteFileOptions): string {
  const digest = createHash('sha256').update(content).digest('hex');
  const lines = [
    'set -e',
    `p=${quote(path)}`,
    'd=$(dirname -- "$p")',
    ...(opts.createParents ? ['mkdir -p -- "$d"'] : []),
    't=$(mktemp "$d/.provision-XXXXXX.tmp")',
    `trap 'rm -f -- "$t"' EXIT`,
    `trap 'exit 130' INT TERM HUP PIPE`,
    // The temporary file is opened once, checked to be the file mktemp made, and from then on written, measured,
    // chmodded and chowned through that open descriptor (/proc/self/fd/3): someone who can write the folder and
    // swaps the name for a link cannot make any of it land on another file.
    'exec 3<>"$t"',
    'f=/proc/self/fd/3; [ -e "$f" ] || f=$t',
    `[ ! -L "$t" ] && [ "$(stat -L -c %d:%i -- "$f")" = "$(stat -c %d:%i -- "$t")" ] || { echo "$t was replaced while being written: refused" >&2; exit 1; }`,
    'cat >&3',
    `[ "$(wc -c < "$f")" -eq ${content.length} ] || { echo "short write: the connection dropped" >&2; exit 1; }`,
    // Hash stdin, not a checksum line naming the file: a path with a newline would not parse as one.
    `[ "$(sha256sum < "$f")" = '${digest}  -' ] || { echo 'checksum mismatch' >&2; exit 1; }`,
    // Mode and owner are kept from a regular file only: never copied from what a symbolic link points at.
    'if [ -f "$p" ] && [ ! -L "$p" ]; then chmod --reference="$p" -- "$f"; chown --reference="$p" -- "$f" 2>/dev/null || true;',
    'else m=$(umask); chmod "$(printf %o $(( 0666 & ~m )))" -- "$f"; fi',
  ];
  if (opts.mode) lines.push(sh`chmod ${opts.mode} -- "$f"`);
  if (opts.owner || opts.group) {
    lines.push(sh`chown ${`${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}`} -- "$f"`);
  }
  if (opts.validate) {
    if (!opts.validate.includes('%s')) throw new Error(`validate must contain %s: ${opts.validate}`);
    // The validate command is the user's own shell command; only the temporary path is substituted.
    lines.push(`${opts.validate.split('%s').join('"$t"')} >&2`);
  }
  // --remove-destination: a link planted under the backup's (predictable) name is replaced, not written through.
  if (opts.backupTo) lines.push(sh`if [ -f "$p" ] && [ ! -L "$p" ]; then cp -p --remove-destination -- "$p" ${opts.backupTo}; fi`);
  // -T: a link to a directory planted at dest is replaced, never entered.
  lines.push('exec 3>&-', 'mv -f -T -- "$t" "$p"', 'trap - EXIT');
  return lines.join('\n');
}

/** The script that prints a file to stdout, or exits 44 when it does not exist. */
export function readFileScript(path: string): string {
  return sh`if [ -e ${path} ]; then cat -- ${path}; else exit 44; fi`;
}
export const missingFileCode = 44;

/**
 * Runs a script under coreutils `timeout`, which kills its whole process group on the host (closing a channel does
 * not stop a remote command): exit code 124 when the time ran out.
 */
export function timeoutScript(script: string, timeoutMs: number): string {
  const seconds = Math.max(timeoutMs, 1) / 1000;
  return `timeout -k 2 ${seconds} sh -c ${quote(script)}`;
}
