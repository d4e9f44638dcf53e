// Finds what a Django project's deploy needs in its source folder, as Django itself would: manage.py names the settings, WSGI_APPLICATION the callable.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const dottedName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** What the role needs to know of a project, read from its source on the controller. */
export interface DjangoProject {
  /** DJANGO_SETTINGS_MODULE of the project's own settings, e.g. `mysite.settings`. */
  settingsModule: string;
  /** Where settingsModule was read: `manage.py`, the WSGI module's file (`config/wsgi.py`), or `django_settings`. */
  settingsFrom: string;
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

/** The modules the `from X import *` lines of `source` name, relative ones resolved against `module` (the importing module). */
export function starImports(source: string, module: string, isPackage: boolean): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^from[ \t]+(\.*)([A-Za-z_][A-Za-z0-9_.]*)?[ \t]+import[ \t]+\*/gm)) {
    const dots = m[1]!.length;
    const name = m[2] ?? '';
    if (dots === 0) {
      if (name !== '') out.push(name);
      continue;
    }
    // `from .base import *` in a.settings.production is a.settings.base; in the package a/settings/__init__.py, too
    const parts = module.split('.');
    const up = isPackage ? dots - 1 : dots;
    if (up >= parts.length) continue;
    const parent = parts.slice(0, parts.length - up);
    out.push([...parent, ...(name === '' ? [] : [name])].join('.'));
  }
  return out;
}

/** The file of one module (`pkg/mod.py` or `pkg/mod/__init__.py`) and whether it is a package; null when neither exists. */
function moduleFile(src: string, module: string): { path: string; isPackage: boolean } | null {
  const base = join(src, ...module.split('.'));
  if (existsSync(`${base}.py`)) return { path: `${base}.py`, isPackage: false };
  if (existsSync(join(base, '__init__.py'))) return { path: join(base, '__init__.py'), isPackage: true };
  return null;
}

/**
 * The files that make up a settings module, the module's own first: `pkg/settings.py`, or a settings package
 * (`__init__.py`, then its other .py files), then what they star-import from the project
 * (`from .base import *` in config/settings/production.py brings config/settings/base.py), depth first.
 * A setting is then the first assignment found: the module's own overrides what it imports.
 */
export function settingsFiles(src: string, module: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const visit = (mod: string, depth: number): void => {
    const f = moduleFile(src, mod);
    if (f === null || seen.has(f.path) || depth > 8) return;
    seen.add(f.path);
    out.push(f.path);
    if (f.isPackage && depth === 0) {
      const dir = dirname(f.path);
      for (const e of readdirSync(dir).filter((e) => e.endsWith('.py') && e !== '__init__.py').sort()) {
        const p = join(dir, e);
        if (!seen.has(p)) {
          seen.add(p);
          out.push(p);
        }
      }
    }
    for (const m of starImports(read(f.path) ?? '', mod, f.isPackage)) visit(m, depth + 1);
  };
  visit(module, 0);
  return out;
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
  let settingsFrom = 'django_settings';
  if (settingsModule === undefined) {
    const manage = read(join(src, 'manage.py'));
    if (manage === null) fail(src, 'has no manage.py: set django_settings (the settings module, e.g. mysite.settings)');
    settingsModule = pythonString(manage, 'DJANGO_SETTINGS_MODULE') ?? undefined;
    if (!settingsModule) fail(src, "manage.py does not name DJANGO_SETTINGS_MODULE: set django_settings (e.g. 'mysite.settings')");
    settingsFrom = 'manage.py';
  }
  let files = settingsFiles(src, settingsModule);
  if (files.length === 0) fail(src, `the settings module ${settingsModule} is neither ${settingsModule.replace(/\./g, '/')}.py nor a package: set django_settings`);
  const settingOf = (paths: string[]) => {
    const sources = paths.map((f) => read(f) ?? '');
    return (name: string) => sources.map((s) => pythonString(s, name)).find((v) => v !== null) ?? null;
  };
  let setting = settingOf(files);

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
  const wsgiFile = moduleFile(src, wsgiModule);
  if (wsgiFile === null) {
    fail(src, `the WSGI module ${wsgiModule} (from ${given.wsgi ? 'django_wsgi' : 'WSGI_APPLICATION'}) is not in the project: set django_wsgi`);
  }
  if (given.settings === undefined) {
    // A project serves with the settings its WSGI module names (manage.py's are often the developer's): config/wsgi.py
    // naming config.settings.production is the production settings the role builds on
    const served = pythonString(read(wsgiFile.path) ?? '', 'DJANGO_SETTINGS_MODULE');
    if (served !== null && served !== settingsModule && dottedName.test(served)) {
      const servedFiles = settingsFiles(src, served);
      if (servedFiles.length > 0) {
        settingsModule = served;
        files = servedFiles;
        setting = settingOf(files);
        settingsFrom = relative(src, wsgiFile.path);
      }
    }
  }
  let staticUrl = setting('STATIC_URL') ?? '/static/';
  if (/^[a-z]+:\/\//i.test(staticUrl)) staticUrl = '/static/'; // served elsewhere (a CDN): Apache's alias is unused then
  if (!staticUrl.startsWith('/')) staticUrl = `/${staticUrl}`;
  if (!staticUrl.endsWith('/')) staticUrl = `${staticUrl}/`;
  return { settingsModule, settingsFrom, wsgiModule, wsgiCallable: wsgi.slice(dot + 1), staticUrl, staticFile: findStaticFile(src) };
}
