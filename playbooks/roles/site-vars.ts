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
  /** Text the checked page (page_path) must hold; unset: only its status is checked. */
  pageText?: string;
  /** The page the health check and the rollout's gate GET (page_path), redirects followed: `/` unless a login page, say, is the one to read. */
  pagePath: string;
  /** The statuses of page_path that count as healthy (page_status); default 200. */
  pageStatus: number[];
  /** DJANGO_SETTINGS_MODULE of the project (unset: what manage.py names). */
  djangoSettings?: string;
  /** The WSGI callable, `package.wsgi.application` (unset: the settings' WSGI_APPLICATION). */
  djangoWsgi?: string;
  /** Where the application's data lives on the host: never synced over, never deleted by a deploy. */
  dbDir: string;
  logDir: string;
  mediaDir: string;
  /** The URL Apache serves media_dir at (MEDIA_URL). */
  mediaUrl: string;
  /** Mode of media_dir: Apache reads uploads in daemon mode too, so others may enter it. */
  mediaDirMode: string;
  /** Packages the project needs besides Apache, mod_wsgi and Django, for this host's family. */
  extraPackages: { debian: string[]; redhat: string[] };
  /** What `sync` leaves out of the copy (and never deletes on the host). */
  syncExclude: string[];
  /** Environment variables of the application (the env file and manage.py); values are secrets. */
  appEnv: Record<string, string>;
  /** Paths the health check GETs after a deploy (unset: `/` and one static file found in the project). */
  healthCheckPaths?: string[];
  /** Request headers the health checks send (health_check_headers), e.g. Accept: text/html. */
  healthCheckHeaders: Record<string, string>;
  /** A virtualenv for the project (mod_wsgi's python-home), with its requirements file installed; unset: the distribution's packages. */
  virtualenv?: string;
  /** The requirements file, relative to the project's folder. */
  requirements: string;
  /** Options for `pip install` (e.g. `--no-index`, `--find-links`, a path). */
  pipOptions: string[];
  /** The virtualenv sees the distribution's packages too (its Django, when requirements do not name one). */
  venvSystemSitePackages: boolean;
  /** Whether wsgi_user / wsgi_group were given (then they are used as they are, not created). */
  ownUser: boolean;
  ownGroup: boolean;
}

/** sync_exclude's default: what a project folder holds that is not the application (as .gitignore files usually say). */
export const defaultSyncExclude: readonly string[] = [
  '.git/',
  '.venv/',
  'venv/',
  'env/',
  '__pycache__/',
  '*.pyc',
  '*.sqlite3',
  '*.sqlite3-journal',
  'node_modules/',
];

// Apache config lines and mod_wsgi options are written unquoted: keep paths and names to plain characters.
const plainPath = /^\/[A-Za-z0-9._\/-]*$/;
const plainName = /^[A-Za-z0-9_-]+$/;
const hostName = /^[A-Za-z0-9.*:\[\]-]+$/;
const octalMode = /^[0-7]{3,4}$/;
const dottedName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const packageName = /^[A-Za-z0-9][A-Za-z0-9.+_~-]*$/;
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

/** A URL path that begins and ends with '/', as MEDIA_URL and Apache's Alias take it. */
function urlPath(vars: Vars, name: string, fallback: string): string {
  const v = str(vars, name, fallback);
  if (!/^\/([A-Za-z0-9._-]+\/)+$/.test(v)) fail(name, `must be a path such as '${fallback}': '/', then letters, digits, '.', '_', '-', ending in '/' (got ${JSON.stringify(v)})`);
  return v;
}

/** An optional user or group name. */
function account(vars: Vars, name: string): string | undefined {
  if (vars[name] === undefined || vars[name] === null || vars[name] === '') return undefined;
  const v = str(vars, name);
  if (!/^[A-Za-z0-9._-]+$/.test(v)) fail(name, `${JSON.stringify(v)} is not a user or group name`);
  return v;
}

/** An optional absolute plain path; `fallback` when unset. */
function plainDir(vars: Vars, name: string, fallback: string): string {
  const v = str(vars, name, fallback).replace(/\/+$/, '');
  if (!plainPath.test(v) || v === '') fail(name, `must be an absolute path of letters, digits, '.', '_', '-' and '/' (got ${JSON.stringify(v)})`);
  return v;
}

/** An optional list of strings (a YAML list, or comma-separated in INI), each checked by `ok`. */
function strList(vars: Vars, name: string, ok: RegExp, what: string): string[] | undefined {
  const v = vars[name];
  if (v === undefined || v === null || v === '') return undefined;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : fail(name, `must be a list (got ${JSON.stringify(v)})`);
  return list.map((x) => {
    const s = typeof x === 'string' || typeof x === 'number' ? String(x).trim() : fail(name, `must be a list of strings (got ${JSON.stringify(x)})`);
    if (!ok.test(s)) fail(name, `${JSON.stringify(s)} is not ${what}`);
    return s;
  });
}

/** extra_packages: a list for every family, or `{ debian: [...], redhat: [...] }`. */
function extraPackages(vars: Vars): { debian: string[]; redhat: string[] } {
  const v = vars['extra_packages'];
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const unknown = Object.keys(v).filter((k) => k !== 'debian' && k !== 'redhat');
    if (unknown.length > 0) fail('extra_packages', `knows the families debian and redhat, not ${unknown.join(', ')}`);
    const m = v as Vars;
    return {
      debian: strList(m, 'debian', packageName, 'a package name') ?? [],
      redhat: strList(m, 'redhat', packageName, 'a package name') ?? [],
    };
  }
  const all = strList(vars, 'extra_packages', packageName, 'a package name') ?? [];
  return { debian: all, redhat: all };
}

/** health_check_headers: a mapping of HTTP header names to values. */
function headers(vars: Vars): Record<string, string> {
  const name = 'health_check_headers';
  const v = vars[name];
  if (v === undefined || v === null || v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(name, `must be a mapping Header-Name: value (got ${JSON.stringify(v)})`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Vars)) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k)) fail(name, `${JSON.stringify(k)} is not a header name`);
    if (typeof x !== 'string' && typeof x !== 'number') fail(name, `${k} must be a string (got ${JSON.stringify(x)})`);
    if (/[\r\n\0]/.test(String(x))) fail(name, `${k} cannot hold a newline`);
    out[k] = String(x);
  }
  return out;
}

/** app_env: a mapping of environment variable names to values (strings, numbers or booleans). */
function appEnv(vars: Vars): Record<string, string> {
  const v = vars['app_env'];
  if (v === undefined || v === null || v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail('app_env', `must be a mapping NAME: value (got ${JSON.stringify(v)})`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Vars)) {
    if (!envName.test(k)) fail('app_env', `${JSON.stringify(k)} is not an environment variable name`);
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') fail('app_env', `${k} must be a string (got ${JSON.stringify(x)})`);
    const s = String(x);
    if (/[\n\r\0]/.test(s)) fail('app_env', `${k} cannot hold a newline`);
    out[k] = s;
  }
  return out;
}

/** page_status: one HTTP status or a list of them, each 200-599 (redirects are followed, so a 3xx is never the answer). */
function statuses(vars: Vars): number[] {
  const name = 'page_status';
  const v = vars[name];
  if (v === undefined || v === null || v === '') return [200];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
  const out = list.map((x) => {
    const n = typeof x === 'number' ? x : typeof x === 'string' && /^\s*\d+\s*$/.test(x) ? Number(x) : NaN;
    if (!Number.isInteger(n) || n < 100 || n > 599) fail(name, `must be an HTTP status such as 200, or a list of them (got ${JSON.stringify(x)})`);
    if (n >= 300 && n < 400) {
      fail(name, `${n} is a redirect, which the health check follows: set page_path to the page it leads to (e.g. '/accounts/login/') and keep the status 200`);
    }
    return n;
  });
  if (out.length === 0) fail(name, 'is an empty list: give the status the page answers, e.g. 200');
  return out;
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
  const djangoSettings = vars['django_settings'] ? str(vars, 'django_settings') : undefined;
  if (djangoSettings !== undefined && !dottedName.test(djangoSettings)) {
    fail('django_settings', `must be a dotted Python module name such as 'mysite.settings' (got ${JSON.stringify(djangoSettings)})`);
  }
  const djangoWsgi = vars['django_wsgi'] ? str(vars, 'django_wsgi') : undefined;
  if (djangoWsgi !== undefined && (!dottedName.test(djangoWsgi) || !djangoWsgi.includes('.'))) {
    fail('django_wsgi', `must be a dotted path to the WSGI callable such as 'mysite.wsgi.application' (got ${JSON.stringify(djangoWsgi)})`);
  }
  const healthCheckPaths = strList(vars, 'health_check_paths', /^\/[^\s]*$/, 'a path starting with /');
  const pageText = vars['page_text'] ? str(vars, 'page_text') : undefined;
  const pagePath = str(vars, 'page_path', '/');
  if (!/^\/[^\s]*$/.test(pagePath)) fail('page_path', `must be a path starting with / such as '/accounts/login/' (got ${JSON.stringify(pagePath)})`);
  const virtualenv = vars['virtualenv'] ? plainDir(vars, 'virtualenv', '') : undefined;
  const requirements = str(vars, 'requirements', 'requirements.txt');
  if (!/^[A-Za-z0-9._-][A-Za-z0-9._\/-]*$/.test(requirements) || requirements.split('/').includes('..')) {
    fail('requirements', `must be a path inside the project, of letters, digits, '.', '_', '-' and '/' (got ${JSON.stringify(requirements)})`);
  }
  const pipOptions = strList(vars, 'pip_options', /^[^\s]+$/, 'one pip option or value (no spaces)') ?? [];
  const systemSite = vars['venv_system_site_packages'];
  if (systemSite !== undefined && typeof systemSite !== 'boolean') fail('venv_system_site_packages', `must be true or false (got ${JSON.stringify(systemSite)})`);
  return {
    projectDir,
    projectSrc: str(vars, 'project_src', '../examples/mysite'),
    ...(djangoSettings === undefined ? {} : { djangoSettings }),
    ...(djangoWsgi === undefined ? {} : { djangoWsgi }),
    dbDir: plainDir(vars, 'db_dir', `${projectDir}/db`),
    logDir: plainDir(vars, 'log_dir', `${projectDir}/logs`),
    mediaDir: plainDir(vars, 'media_dir', `${projectDir}/media`),
    mediaUrl: urlPath(vars, 'media_url', '/media/'),
    mediaDirMode: mode(vars, 'media_dir_mode', '0775'),
    extraPackages: extraPackages(vars),
    syncExclude: strList(vars, 'sync_exclude', /^[^\s]+$/, 'a pattern') ?? [...defaultSyncExclude],
    appEnv: appEnv(vars),
    ...(healthCheckPaths === undefined ? {} : { healthCheckPaths }),
    healthCheckHeaders: headers(vars),
    ...(virtualenv === undefined ? {} : { virtualenv }),
    requirements,
    pipOptions,
    venvSystemSitePackages: systemSite !== false,
    ownUser: wsgiUser !== undefined,
    ownGroup: wsgiGroup !== undefined,
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
    ...(pageText === undefined ? {} : { pageText }),
    pagePath,
    pageStatus: statuses(vars),
  };
}
