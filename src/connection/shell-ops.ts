// Shell snippets shared by every transport: sudo wrapping and the atomic file write.
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { quote, sh, toScript, wrapScript } from './quote.js';
import { CommandError } from '../errors.js';
import type { BecomeSettings, Command, ExecOptions, ExecResult, WriteFileOptions, WriteResult } from './types.js';

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
  if (opts.inline && (opts.cwd !== undefined || opts.env !== undefined)) throw new Error('an inline script takes no cwd or env');
  // An inline script is a function body: `return` leaves it wherever it runs (the session's shell, `sh -c`, sudo).
  const inner = opts.inline ? `provision_inline() {\n${toScript(cmd)}\n}\nprovision_inline` : wrapScript(toScript(cmd), { cwd: opts.cwd, env: opts.env });
  const input = opts.stdin === undefined ? undefined : Buffer.from(opts.stdin);
  const user = become.becomeUser ?? 'root';
  // Already that user (root deploying as root): no sudo, which a minimal host may not even have.
  if (!(opts.become ?? become.become) || become.loginUser === user) return { script: inner, stdin: input };
  if (become.method === 'su') {
    // su reads a password from a terminal only, which would mean scraping its prompt on a pty: from root it asks none.
    if (become.loginUser !== 'root') {
      throw new Error(`become method su from ${become.loginUser ?? 'a user that is not root'}: su asks for its password on a terminal, which provision does not drive; log in as root, or become with sudo`);
    }
    // as Ansible's su: the user's own shell runs `/bin/sh -c …` (a nologin account refuses, as it does there)
    return { script: `su ${quote(user)} -c ${quote(`/bin/sh -c ${quote(inner)}`)}`, stdin: input };
  }
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
 * Joins shell steps into one inline script body (see ExecOptions.inline) that stops at the first failing step and
 * returns its status, as `set -e` would, without setting an option in the shell that runs it.
 */
export function inlineSteps(steps: readonly string[]): string {
  return steps.join(' &&\n');
}

/** Content up to this size, valid UTF-8 without NUL bytes, travels inside the write's script itself. */
const maxInlineContent = 64 * 1024;

/** Whether `content` can travel inside a script (printf's argument) rather than on standard input. */
function fitsInline(content: Buffer): boolean {
  return content.length <= maxInlineContent && !content.includes(0) && Buffer.from(content.toString('utf8')).equals(content);
}

/** What the write script prints when it could not keep a replaced file's owner and group (not root). */
const ownerNotKept = 'provision:owner-not-kept';

/** A write as one inline command: its script, the bytes for its stdin when they do not travel inside it, its result. */
export interface WriteCommand {
  script: string;
  stdin?: Buffer;
  /** Reads the command's result: throws CommandError when the write failed. */
  result(r: ExecResult): WriteResult;
}

/** The command that writes `content` to `path` atomically (see atomicWriteScript); the same for every caller. */
export function writeCommand(path: string, content: Buffer, opts: WriteFileOptions): WriteCommand {
  const inline = fitsInline(content);
  return {
    script: atomicWriteScript(path, content, opts, inline),
    ...(inline ? {} : { stdin: content }),
    result(r) {
      if (r.code !== 0) throw new CommandError(`write ${path}`, r.code, r.stdout, r.stderr);
      return { ownerKept: !r.stdout.includes(ownerNotKept) };
    },
  };
}

/**
 * The inline script that writes `content` to `path` atomically: a new temporary file beside it (a random name chosen
 * here, created with O_EXCL through the shell's noclobber), mode and owner set (kept from the file it replaces when
 * not given), validated, the old file backed up if asked, then renamed over the target; the temporary file is removed
 * on any failure. One command: a write costs one round trip whatever it asks for.
 *
 * `inlineContent` (see fitsInline): the bytes are printf's argument in the script, which the shell runs only once it
 * has all of it, so a dropped connection cannot install half a file. Otherwise they come on stdin, and their size and
 * checksum are verified before anything is replaced.
 *
 * Everything after the creation goes through the open descriptor (/proc/self/fd/3): someone who can write the folder
 * and swaps the name for a link cannot make a chmod or chown land on another file. Started programs: `mv`, and
 * `chmod`/`chown` only when a mode or owner is to be set or kept.
 */
function atomicWriteScript(path: string, content: Buffer, opts: WriteFileOptions, inlineContent: boolean): string {
  const dir = posix.dirname(path);
  const tmp = `${dir === '/' ? '' : dir}/.provision-${randomBytes(9).toString('hex')}.tmp`;
  const body: string[] = ['set +C', 'f=/proc/self/fd/3; [ -e "$f" ] || f=$t'];
  if (inlineContent) {
    body.push(`printf %s ${quote(content.toString('utf8'))} >&3`);
  } else {
    const digest = createHash('sha256').update(content).digest('hex');
    body.push(
      'cat >&3',
      `{ [ "$(wc -c < "$f")" -eq ${content.length} ] || { echo "short write: the connection dropped" >&2; false; }; }`,
      // Hash stdin, not a checksum line naming the file: a path with a newline would not parse as one.
      `{ [ "$(sha256sum < "$f")" = '${digest}  -' ] || { echo 'checksum mismatch' >&2; false; }; }`,
    );
  }
  // Owner first: a chown clears the setuid and setgid bits that the chmod then sets. What is not given is kept from a
  // regular file it replaces (never from what a link points at), with no program when the file is already ours.
  if (!(opts.owner && opts.group)) {
    body.push(`{ [ ! -f "$p" ] || [ -L "$p" ] || { [ -O "$p" ] && [ -G "$p" ]; } || chown --reference="$p" -- "$f" 2>/dev/null || echo ${ownerNotKept}; }`);
  }
  if (opts.owner || opts.group) body.push(sh`chown ${`${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}`} -- "$f"`);
  // Without a mode, a new file keeps the mode its creation gave it (0666 less the umask).
  if (opts.mode) body.push(sh`chmod ${opts.mode} -- "$f"`);
  else body.push('{ [ ! -f "$p" ] || [ -L "$p" ] || chmod --reference="$p" -- "$f"; }');
  if (opts.validate) {
    if (!opts.validate.includes('%s')) throw new Error(`validate must contain %s: ${opts.validate}`);
    // The validate command is the user's own shell command; only the temporary path is substituted. It runs in a
    // subshell of its own: a syntax error in it must not end the shell this script runs in.
    body.push(`{ ( eval ${quote(opts.validate.split('%s').join('"$t"'))} ) >&2; }`);
  }
  // --remove-destination: a link planted under the backup's (predictable) name is replaced, not written through.
  if (opts.backupTo) body.push(sh`{ [ ! -f "$p" ] || [ -L "$p" ] || cp -p --remove-destination -- "$p" ${opts.backupTo}; }`);
  // -T: a link to a directory planted at dest is replaced, never entered.
  body.push('mv -f -T -- "$t" "$p"');
  // The content must never be readable under a wider mode than the one it ends with, even for the moment before the
  // chmod or in the file a killed shell leaves: when a mode is set (or kept from the file replaced), the temporary
  // file is created under umask 077. The shell's umask is read from /proc with a builtin (no program started) and
  // put back as soon as the file is open; a new file without a mode keeps 0666 less the umask, its final mode anyway.
  const restrict = opts.mode ? 'true' : '[ -f "$p" ] && [ ! -L "$p" ]';
  return [
    'local p t f rc made= k r rest u=',
    `p=${quote(path)}; t=${quote(tmp)}`,
    ...(opts.createParents ? [sh`mkdir -p -- ${dir} || return 1`] : []),
    `if ${restrict}; then { while read -r k r rest; do [ "$k" != Umask: ] || { u=$r; break; }; done < /proc/self/status; } 2>/dev/null; fi`,
    `trap ${quote(`rm -f -- ${quote(tmp)}`)} EXIT; trap 'exit 129' HUP INT TERM PIPE`,
    // noclobber: the redirection creates the file with O_EXCL; the group runs only when it did.
    'set -C; [ -z "$u" ] || umask 077',
    `{ made=1; { [ -z "$u" ] || umask "$u"; } && ${body.join(' &&\n')}\n} 3>"$t"`,
    'rc=$?; set +C; [ -z "$u" ] || umask "$u"',
    '[ "$rc" -eq 0 ] || [ -z "$made" ] || rm -f -- "$t"',
    'trap - EXIT HUP INT TERM PIPE',
    'return "$rc"',
  ].join('\n');
}

/** The inline script that prints a file to stdout, or returns 44 when it does not exist. */
export function readFileScript(path: string): string {
  return sh`if [ -e ${path} ]; then cat -- ${path}; else return 44; fi`;
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
