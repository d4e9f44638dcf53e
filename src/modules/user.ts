// Ensures a local user account exists with the wanted uid, groups, home and shell, or not, as Ansible's user module.
import { posix } from 'node:path';
import { sh } from '../connection/quote.js';
import { CommandError, InputError } from '../errors.js';
import { z } from './lib/zod.js';
import { applyWith, argvScript, change, defineTask, noChange, type CommonOptions, type Plan, type Task } from '../playbook/types.js';
import { accountName, requireId } from './group.js';
import { checkParams, moduleSchema } from './lib/schema.js';

const userSchema = moduleSchema({
  /** The user's login name (as in Ansible: such a task cannot take a display name). */
  name: z.string(),
  /** `present` (default) or `absent`. */
  state: z.enum(['present', 'absent']).optional(),
  /** Create it as a system account (`useradd -r`: a uid from the system range, no ageing). Only used when creating it. */
  system: z.boolean().optional(),
  /** The numeric user id (changed with `usermod -u` when it differs). */
  uid: z.number().optional(),
  /** Primary group (must exist). Unset on creation: the system's default (a group of the user's name on Debian and RHEL). */
  group: z.string().optional(),
  /** Supplementary groups: exactly these, unless `append`. */
  groups: z.array(z.string()).readonly().optional(),
  /** Add `groups` to those the user has, never remove any. */
  append: z.boolean().optional(),
  /** Home directory (absolute). Changing it does not move the old one's files. */
  home: z.string().optional(),
  /** Create the home directory when creating the user (default true, as Ansible's `create_home`). */
  createHome: z.boolean().optional(),
  /** Login shell, e.g. `/usr/sbin/nologin` for a service account. */
  shell: z.string().optional(),
  /** The GECOS field. */
  comment: z.string().optional(),
  /** With `state: 'absent'`: remove the home directory and mail spool too (`userdel -r`). */
  remove: z.boolean().optional(),
});
export type UserParams = z.input<typeof userSchema>;

/** A user as found on the host: its passwd entry, primary group name and supplementary groups. */
export interface UserEntry {
  name: string;
  uid: number;
  group: string;
  groups: string[];
  comment: string;
  home: string;
  shell: string;
}

interface UserData {
  argv: string[];
}

type Wanted = Omit<UserParams, keyof CommonOptions> & { name: string; state: 'present' | 'absent' };

/** Ensures a local user account. */
export function user(params: UserParams): Task {
  checkParams('user', userSchema, params);
  if (!accountName.test(params.name)) {
    throw new InputError(`user: ${JSON.stringify(params.name)} is not a user name`);
  }
  const what = `user ${params.name}`;
  const state = params.state ?? 'present';
  requireId(params.uid, 'uid', what);
  for (const g of [...(params.group === undefined ? [] : [params.group]), ...(params.groups ?? [])]) {
    if (typeof g !== 'string' || !accountName.test(g)) throw new InputError(`${what}: ${JSON.stringify(g)} is not a group name`);
  }
  for (const field of ['home', 'shell'] as const) {
    const v = params[field];
    if (v !== undefined && (typeof v !== 'string' || !posix.isAbsolute(v) || /[:\n]/.test(v))) {
      throw new InputError(`${what}: ${field} must be an absolute path without ':' (got ${JSON.stringify(v)})`);
    }
  }
  if (params.comment !== undefined && /[:\n]/.test(params.comment)) {
    throw new InputError(`${what}: comment cannot hold ':' or a newline (got ${JSON.stringify(params.comment)})`);
  }
  const { name: _display, when: _w, notify: _n, register: _r, tags: _t, ...rest } = params;
  const wanted: Wanted = { ...rest, name: params.name, state };
  const task = defineTask('user', `${what} ${state}`, { ...params, name: undefined }, {
    footprint: {
      reads: [{ path: '/etc/passwd' }, { path: '/etc/group' }],
      writes: [{ path: '/etc/passwd' }, { path: '/etc/shadow' }, { path: '/etc/group' }, { path: '/etc/gshadow' }],
    },
    async check(ctx) {
      // the passwd line, then the primary group's name, then every group (primary first)
      const probe = sh`getent passwd -- ${params.name} && id -gn -- ${params.name} && id -Gn -- ${params.name}`;
      const r = await ctx.exec(probe, { inline: true });
      if (r.code !== 0 && r.code !== 2) throw new CommandError(`getent passwd ${params.name}`, r.code, r.stdout, r.stderr);
      return planUser(r.code === 0 ? parseUserProbe(r.stdout) : null, wanted);
    },
    // one inline script: it goes out with the applies and checks around it (see Task.applyScript)
    apply: (ctx, plan) => applyWith(ctx, argvScript((plan.data as UserData).argv)),
    applyScript: (_ctx, plan) => argvScript((plan.data as UserData).argv),
  });
  return { ...task, params };
}

/** Reads the probe's three lines: `name:x:uid:gid:gecos:home:shell`, the primary group, all groups. */
export function parseUserProbe(stdout: string): UserEntry | null {
  const [passwd, primary, all] = stdout.split('\n');
  const f = passwd?.split(':');
  if (!f || f.length < 7 || primary === undefined) return null;
  const groupName = primary.trim();
  return {
    name: f[0]!,
    uid: Number(f[2]),
    group: groupName,
    groups: (all ?? '').trim().split(/\s+/).filter((g) => g !== '' && g !== groupName),
    comment: f[4]!,
    home: f[5]!,
    shell: f[6]!.trim(),
  };
}

/** What to run to go from the user found to the one wanted, and the summary (`shell /bin/sh → /usr/sbin/nologin`). */
export function planUser(found: UserEntry | null, p: Wanted): Plan {
  if (p.state === 'absent') {
    if (!found) return noChange('absent');
    return change(`present → absent${p.remove ? ' (home removed)' : ''}`, {
      data: { argv: ['userdel', ...(p.remove ? ['-r'] : []), p.name] } satisfies UserData,
    });
  }
  if (!found) {
    const argv = ['useradd'];
    if (p.system) argv.push('-r');
    if (p.uid !== undefined) argv.push('-u', String(p.uid));
    if (p.group !== undefined) argv.push('-g', p.group);
    if (p.groups && p.groups.length > 0) argv.push('-G', p.groups.join(','));
    if (p.home !== undefined) argv.push('-d', p.home);
    argv.push(p.createHome === false ? '-M' : '-m');
    if (p.shell !== undefined) argv.push('-s', p.shell);
    if (p.comment !== undefined) argv.push('-c', p.comment);
    argv.push(p.name);
    const detail = [p.system ? 'system user' : undefined, p.group ? `group ${p.group}` : undefined, p.home ? `home ${p.home}` : undefined]
      .filter(Boolean)
      .join(', ');
    return change(`absent → present${detail ? ` (${detail})` : ''}`, { data: { argv } satisfies UserData });
  }
  const argv = ['usermod'];
  const parts: string[] = [];
  if (p.uid !== undefined && p.uid !== found.uid) {
    argv.push('-u', String(p.uid));
    parts.push(`uid ${found.uid} → ${p.uid}`);
  }
  if (p.group !== undefined && p.group !== found.group) {
    argv.push('-g', p.group);
    parts.push(`group ${found.group} → ${p.group}`);
  }
  if (p.groups !== undefined) {
    const add = p.groups.filter((g) => !found.groups.includes(g) && g !== (p.group ?? found.group));
    const drop = p.append ? [] : found.groups.filter((g) => !p.groups!.includes(g));
    if (add.length > 0 || drop.length > 0) {
      if (p.append) argv.push('-a', '-G', add.join(','));
      else argv.push('-G', p.groups.join(','));
      parts.push(['groups', ...add.map((g) => `+${g}`), ...drop.map((g) => `-${g}`)].join(' '));
    }
  }
  if (p.home !== undefined && p.home !== found.home) {
    argv.push('-d', p.home);
    parts.push(`home ${found.home} → ${p.home}`);
  }
  if (p.shell !== undefined && p.shell !== found.shell) {
    argv.push('-s', p.shell);
    parts.push(`shell ${found.shell} → ${p.shell}`);
  }
  if (p.comment !== undefined && p.comment !== found.comment) {
    argv.push('-c', p.comment);
    parts.push(`comment ${JSON.stringify(found.comment)} → ${JSON.stringify(p.comment)}`);
  }
  if (parts.length === 0) return noChange(`present (uid ${found.uid}, group ${found.group})`);
  argv.push(p.name);
  return change(parts.join(', '), { data: { argv } satisfies UserData });
}
