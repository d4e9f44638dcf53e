// Keeps a service started or stopped and enabled or not, with systemd where it runs and SysV init scripts elsewhere.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { InputError, MissingOnHostError, ProvisionError } from '../errors.js';
import { change, defineTask, noChange, type Footprint, type PathUse, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import {
  actionScript,
  enableScript,
  parseSystemdShow,
  parseSysvState,
  stateScript,
  type EnableTool,
  type InitSystem,
  type ServiceAction,
  type ServiceState,
} from './lib/sys/service-state.js';

export type ServiceWantedState = NonNullable<z.infer<typeof serviceSchema>['state']>;

const serviceSchema = moduleSchema({
  /** Service (systemd unit or /etc/init.d script) name. */
  name: z.string(),
  /** `restarted` and `reloaded` always change; a stopped service is started instead. */
  state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
  /** Start at boot. Ignored (with a note) on a SysV host without update-rc.d, chkconfig or rc-update. */
  enabled: z.boolean().optional(),
  /** systemd: run `systemctl daemon-reload` first when the unit's file changed on disk (Ansible's `daemon_reload`). */
  daemonReload: z.boolean().optional(),
});
export type ServiceParams = z.input<typeof serviceSchema>;

interface ServiceData {
  init: InitSystem;
  action?: ServiceAction;
  enable?: { tool: EnableTool; value: boolean };
  daemonReload?: boolean;
}

const serviceName = /^[A-Za-z0-9@][A-Za-z0-9@._:\\-]*$/;

/** Ensures a service's running state and boot-time enabling. */
export function service(params: ServiceParams): Task {
  checkParams('service', serviceSchema, params);
  if (!serviceName.test(params.name)) {
    throw new InputError(`service: ${JSON.stringify(params.name)} is not a service name`);
  }
  const what = `service ${params.name}`;
  if (params.state === undefined && params.enabled === undefined && !params.daemonReload) {
    throw new InputError(`${what}: give state and/or enabled (or daemonReload alone)`);
  }
  const label = [
    params.daemonReload ? 'daemon-reload' : undefined,
    params.state,
    params.enabled === undefined ? undefined : params.enabled ? 'enabled' : 'disabled',
  ].filter(Boolean);
  // `name` is the service's, as in Ansible, so it is not the task's display name: build with it cleared, keep it in params
  const task = defineTask('service', `${what} ${label.join(', ')}`, { ...params, name: undefined }, {
    footprint: serviceFootprint(params.name),
    check: (ctx) => planService(ctx, params),
    async apply(ctx, plan) {
      const d = plan.data as ServiceData;
      if (d.daemonReload) await ctx.run('systemctl daemon-reload');
      if (d.action) await ctx.run(actionScript(d.init, params.name, d.action));
      if (d.enable) await ctx.run(enableScript(d.enable.tool, params.name, d.enable.value));
    },
  });
  return { ...task, params };
}

// Where systemd looks for units, first wins (systemd.unit(5)); the read-ahead check is stale after a write in any.
const unitDirs = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** The systemd unit a service name means: `appsrv` is `appsrv.service`; a name with a unit suffix is itself. */
const unitName = (name: string): string => (/\.[a-z]+$/.test(name) ? name : `${name}.service`);

/**
 * What the service check reads: the service's state, and every file that state comes from (its unit file, the
 * template unit of an instance, their drop-ins, the enable links under /etc/systemd/system, the SysV init script), so
 * an earlier task writing a unit or a link makes a plan read ahead stale and it is checked again.
 */
export function serviceFootprint(name: string): Footprint {
  const unit = unitName(name);
  const template = /^([^@]+@)[^@]*(\.[a-z]+)$/.exec(unit);
  const units = template ? [unit, `${template[1]}${template[2]}`] : [unit];
  const reads: PathUse[] = [{ path: `service:${name}` }, { path: `/etc/init.d/${name}` }];
  // /etc/systemd/system whole: besides units and drop-ins it holds the enable links (`*.wants/`, `*.requires/`)
  reads.push({ path: '/etc/systemd/system', tree: true });
  for (const dir of unitDirs.slice(1)) {
    for (const u of units) reads.push({ path: `${dir}/${u}` }, { path: `${dir}/${u}.d`, tree: true });
  }
  return { reads, writes: [{ path: `service:${name}` }] };
}

async function planService(ctx: TaskContext, p: ServiceParams): Promise<Plan> {
  const init: InitSystem = ctx.facts.init;
  const r = await ctx.exec(stateScript(init, p.name), { inline: true });
  const st = init === 'systemd' ? parseSystemdShow(r.stdout) : parseSysvState(r.stdout);
  if (!st.exists) {
    // Its package may be planned for install by an earlier task: --check predicts then (only then), as the runner decides.
    throw new MissingOnHostError(
      `service ${p.name} not found on ${ctx.host} (${init === 'systemd' ? 'no systemd unit' : `no /etc/init.d/${p.name}`})`,
      [{ path: `service:${p.name}` }, { path: init === 'systemd' ? `/etc/systemd/system/${unitName(p.name)}` : `/etc/init.d/${p.name}` }],
    );
  }
  if (st.masked && wantsActive(p)) {
    throw new ProvisionError(
      `service ${p.name} is masked on ${ctx.host}: it cannot be ${p.enabled ? 'enabled' : 'started'}; unmask it first (systemctl unmask ${p.name})`,
    );
  }
  return planServiceChange(init, st, p);
}

/** Whether the wanted state needs the unit to start or be enabled (what a masked unit refuses). */
function wantsActive(p: Pick<ServiceParams, 'state' | 'enabled'>): boolean {
  return p.enabled === true || (p.state !== undefined && p.state !== 'stopped');
}

function actionFor(state: ServiceWantedState, running: boolean): ServiceAction | undefined {
  switch (state) {
    case 'started':
      return running ? undefined : 'start';
    case 'stopped':
      return running ? 'stop' : undefined;
    case 'restarted':
      return running ? 'restart' : 'start';
    case 'reloaded':
      return running ? 'reload' : 'start';
  }
}

/** Compares observed and wanted state: the action and enabling to do, and the summary (`stopped → started`). */
export function planServiceChange(
  init: InitSystem,
  st: ServiceState,
  p: Pick<ServiceParams, 'state' | 'enabled' | 'daemonReload'>,
): Plan {
  const data: ServiceData = { init };
  const parts: string[] = [];
  const notes: string[] = [];
  if (p.daemonReload && init === 'systemd' && st.needsDaemonReload) {
    data.daemonReload = true;
    parts.push('daemon-reload');
  }
  if (p.daemonReload && init !== 'systemd') notes.push('daemonReload not done: no systemd on this host');
  if (p.state !== undefined) {
    data.action = actionFor(p.state, st.running);
    if (data.action === 'start') parts.push('stopped → started');
    else if (data.action === 'stop') parts.push('started → stopped');
    else if (data.action) parts.push(data.action === 'restart' ? 'restart' : 'reload');
  }
  if (p.enabled !== undefined) {
    if (st.enabled === null || st.enableTool === 'none') {
      notes.push('enabled not managed: no systemctl, update-rc.d, chkconfig or rc-update on this host');
    } else if (st.enabled !== p.enabled) {
      data.enable = { tool: st.enableTool, value: p.enabled };
      parts.push(p.enabled ? 'disabled → enabled' : 'enabled → disabled');
    }
  }
  if (parts.length === 0) {
    const now = [st.running ? 'running' : 'stopped', st.enabled === null ? undefined : st.enabled ? 'enabled' : 'disabled'];
    return noChange([now.filter(Boolean).join(', '), ...notes].join('; '));
  }
  return change([parts.join(', '), ...notes].join('; '), { data });
}
