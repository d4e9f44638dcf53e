// Sets SELinux's mode now (setenforce) and after reboot (/etc/selinux/config); skipped where SELinux is absent.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { InputError } from '../errors.js';
import { selinuxConfigMode } from '../facts/parse.js';
import { change, defineTask, noChange, skip, type FileDiff, type Plan, type Task, type TaskContext } from '../playbook/types.js';

export type SelinuxState = z.infer<typeof selinuxSchema>['state'];

const selinuxSchema = moduleSchema({
  /** `disabled` takes effect at the next boot; until then the running system is made permissive. */
  state: z.enum(['enforcing', 'permissive', 'disabled']),
});
export type SelinuxParams = z.input<typeof selinuxSchema>;

/** The persistent configuration file. */
export const selinuxConfigPath = '/etc/selinux/config';

interface SelinuxData {
  /** setenforce's argument, when the running mode changes. */
  setenforce?: '0' | '1';
  /** The new config text, when it changes. */
  config?: string;
}

const splitter = '::provision-selinux-config::';
/** The runtime mode (a pseudo-path) and the config file: what the check reads and the apply writes. */
const selinuxState = [{ path: 'selinux:runtime' }, { path: selinuxConfigPath }];

/** Ensures SELinux's running and persistent mode. */
export function selinux(params: SelinuxParams): Task {
  checkParams('selinux', selinuxSchema, params);
  return defineTask('selinux', `selinux ${params.state}`, params, {
    footprint: { reads: selinuxState, writes: selinuxState },
    async check(ctx) {
      if (!ctx.facts.selinux.present) return skip('SELinux is not present on this host');
      return planFromHost(ctx, params.state);
    },
    async apply(ctx, plan) {
      const d = plan.data as SelinuxData;
      if (d.config !== undefined) await ctx.writeFile(selinuxConfigPath, d.config);
      if (d.setenforce !== undefined) await ctx.run(['setenforce', d.setenforce]);
    },
  });
}

async function planFromHost(ctx: TaskContext, state: SelinuxState): Promise<Plan> {
  const r = await ctx.exec(
    `local e; getenforce 2>/dev/null || { e=$(cat /sys/fs/selinux/enforce 2>/dev/null) && { [ "$e" = 1 ] && echo Enforcing || echo Permissive; }; } || echo Disabled\n` +
      `echo '${splitter}'\ncat ${selinuxConfigPath} 2>/dev/null || true`,
    { inline: true },
  );
  const [head = '', config = ''] = r.stdout.split(`${splitter}\n`);
  const runtime = head.trim().toLowerCase();
  if (runtime !== 'enforcing' && runtime !== 'permissive' && runtime !== 'disabled') {
    throw new InputError(`cannot read SELinux's mode on ${ctx.host}: ${head.trim() || r.stderr.trim()}`);
  }
  return planSelinux(runtime, config === '' ? null : config, state);
}

/** Replaces the SELINUX= value in the config text (or adds the line), leaving everything else as it was. */
export function setConfigMode(config: string | null, state: SelinuxState): string {
  if (config === null || config === '') return `SELINUX=${state}\n`;
  const lines = config.split('\n');
  let last = -1;
  lines.forEach((l, i) => {
    if (/^\s*SELINUX\s*=/.test(l)) last = i;
  });
  if (last < 0) return `${config}${config.endsWith('\n') ? '' : '\n'}SELINUX=${state}\n`;
  lines[last] = `SELINUX=${state}`;
  return lines.join('\n');
}

/** Decides what changes now and after reboot, given the running mode and the config file's text. */
export function planSelinux(runtime: SelinuxState, config: string | null, state: SelinuxState): Plan {
  const data: SelinuxData = {};
  const parts: string[] = [];
  const notes: string[] = [];
  if (runtime === 'disabled') {
    if (state !== 'disabled') notes.push(`SELinux is disabled in the running kernel: ${state} takes effect after a reboot`);
  } else {
    const now: Exclude<SelinuxState, 'disabled'> = state === 'enforcing' ? 'enforcing' : 'permissive';
    if (now !== runtime) {
      data.setenforce = now === 'enforcing' ? '1' : '0';
      parts.push(`runtime ${runtime} → ${now}`);
    }
    if (state === 'disabled') notes.push('disabling SELinux takes effect after a reboot (permissive until then)');
  }
  const before = config ?? '';
  const persistent = config === null ? null : selinuxConfigMode(config);
  if (persistent !== state) {
    data.config = setConfigMode(config, state);
    parts.push(`${selinuxConfigPath} SELINUX=${persistent ?? '(unset)'} → ${state}`);
  }
  if (parts.length === 0) return noChange([`already ${state}`, ...notes].join('; '));
  const diff: FileDiff[] = data.config === undefined ? [] : [{ path: selinuxConfigPath, before: config === null ? null : before, after: data.config }];
  return change([parts.join(', '), ...notes].join('; '), { data, diff: diff.length > 0 ? diff : undefined });
}
