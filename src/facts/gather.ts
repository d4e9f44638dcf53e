// Learns what a host is in one round trip: one constant shell script prints every section, parseFacts reads it.
import type { Connection } from '../connection/types.js';
import { CommandError } from '../errors.js';
import { parseFacts, sectionMarker } from './parse.js';
import type { Facts } from './types.js';

const m = (name: string): string => `echo '${sectionMarker(name)}'`;

/**
 * The facts script: POSIX sh, no interpolation, every probe silenced so a missing tool is an empty section. An inline
 * script (see ExecOptions.inline): files are read and ids found with shell builtins, so on a Linux host it starts no
 * program at all (`hostname`, `id` and `sudo` only where /proc or /etc/passwd do not answer, or the user is not root).
 * It runs as the login user (not through sudo) so `user` and `sudo` describe the connection itself.
 */
export const factsScript = [
  'local l k r e rest n x i u=',
  // cat with builtins: a file's lines, the last one even without its newline
  'provision_cat() { [ -r "$1" ] || return 1; while IFS= read -r l || [ -n "$l" ]; do printf \'%s\\n\' "$l"; done < "$1"; }',
  m('os-release'),
  'provision_cat /etc/os-release || provision_cat /usr/lib/os-release',
  m('hostname'),
  'provision_cat /proc/sys/kernel/hostname || hostname 2>/dev/null || uname -n 2>/dev/null',
  m('user'),
  // the effective uid from /proc, the name from /etc/passwd; `id` where either does not answer (LDAP users)
  'if [ -r /proc/self/status ]; then while read -r k r e rest; do if [ "$k" = Uid: ]; then u=$e; break; fi; done < /proc/self/status; fi',
  'n=; if [ -n "$u" ] && [ -r /etc/passwd ]; then while IFS=: read -r k x i rest; do if [ "$i" = "$u" ]; then n=$k; break; fi; done < /etc/passwd; fi',
  'if [ -n "$n" ]; then printf \'%s\\n%s\\n\' "$n" "$u"; else id -un 2>/dev/null; id -u 2>/dev/null; u=$(id -u 2>/dev/null); fi',
  m('systemd'),
  '[ -d /run/systemd/system ] && echo yes || echo no',
  m('selinux-getenforce'),
  'command -v getenforce >/dev/null 2>&1 && getenforce 2>/dev/null',
  m('selinux-enforce'),
  'provision_cat /sys/fs/selinux/enforce',
  m('selinux-config'),
  'provision_cat /etc/selinux/config',
  m('package-managers'),
  'for k in apt-get dnf yum; do command -v "$k" >/dev/null 2>&1 && echo "$k"; done',
  m('sudo'),
  // root needs no sudo to become root, and may not even have it
  'if [ "$u" = 0 ]; then echo yes; elif sudo -n true >/dev/null 2>&1 </dev/null; then echo yes; else echo no; fi',
  m('python'),
  // the distribution's python first: it is the one the distribution's mod_wsgi embeds
  '[ -x /usr/bin/python3 ] && echo /usr/bin/python3',
  m('python-path'),
  'command -v python3 2>/dev/null',
  m('platform-python'),
  '[ -x /usr/libexec/platform-python ] && echo /usr/libexec/platform-python',
  m('apachectl'),
  'for k in /usr/sbin/apachectl /usr/sbin/apache2ctl /usr/bin/apachectl; do [ -x "$k" ] && { echo "$k"; break; }; done',
  m('end'),
  'return 0',
].join('\n');

/** Gathers a host's facts with one command through its connection. */
export async function gatherFacts(conn: Connection): Promise<Facts> {
  const r = await conn.exec(factsScript, { become: false, timeoutMs: 60_000, inline: true });
  if (r.code !== 0) throw new CommandError('gather facts', r.code, r.stdout, r.stderr);
  return parseFacts(r.stdout);
}
