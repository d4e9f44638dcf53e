// Learns what a host is in one round trip: one constant shell script prints every section, parseFacts reads it.
import type { Connection } from '../connection/types.js';
import { CommandError } from '../errors.js';
import { parseFacts, sectionMarker } from './parse.js';
import type { Facts } from './types.js';

const m = (name: string): string => `echo '${sectionMarker(name)}'`;

/**
 * The facts script: POSIX sh, no interpolation, every probe silenced so a missing tool is an empty section.
 * It runs as the login user (not through sudo) so `user` and `sudo` describe the connection itself.
 */
export const factsScript = [
  m('os-release'),
  'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
  m('hostname'),
  'hostname 2>/dev/null || uname -n 2>/dev/null',
  m('user'),
  'id -un 2>/dev/null; id -u 2>/dev/null',
  m('systemd'),
  '[ -d /run/systemd/system ] && echo yes || echo no',
  m('selinux-getenforce'),
  'command -v getenforce >/dev/null 2>&1 && getenforce 2>/dev/null',
  m('selinux-enforce'),
  'cat /sys/fs/selinux/enforce 2>/dev/null',
  m('selinux-config'),
  'cat /etc/selinux/config 2>/dev/null',
  m('package-managers'),
  'for c in apt-get dnf yum; do command -v "$c" >/dev/null 2>&1 && echo "$c"; done',
  m('sudo'),
  'sudo -n true >/dev/null 2>&1 </dev/null && echo yes || echo no',
  m('python'),
  // the distribution's python first: it is the one the distribution's mod_wsgi embeds
  '[ -x /usr/bin/python3 ] && echo /usr/bin/python3',
  m('python-path'),
  'command -v python3 2>/dev/null',
  m('platform-python'),
  '[ -x /usr/libexec/platform-python ] && echo /usr/libexec/platform-python',
  m('apachectl'),
  'for p in /usr/sbin/apachectl /usr/sbin/apache2ctl /usr/bin/apachectl; do [ -x "$p" ] && { echo "$p"; break; }; done',
  m('end'),
  'true',
].join('\n');

/** Gathers a host's facts with one command through its connection. */
export async function gatherFacts(conn: Connection): Promise<Facts> {
  const r = await conn.exec(factsScript, { become: false, timeoutMs: 60_000 });
  if (r.code !== 0) throw new CommandError('gather facts', r.code, r.stdout, r.stderr);
  return parseFacts(r.stdout);
}
