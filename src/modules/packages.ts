// Installs and removes distribution packages with apt-get, dnf or yum, touching only what differs.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { quoteArgv } from '../connection/quote.js';
import { CommandError, InputError } from '../errors.js';
import type { Facts } from '../facts/types.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';

const packagesSchema = moduleSchema({
  /** Packages that must be installed (any version). */
  present: z.array(z.string()).readonly().optional(),
  /** Packages that must not be installed. */
  absent: z.array(z.string()).readonly().optional(),
  /** Refresh the package index before installing (only when something is to be installed, so a converged run stays ok). */
  updateCache: z.boolean().optional(),
});
export type PackagesParams = z.input<typeof packagesSchema>;

type Manager = NonNullable<Facts['packageManager']>;

interface PackagesData {
  manager: Manager;
  install: string[];
  remove: string[];
}

// Package names of Debian and RPM; no options, no shell characters, no version pins.
const packageName = /^[A-Za-z0-9][A-Za-z0-9.+_~-]*(:[A-Za-z0-9_-]+)?$/;

/** Makes sure `present` packages are installed and `absent` ones are not, in one command per direction. */
export function packages(params: PackagesParams): Task {
  checkParams('packages', packagesSchema, params);
  const present = [...(params.present ?? [])];
  const absent = [...(params.absent ?? [])];
  if (present.length === 0 && absent.length === 0) throw new InputError('packages: give present and/or absent package names');
  for (const name of [...present, ...absent]) {
    if (typeof name !== 'string' || !packageName.test(name)) {
      throw new InputError(`packages: ${JSON.stringify(name)} is not a package name`);
    }
  }
  const both = present.filter((n) => absent.includes(n));
  if (both.length > 0) throw new InputError(`packages: ${both.join(', ')} cannot be both present and absent`);
  const label = [...present.map((n) => `+${n}`), ...absent.map((n) => `-${n}`)].join(' ');
  return defineTask('packages', `packages ${label}`, params, {
    // What a package installs cannot be known: a change invalidates every plan made before it.
    footprint: { reads: [{ path: 'packages:' }], writes: 'anything' },
    check: (ctx) => planPackages(ctx, present, absent),
    async apply(ctx, plan) {
      const data = plan.data as PackagesData;
      const script = changeScript(data, params.updateCache ?? false);
      const r = await ctx.exec(script, { env: data.manager === 'apt' ? { DEBIAN_FRONTEND: 'noninteractive' } : undefined });
      if (r.code !== 0) throw new CommandError(describeChange(data), r.code, r.stdout, r.stderr);
      // a virtual name (awk, mail-transport-agent) is never "installed" for dpkg: apt then says it did nothing
      const changed = data.manager !== 'apt' || !aptDidNothing(r.stdout);
      return { changed, stdout: r.stdout, stderr: r.stderr, rc: r.code };
    },
  });
}

async function planPackages(ctx: TaskContext, present: string[], absent: string[]): Promise<Plan> {
  const manager = ctx.facts.packageManager;
  if (manager === null) {
    throw new InputError(`no supported package manager on ${ctx.host} (looked for apt-get, dnf, yum)`);
  }
  const names = [...present, ...absent];
  const r = await ctx.exec(queryScript(manager, names), { inline: true });
  // dpkg-query exits 1 when some name is unknown; that only means "not installed"
  if (r.code > 1) throw new CommandError(queryScript(manager, names), r.code, r.stdout, r.stderr);
  const installed = manager === 'apt' ? parseDpkgQuery(r.stdout) : parseRpmCheck(r.stdout);
  const isInstalled = (n: string) => installed.has(n) || installed.has(n.replace(/:[^:]*$/, ''));
  const data: PackagesData = {
    manager,
    install: present.filter((n) => !isInstalled(n)),
    remove: absent.filter((n) => isInstalled(n)),
  };
  if (data.install.length === 0 && data.remove.length === 0) {
    return noChange(present.length > 0 && absent.length === 0 ? 'all installed' : 'already in the wanted state');
  }
  return change(describeChange(data), { data });
}

/** `+ apache2 + libapache2-mod-wsgi-py3 - foo`. */
export function describeChange(d: { install: readonly string[]; remove: readonly string[] }): string {
  return [...d.install.map((n) => `+ ${n}`), ...d.remove.map((n) => `- ${n}`)].join(' ');
}

/** The one command that tells, for every name, whether it is installed. */
export function queryScript(manager: Manager, names: readonly string[]): string {
  if (manager === 'apt') return `dpkg-query -W -f='\${Package} \${db:Status-Status}\\n' -- ${quoteArgv(names)} 2>/dev/null`;
  // rpm -q on each name, then on what provides it (dnf installs by provide too, e.g. "mod_wsgi")
  return `local p; for p in ${quoteArgv(names)}; do if rpm -q --quiet -- "$p" || rpm -q --quiet --whatprovides -- "$p"; then echo "installed $p"; else echo "missing $p"; fi; done`;
}

/** Names dpkg knows as installed, from `dpkg-query -W -f='${Package} ${db:Status-Status}\n'` (config-files is not installed). */
export function parseDpkgQuery(stdout: string): Set<string> {
  const installed = new Set<string>();
  for (const line of stdout.split('\n')) {
    const [name, status] = line.trim().split(/\s+/);
    if (name && status === 'installed') installed.add(name);
  }
  return installed;
}

/** Names reported `installed NAME` by the rpm loop of queryScript. */
export function parseRpmCheck(stdout: string): Set<string> {
  const installed = new Set<string>();
  for (const line of stdout.split('\n')) {
    const hit = /^installed (\S+)$/.exec(line.trim());
    if (hit) installed.add(hit[1]!);
  }
  return installed;
}

/** True when every apt-get summary line says nothing was upgraded, installed or removed. */
export function aptDidNothing(stdout: string): boolean {
  const summaries = stdout.split('\n').filter((l) => /^\d+ upgraded, \d+ newly installed, \d+ to remove/.test(l));
  return summaries.length > 0 && summaries.every((l) => /^0 upgraded, 0 newly installed, 0 to remove/.test(l));
}

/** The script that installs and removes exactly the planned packages. */
export function changeScript(d: PackagesData, updateCache: boolean): string {
  const lines = ['set -e'];
  if (d.manager === 'apt') {
    const apt = 'apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
    if (d.install.length > 0) {
      // a fresh container has no package index at all: refresh it even when not asked to
      const empty = '! ls /var/lib/apt/lists/ 2>/dev/null | grep -q _Packages';
      lines.push(updateCache ? 'apt-get -q update' : `if ${empty}; then apt-get -q update; fi`);
      lines.push(`${apt} install -- ${quoteArgv(d.install)}`);
    }
    if (d.remove.length > 0) lines.push(`${apt} remove -- ${quoteArgv(d.remove)}`);
  } else {
    const m = d.manager;
    if (d.install.length > 0) {
      if (updateCache) lines.push(`${m} -q makecache`);
      lines.push(`${m} -y -q install -- ${quoteArgv(d.install)}`);
    }
    if (d.remove.length > 0) lines.push(`${m} -y -q remove -- ${quoteArgv(d.remove)}`);
  }
  return lines.join('\n');
}
