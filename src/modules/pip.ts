// Python packages on the host, as Ansible's pip module: the check asks pip itself what an install would do.
import { posix } from 'node:path';
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { quote, quoteArgv } from '../connection/quote.js';
import { InputError, ProvisionError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';

const pipSchema = moduleSchema({
  /** Requirement specifiers (`django==4.2.7`, `requests>=2`), or one string of them joined by commas. */
  name: z.union([z.string(), z.array(z.string())]).optional(),
  /** The version of the one package `name` names (`name==version`). */
  version: z.string().optional(),
  /** Absolute path of a requirements file on the host. */
  requirements: z.string().optional(),
  /** Absolute path of a virtualenv to install into; made (with virtualenvCommand) when missing. */
  virtualenv: z.string().optional(),
  /** The command that makes the virtualenv (default `virtualenv`; `python3 -m venv` works too). */
  virtualenvCommand: z.string().optional(),
  /** More arguments for pip (`--no-index --find-links /srv/wheels`), split at spaces. */
  extraArgs: z.string().optional(),
  /** `present` (default), `latest` (upgrade), `absent`, `forcereinstall`. */
  state: z.enum(['present', 'latest', 'absent', 'forcereinstall']).optional(),
});
export type PipParams = z.input<typeof pipSchema>;

/** Specifiers from `name`, as Ansible reads one string: split at commas, a piece starting with an operator rejoined. */
export function requirementsOf(name: string | readonly string[] | undefined, version?: string): string[] {
  if (name === undefined) return [];
  const pieces = typeof name === 'string' ? name.split(',').map((s) => s.trim()) : [...name];
  const out: string[] = [];
  for (const piece of pieces) {
    if (out.length > 0 && /^[<>=!~]/.test(piece) && typeof name === 'string') out[out.length - 1] += `,${piece}`;
    else if (piece !== '') out.push(piece);
  }
  if (version !== undefined) {
    if (out.length !== 1) throw new InputError('pip: version takes exactly one name');
    if (/[<>=!~]/.test(out[0]!)) throw new InputError(`pip: version given and name ${out[0]} has a version too`);
    out[0] = `${out[0]}==${version}`;
  }
  return out;
}

/** A project name as pip compares them (PEP 503). */
export const normalize = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
/** The project name of a specifier (`Django[argon2]>=4` → `django`). */
export const projectOf = (spec: string) => normalize(/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec)?.[1] ?? spec);

/** `pip freeze` lines → version by normalized name. */
export function parseFreeze(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const r = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==|@)\s*(.+)$/.exec(line.trim());
    if (r) m.set(normalize(r[1]!), r[2]!.trim());
  }
  return m;
}

interface PipData {
  createVenv: boolean;
}

/** Ensures Python packages are installed (or absent) on the host. */
export function pip(params: PipParams): Task {
  checkParams('pip', pipSchema, params);
  const specs = requirementsOf(params.name, params.version);
  if (specs.length === 0 && params.requirements === undefined) throw new InputError('pip: one of name or requirements is required');
  if (params.requirements !== undefined) requireAbs(params.requirements, 'requirements');
  if (params.virtualenv !== undefined) requireAbs(params.virtualenv, 'virtualenv');
  // `name` is the packages', as in Ansible, not the task's display name (as service's)
  return defineTask('pip', `pip ${specs.join(' ') || `-r ${params.requirements}`}`, { ...params, name: undefined }, {
    check: (ctx) => planPip(ctx, params, specs),
    async apply(ctx, plan) {
      const d = plan.data as PipData;
      const steps: string[] = [];
      if (d.createVenv) steps.push(quoteArgv([...(params.virtualenvCommand ?? 'virtualenv').split(/\s+/).filter(Boolean), params.virtualenv!]));
      steps.push(pipCommand(params, specs, false));
      const r = await ctx.run(steps.join(' && '), { timeoutMs: 60 * 60_000 });
      return { stdout: r.stdout };
    },
  });
}

function requireAbs(v: string, field: string): void {
  if (!v.startsWith('/')) throw new InputError(`pip: ${field} must be an absolute path (got ${JSON.stringify(v)})`);
}

const pipOf = (p: PipParams) => (p.virtualenv ? quote(posix.join(p.virtualenv, 'bin', 'pip')) : 'python3 -m pip');
const extra = (p: PipParams) => (p.extraArgs ?? '').split(/\s+/).filter(Boolean);

/** The pip command of the apply, or with `dryRun` the one that asks pip what it would install (a JSON report). */
function pipCommand(p: PipParams, specs: string[], dryRun: boolean): string {
  const state = p.state ?? 'present';
  if (state === 'absent') return `${pipOf(p)} uninstall -y ${quoteArgv([...extra(p), ...specs.map(projectOf)])}`;
  const args = [
    'install',
    ...(state === 'latest' ? ['--upgrade'] : []),
    ...(state === 'forcereinstall' ? ['--force-reinstall'] : []),
    ...(dryRun ? ['--dry-run', '--quiet', '--report', '-'] : []),
    ...extra(p),
    ...(p.requirements !== undefined ? ['-r', p.requirements] : []),
    ...specs,
  ];
  return `${pipOf(p)} ${quoteArgv(args)}`;
}

interface Report {
  install?: Array<{ metadata?: { name?: string; version?: string } }>;
}

async function planPip(ctx: TaskContext, p: PipParams, specs: string[]): Promise<Plan> {
  const state = p.state ?? 'present';
  const wanted = [...specs, ...(p.requirements !== undefined ? [`-r ${p.requirements}`] : [])].join(', ');
  if (p.virtualenv !== undefined) {
    const probe = await ctx.exec(`[ -x ${pipOf(p)} ]`);
    if (probe.code !== 0) {
      if (state === 'absent') return noChange(`no virtualenv at ${p.virtualenv}`);
      return change(`would create virtualenv ${p.virtualenv}, would install: ${wanted}`, { data: { createVenv: true } satisfies PipData });
    }
  }
  const frozen = await ctx.run(`${pipOf(p)} freeze --all`);
  const now = parseFreeze(frozen.stdout);
  if (state === 'absent') {
    const there = specs.map(projectOf).filter((n) => now.has(n));
    if (there.length === 0) return noChange(`not installed: ${specs.join(', ')}`);
    return change(`would remove: ${there.map((n) => `${n}==${now.get(n)}`).join(', ')}`, { data: { createVenv: false } satisfies PipData });
  }
  const r = await ctx.exec(pipCommand(p, specs, true), { timeoutMs: 30 * 60_000, maxOutput: 64 * 1024 * 1024 });
  if (r.code !== 0) {
    if (/no such option: --(dry-run|report)/.test(r.stderr)) throw new ProvisionError(`pip on ${ctx.host} is older than 22.2: the check needs \`pip install --dry-run --report\``);
    throw new ProvisionError(`pip install --dry-run failed (exit ${r.code}): ${r.stderr.trim().slice(-500)}`);
  }
  let report: Report;
  try {
    report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Report;
  } catch {
    throw new ProvisionError(`pip install --dry-run --report gave no report: ${r.stdout.slice(0, 200)}`);
  }
  const installs = (report.install ?? []).map((i) => {
    const name = i.metadata?.name ?? '?';
    const had = now.get(normalize(name));
    return `${name}==${i.metadata?.version ?? '?'}${had === undefined ? '' : ` (now ${had})`}`;
  });
  if (installs.length === 0) return noChange(`already installed: ${wanted}`);
  return change(`would install: ${installs.join(', ')}`, { data: { createVenv: false } satisfies PipData });
}
