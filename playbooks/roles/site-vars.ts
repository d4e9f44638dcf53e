// Reads and checks the inventory variables of the Django site, so a bad value fails before any task runs.
import type { Vars } from 'provision';

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

/** The site's variables, typed, with defaults applied (see playbooks/README.md for each). */
export interface SiteVars {
  projectDir: string;
  projectSrc: string;
  siteName: string;
  httpPort: number;
  serverName: string;
  allowedHosts: string[];
  wsgiProcesses: number;
  wsgiThreads: number;
  wsgiUser?: string;
  wsgiGroup?: string;
  dbDirMode: string;
  dbFileMode: string;
  logDirMode: string;
  logFileMode: string;
  selinuxMode?: SelinuxMode;
  djangoPackage: string;
  healthCheckHost: string;
  pageText: string;
}

// Apache config lines and mod_wsgi options are written unquoted: keep paths and names to plain characters.
const plainPath = /^\/[A-Za-z0-9._\/-]*$/;
const plainName = /^[A-Za-z0-9_-]+$/;
const hostName = /^[A-Za-z0-9.*:\[\]-]+$/;
const octalMode = /^[0-7]{3,4}$/;

function fail(name: string, detail: string): never {
  throw new Error(`variable ${name}: ${detail}`);
}

function str(vars: Vars, name: string, fallback?: string): string {
  const v = vars[name];
  if (v === undefined || v === null || v === '') {
    if (fallback === undefined) fail(name, 'is not set: set it in the inventory (e.g. inventory/group_vars/web.yml)');
    return fallback;
  }
  if (typeof v !== 'string' && typeof v !== 'number') fail(name, `must be a string (got ${JSON.stringify(v)})`);
  return String(v);
}

function int(vars: Vars, name: string, fallback: number, min: number, max: number): number {
  const v = vars[name];
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(name, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

function mode(vars: Vars, name: string, fallback: string): string {
  // A number is the classic mistake: YAML reads 0770 as 504 (octal) or 770 (decimal), never as chmod means it.
  if (typeof vars[name] === 'number') fail(name, `must be an octal mode in quotes such as '${fallback}' (got the number ${String(vars[name])})`);
  const v = str(vars, name, fallback);
  if (!octalMode.test(v)) fail(name, `must be an octal mode in quotes such as '${fallback}' (got ${JSON.stringify(v)})`);
  return v;
}

/** An optional user or group name. */
function account(vars: Vars, name: string): string | undefined {
  if (vars[name] === undefined || vars[name] === null || vars[name] === '') return undefined;
  const v = str(vars, name);
  if (!/^[A-Za-z0-9._-]+$/.test(v)) fail(name, `${JSON.stringify(v)} is not a user or group name`);
  return v;
}

/** allowed_hosts as a list: a YAML list, or a comma-separated string (INI inventories). */
function hostList(vars: Vars, name: string): string[] {
  const v = vars[name];
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : [];
  const hosts = list.map((h) => h.trim()).filter((h) => h !== '');
  if (hosts.length === 0) {
    fail(name, "is empty: with DEBUG off Django answers only the host names listed there; set e.g. allowed_hosts: ['www.example.com']");
  }
  for (const h of hosts) if (!hostName.test(h)) fail(name, `${JSON.stringify(h)} is not a host name`);
  return hosts;
}

/** Whether Django's ALLOWED_HOSTS pattern list accepts `host` ('*', '.example.com' for subdomains, exact names). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p === '*') return true;
    if (p.startsWith('.')) return h === p.slice(1) || h.endsWith(p);
    return h === p;
  });
}

/** Reads the site's variables with their defaults; throws an error naming the variable when one is wrong. */
export function readSiteVars(vars: Vars): SiteVars {
  const projectDir = str(vars, 'project_dir').replace(/\/+$/, '');
  if (!plainPath.test(projectDir) || projectDir === '') {
    fail('project_dir', `must be an absolute path of letters, digits, '.', '_', '-' and '/' (got ${JSON.stringify(projectDir)})`);
  }
  const siteName = str(vars, 'site_name', 'mysite');
  if (!plainName.test(siteName)) fail('site_name', `must be letters, digits, '_' or '-' (got ${JSON.stringify(siteName)})`);
  const allowedHosts = hostList(vars, 'allowed_hosts');
  const serverName = str(vars, 'server_name', allowedHosts.find((h) => !h.startsWith('.') && h !== '*') ?? 'localhost');
  if (!hostName.test(serverName)) fail('server_name', `${JSON.stringify(serverName)} is not a host name`);
  const healthCheckHost = str(vars, 'health_check_host', '127.0.0.1');
  if (!hostAllowed(healthCheckHost, allowedHosts)) {
    fail(
      'health_check_host',
      `${JSON.stringify(healthCheckHost)} is not in allowed_hosts (${allowedHosts.join(', ')}): Django would answer the health check with 400; ` +
        'add it to allowed_hosts or set health_check_host to a listed name that resolves on the host',
    );
  }
  const selinux = vars['selinux_mode'];
  if (selinux !== undefined && selinux !== null && selinux !== '' && !['enforcing', 'permissive', 'disabled'].includes(String(selinux))) {
    fail('selinux_mode', `must be enforcing, permissive or disabled, or unset to leave SELinux alone (got ${JSON.stringify(selinux)})`);
  }
  const wsgiUser = account(vars, 'wsgi_user');
  const wsgiGroup = account(vars, 'wsgi_group');
  return {
    projectDir,
    projectSrc: str(vars, 'project_src', '../examples/mysite'),
    siteName,
    httpPort: int(vars, 'http_port', 80, 1, 65535),
    serverName,
    allowedHosts,
    wsgiProcesses: int(vars, 'wsgi_processes', 2, 1, 1000),
    wsgiThreads: int(vars, 'wsgi_threads', 15, 1, 1000),
    ...(wsgiUser === undefined ? {} : { wsgiUser }),
    ...(wsgiGroup === undefined ? {} : { wsgiGroup }),
    dbDirMode: mode(vars, 'db_dir_mode', '0770'),
    dbFileMode: mode(vars, 'db_file_mode', '0660'),
    logDirMode: mode(vars, 'log_dir_mode', '0770'),
    logFileMode: mode(vars, 'log_file_mode', '0660'),
    ...(selinux ? { selinuxMode: String(selinux) as SelinuxMode } : {}),
    djangoPackage: str(vars, 'django_package', 'python3-django'),
    healthCheckHost,
    pageText: str(vars, 'page_text', 'Hello from mysite'),
  };
}
