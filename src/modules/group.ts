// Ensures a local group exists (with a gid, as a system group) or not, as Ansible's group module.
import { sh } from '../connection/quote.js';
import { CommandError, InputError } from '../errors.js';
import { z } from './lib/zod.js';
import { applyWith, argvScript, change, defineTask, noChange, type Plan, type Task } from '../playbook/types.js';
import { checkParams, moduleSchema } from './lib/schema.js';

const groupSchema = moduleSchema({
  /** The group's name (as in Ansible: such a task cannot take a display name). */
  name: z.string(),
  /** `present` (default) or `absent`. */
  state: z.enum(['present', 'absent']).optional(),
  /** Create it as a system group (`groupadd -r`: a gid from the system range). Only used when creating it. */
  system: z.boolean().optional(),
  /** The group id it must have. */
  gid: z.number().optional(),
});
export type GroupParams = z.input<typeof groupSchema>;

/** A group as `getent group` prints it; null when there is none. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

interface GroupData {
  argv: string[];
}

// shadow-utils' own rule (plus upper case, which Debian accepts with --badname and RHEL accepts)
export const accountName = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** Throws unless `id` is a whole number a uid or gid can be. */
export function requireId(id: unknown, field: string, what: string): void {
  if (id === undefined) return;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 4294967294) {
    throw new InputError(`${what}: ${field} must be a whole number from 0 (got ${JSON.stringify(id)})`);
  }
}

/** Ensures a local group's presence and gid. */
export function group(params: GroupParams): Task {
  checkParams('group', groupSchema, params);
  if (!accountName.test(params.name)) {
    throw new InputError(`group: ${JSON.stringify(params.name)} is not a group name`);
  }
  const what = `group ${params.name}`;
  const state = params.state ?? 'present';
  requireId(params.gid, 'gid', what);
  const task = defineTask('group', `${what} ${state}`, { ...params, name: undefined }, {
    footprint: { reads: [{ path: '/etc/group' }], writes: [{ path: '/etc/group' }, { path: '/etc/gshadow' }] },
    async check(ctx) {
      const r = await ctx.exec(sh`getent group -- ${params.name}`, { inline: true });
      // getent: 0 found, 2 not found; anything else is a real failure
      if (r.code !== 0 && r.code !== 2) throw new CommandError(`getent group ${params.name}`, r.code, r.stdout, r.stderr);
      return planGroup(r.code === 0 ? parseGroupLine(r.stdout) : null, { ...params, state });
    },
    // one inline script: it goes out with the applies and checks around it (see Task.applyScript)
    apply: (ctx, plan) => applyWith(ctx, argvScript((plan.data as GroupData).argv)),
    applyScript: (_ctx, plan) => argvScript((plan.data as GroupData).argv),
  });
  return { ...task, params };
}

/** Reads one `name:x:gid:member,member` line. */
export function parseGroupLine(line: string): GroupEntry | null {
  const f = line.trim().split('\n')[0]?.split(':');
  if (!f || f.length < 4 || f[0] === '') return null;
  return { name: f[0]!, gid: Number(f[2]), members: f[3] ? f[3].split(',').filter(Boolean) : [] };
}

/** What to run to go from the group found to the one wanted; the summary says it (`absent → present`, `gid 1001 → 2000`). */
export function planGroup(found: GroupEntry | null, p: Pick<GroupParams, 'name' | 'system' | 'gid'> & { state: 'present' | 'absent' }): Plan {
  if (p.state === 'absent') {
    if (!found) return noChange('absent');
    return change('present → absent', { data: { argv: ['groupdel', p.name] } satisfies GroupData });
  }
  if (!found) {
    const argv = ['groupadd', ...(p.system ? ['-r'] : []), ...(p.gid !== undefined ? ['-g', String(p.gid)] : []), p.name];
    const detail = [p.system ? 'system group' : undefined, p.gid !== undefined ? `gid ${p.gid}` : undefined].filter(Boolean).join(', ');
    return change(`absent → present${detail ? ` (${detail})` : ''}`, { data: { argv } satisfies GroupData });
  }
  if (p.gid !== undefined && found.gid !== p.gid) {
    return change(`gid ${found.gid} → ${p.gid}`, { data: { argv: ['groupmod', '-g', String(p.gid), p.name] } satisfies GroupData });
  }
  return noChange(`present (gid ${found.gid})`);
}
