// Finds what a Django project's deploy needs in its source folder, as Django itself would: manage.py names the settings, WSGI_APPLICATION the callable.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the role needs to know of a project, read from its source on the controller. */
export interface DjangoProject {
  /** DJANGO_SETTINGS_MODULE of the project's own settings, e.g. `mysite.settings`. */
  settingsModule: string;
  /** The module holding the WSGI callable, e.g. `mysite.wsgi`, and the callable's name (`application`). */
  wsgiModule: string;
  wsgiCallable: string;
  /** STATIC_URL as an absolute path with a trailing slash (`/static/`). */
  staticUrl: string;
  /** One static file, relative to STATIC_URL, that collectstatic will copy (for the health check); null when there is none. */
  staticFile: string | null;
}

/** The names of the modules the role generates beside manage.py; a project must not have its own of these names. */
export const generatedModules = ['settings_production', 'wsgi_production'] as const;

const skipDirs = new Set(['.git', 'node_modules', '__pycache__', 'venv', '.venv', 'env', 'www_static', 'staticfiles', 'media']);

function fail(src: string, detail: string): never {
  throw new Error(`project_src ${src}: ${detail}`);
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The string a Python assignment `NAME = "value"` (or `os.environ.setdefault("NAME", "value")`) gives, or null. */
export function pythonString(source: string, name: string): string | null {
  const assign = new RegExp(`^\\s*${name}\\s*=\\s*[rRuU]?(['"])([^'"\\n]*)\\1`, 'm').exec(source);
  if (assign) return assign[2]!;
  const setdefault = new RegExp(`setdefault\\(\\s*['"]${name}['"]\\s*,\\s*(['"])([^'"\\n]+)\\1`).exec(source);
  return setdefault ? setdefault[2]! : null;
}

/** The files that make up a settings module: `pkg/settings.py`, or every .py of a settings package (`__init__.py` first). */
export function settingsFiles(src: string, module: string): string[] {
  const base = join(src, ...module.split('.'));
  if (existsSync(`${base}.py`)) return [`${base}.py`];
  if (existsSync(join(base, '__init__.py'))) {
    const rest = readdirSync(base)
      .filter((f) => f.endsWith('.py') && f !== '__init__.py')
      .sort()
      .map((f) => join(base, f));
    return [join(base, '__init__.py'), ...rest];
  }
  return [];
}

/** The first file (sorted, depth first) under any `static/` folder of the project, relative to it: what collectstatic copies. */
export function findStaticFile(src: string): string | null {
  const walk = (dir: string, inStatic: string | null): string | null => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return null;
    }
    for (const e of entries) {
      if (skipDirs.has(e) || e.startsWith('.')) continue;
      const full = join(dir, e);
      const rel = inStatic === null ? null : inStatic === '' ? e : `${inStatic}/${e}`;
      if (statSync(full).isDirectory()) {
        const found = walk(full, rel ?? (e === 'static' ? '' : null));
        if (found) return found;
      } else if (rel !== null) {
        return rel;
      }
    }
    return null;
  };
  return walk(src, null);
}

/**
 * Reads the project in `src` (its source on the controller): the settings module from manage.py unless
 * given, the WSGI callable from the settings' WSGI_APPLICATION unless given, STATIC_URL and a static file.
 * Throws an error naming the variable to set when something cannot be found.
 */
export function discoverProject(src: string, given: { settings?: string; wsgi?: string } = {}): DjangoProject {
  if (!existsSync(src) || !statSync(src).isDirectory()) fail(src, 'is not a folder on the controller');
  for (const m of generatedModules) {
    if (existsSync(join(src, `${m}.py`))) fail(src, `has its own ${m}.py beside manage.py: the playbook generates that module; rename yours`);
  }
  let settingsModule = given.settings;
  if (settingsModule === undefined) {
    const manage = read(join(src, 'manage.py'));
    if (manage === null) fail(src, 'has no manage.py: set django_settings (the settings module, e.g. mysite.settings)');
    settingsModule = pythonString(manage, 'DJANGO_SETTINGS_MODULE') ?? undefined;
    if (!settingsModule) fail(src, "manage.py does not name DJANGO_SETTINGS_MODULE: set django_settings (e.g. 'mysite.settings')");
  }
  const files = settingsFiles(src, settingsModule);
  if (files.length === 0) fail(src, `the settings module ${settingsModule} is neither ${settingsModule.replace(/\./g, '/')}.py nor a package: set django_settings`);
  const sources = files.map((f) => read(f) ?? '');
  const setting = (name: string) => sources.map((s) => pythonString(s, name)).find((v) => v !== null) ?? null;

  let wsgi = given.wsgi ?? setting('WSGI_APPLICATION');
  if (wsgi === null) {
    // Django's startproject layout, when the settings do not say
    const pkg = settingsModule.split('.')[0]!;
    if (existsSync(join(src, pkg, 'wsgi.py'))) wsgi = `${pkg}.wsgi.application`;
    else fail(src, `no WSGI_APPLICATION in ${settingsModule} and no ${pkg}/wsgi.py: set django_wsgi (e.g. 'mysite.wsgi.application')`);
  }
  const dot = wsgi.lastIndexOf('.');
  if (dot <= 0) fail(src, `WSGI_APPLICATION ${JSON.stringify(wsgi)} is not module.callable: set django_wsgi`);
  const wsgiModule = wsgi.slice(0, dot);
  if (!existsSync(join(src, ...wsgiModule.split('.')) + '.py') && !existsSync(join(src, ...wsgiModule.split('.'), '__init__.py'))) {
    fail(src, `the WSGI module ${wsgiModule} (from ${given.wsgi ? 'django_wsgi' : 'WSGI_APPLICATION'}) is not in the project: set django_wsgi`);
  }
  let staticUrl = setting('STATIC_URL') ?? '/static/';
  if (/^[a-z]+:\/\//i.test(staticUrl)) staticUrl = '/static/'; // served elsewhere (a CDN): Apache's alias is unused then
  if (!staticUrl.startsWith('/')) staticUrl = `/${staticUrl}`;
  if (!staticUrl.endsWith('/')) staticUrl = `${staticUrl}/`;
  return { settingsModule, wsgiModule, wsgiCallable: wsgi.slice(dot + 1), staticUrl, staticFile: findStaticFile(src) };
}
