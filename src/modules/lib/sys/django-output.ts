// Reading Django management commands' own output to tell whether they changed anything.
import { posix } from 'node:path';

/** Counts from collectstatic's last line: "N static files copied to '…', M unmodified." (symlinked and deleted too). */
export function parseCollectstatic(stdout: string): { copied: number; unmodified: number; deleted: number } | null {
  const line = stdout.split('\n').reverse().find((l) => /\bstatic files? (copied|symlinked)\b/.test(l) || /\bstatic files? deleted\b/.test(l));
  if (line === undefined) return null;
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? 0);
  return {
    copied: num(/(\d+) static files? copied/) + num(/(\d+) static files? symlinked/),
    unmodified: num(/(\d+) unmodified/),
    deleted: num(/(\d+) static files? deleted/),
  };
}

/** Whether `migrate`'s output shows it applied something ("No migrations to apply." means it did not). */
export function migrateChanged(stdout: string): boolean {
  if (/No migrations to apply\./.test(stdout)) return false;
  return /^\s*(Applying|Unapplying) \S+/m.test(stdout) || /Synchronizing apps without migrations|Creating tables/.test(stdout);
}

/** The line the migration-plan probe prints. */
export const migratePlanMarker = 'provision-migrate-plan:';

/**
 * Python run by `manage.py shell -c` to count unapplied migrations without touching the database: a SQLite file
 * that does not exist is reported as missing instead of being created by the connection (as `migrate --check` does).
 */
export function migratePlanProbe(database: string): string {
  return [
    'import os',
    'from django.db import connections',
    'from django.db.migrations.executor import MigrationExecutor',
    `c = connections[${JSON.stringify(database)}]`,
    "name = str(c.settings_dict.get('NAME') or '')",
    "if c.vendor == 'sqlite' and name and name != ':memory:' and not name.startswith('file:') and not os.path.exists(name):",
    `    print(${JSON.stringify(migratePlanMarker)} + ' missing-database')`,
    'else:',
    '    ex = MigrationExecutor(c)',
    '    plan = ex.migration_plan(ex.loader.graph.leaf_nodes())',
    `    print(${JSON.stringify(migratePlanMarker)} + ' %d' % len(plan))`,
    '    for m, backwards in plan[:10]:',
    "        print('  %s.%s' % (m.app_label, m.name))",
  ].join('\n');
}

/** Reads the probe's output: the number of unapplied migrations ('missing-database' when the SQLite file is absent), and their names. */
export function parseMigratePlan(stdout: string): { pending: number | 'missing-database'; names: string[] } | null {
  const lines = stdout.split('\n');
  const i = lines.findIndex((l) => l.startsWith(migratePlanMarker));
  if (i < 0) return null;
  const value = lines[i]!.slice(migratePlanMarker.length).trim();
  const names = lines.slice(i + 1).map((l) => l.trim()).filter(Boolean);
  if (value === 'missing-database') return { pending: 'missing-database', names };
  const n = Number(value);
  return Number.isInteger(n) ? { pending: n, names } : null;
}

/** The line the release probe prints, followed by its JSON. */
export const releaseMarker = 'provision-release-state:';

/**
 * Python run by `manage.py shell -c` in --check when an earlier planned change (a sync) rewrites the project: what a
 * check needs to read the release's code instead of the host's. Paths are relative to the project (the working
 * directory): `watch`, the loaded modules that decide the apps (settings, AppConfig modules); for migrate the
 * database's applied migrations and each app's migrations folder; for collectstatic the folders the finders copy from.
 */
export function releaseProbe(kind: { kind: 'migrate'; database: string } | { kind: 'collectstatic' }): string {
  const common = [
    'import importlib.util, json, os, sys',
    'root = os.path.realpath(os.getcwd())',
    'def rel(p):',
    '    return os.path.relpath(os.path.realpath(p), root)',
    'def decides(m):',
    '    try:',
    "        return bool(getattr(m, '__file__', None)) and (hasattr(m, 'INSTALLED_APPS') or m.__name__.endswith('.apps'))",
    '    except Exception:',
    '        return False',
    "out = {'watch': sorted({rel(m.__file__) for m in list(sys.modules.values()) if decides(m)})}",
  ];
  const body =
    kind.kind === 'collectstatic'
      ? [
          'from django.contrib.staticfiles import finders',
          'dirs = set()',
          'for f in finders.get_finders():',
          "    for s in getattr(f, 'storages', {}).values():",
          "        if getattr(s, 'location', None):",
          '            dirs.add(rel(s.location))',
          "out['dirs'] = sorted(dirs)",
        ]
      : [
          'from django.apps import apps',
          'from django.db import connections',
          'from django.db.migrations.executor import MigrationExecutor',
          'from django.db.migrations.loader import MigrationLoader',
          `c = connections[${JSON.stringify(kind.database)}]`,
          "name = str(c.settings_dict.get('NAME') or '')",
          "if c.vendor == 'sqlite' and name and name != ':memory:' and not name.startswith('file:') and not os.path.exists(name):",
          "    out['missing'] = True",
          'else:',
          '    ex = MigrationExecutor(c)',
          "    out['plan'] = ['%s.%s' % (m.app_label, m.name) for m, backwards in ex.migration_plan(ex.loader.graph.leaf_nodes())]",
          '    applied = ex.loader.applied_migrations',
          "    out['apps'] = []",
          '    for cfg in apps.get_app_configs():',
          '        mod, explicit = MigrationLoader.migrations_module(cfg.label)',
          '        if mod is None:',
          '            continue',
          '        d = None',
          '        try:',
          '            spec = importlib.util.find_spec(mod)',
          '            if spec is not None and spec.submodule_search_locations:',
          '                d = list(spec.submodule_search_locations)[0]',
          '        except ImportError:',
          '            pass',
          "        if d is None and mod == cfg.name + '.migrations':",
          "            d = os.path.join(cfg.path, 'migrations')",
          '        if d is not None:',
          "            out['apps'].append({'label': cfg.label, 'dir': rel(d), 'applied': sorted(n for (a, n) in applied if a == cfg.label)})",
        ];
  return [...common, ...body, `print(${JSON.stringify(releaseMarker)} + json.dumps(out))`].join('\n');
}

/** What the release probe read on the host. */
export interface ReleaseState {
  watch: string[];
  missing?: boolean;
  plan?: string[];
  apps?: Array<{ label: string; dir: string; applied: string[] }>;
  dirs?: string[];
}

/** Reads the release probe's output; null when it printed none. */
export function parseReleaseState(stdout: string): ReleaseState | null {
  const line = stdout.split('\n').find((l) => l.startsWith(releaseMarker));
  if (line === undefined) return null;
  try {
    const v = JSON.parse(line.slice(releaseMarker.length)) as ReleaseState;
    return Array.isArray(v.watch) ? v : null;
  } catch {
    return null;
  }
}

/** A directory's planned content, as the django check needs it (see PlannedTree). */
export interface ReleaseTree {
  dest: string;
  files: readonly string[];
  deletes: boolean;
  changed: readonly string[];
  added: readonly string[];
}

/** A path relative to the project as a path relative to the tree's dest; null when outside the tree. */
function inTree(project: string, tree: ReleaseTree, rel: string): string | null {
  const r = posix.relative(tree.dest, posix.join(project, rel));
  return r === '..' || r.startsWith('../') || posix.isAbsolute(r) ? null : r;
}

const under = (dir: string, path: string) => dir === '' || path.startsWith(`${dir}/`);

/** Why the release's effect cannot be known before it is synced: it rewrites what decides the apps. */
function changedDeciders(state: ReleaseState, project: string, tree: ReleaseTree): string[] {
  const changed = new Set(tree.changed);
  return state.watch.map((w) => inTree(project, tree, w)).filter((w): w is string => w !== null && changed.has(w));
}

/**
 * The migrations `migrate` would apply once the release is synced: each app's migration files in the release's
 * tree (Django's loader takes every module of the folder not starting with `_` or `~`) less those the host's
 * database has applied; apps outside the tree keep the host's plan. `unsure` says what the code cannot tell
 * before the sync: a changed settings or AppConfig module, a changed migrations folder of no app the host lists.
 */
export function pendingAfterRelease(state: ReleaseState, project: string, tree: ReleaseTree): { names: string[]; unsure: string[] } {
  const names: string[] = [];
  const known = new Set<string>();
  for (const app of state.apps ?? []) {
    const dir = inTree(project, tree, app.dir);
    const onHost = (state.plan ?? []).filter((n) => n.startsWith(`${app.label}.`)).map((n) => n.slice(app.label.length + 1));
    if (dir === null) {
      names.push(...onHost.map((n) => `${app.label}.${n}`));
      continue;
    }
    known.add(dir);
    const files = tree.files
      .filter((f) => under(dir, f) && !f.slice(dir === '' ? 0 : dir.length + 1).includes('/') && f.endsWith('.py'))
      .map((f) => posix.basename(f, '.py'))
      .filter((n) => !n.startsWith('_') && !n.startsWith('~'));
    const applied = new Set(app.applied);
    const pending = new Set([...files, ...(tree.deletes ? [] : onHost)].filter((n) => !applied.has(n)));
    names.push(...[...pending].sort().map((n) => `${app.label}.${n}`));
  }
  const unsure = changedDeciders(state, project, tree).map((w) => `the release changes ${w}, which may change the apps`);
  const stray = new Set(
    tree.changed
      .filter((f) => /(^|\/)migrations\/[^/_~][^/]*\.py$/.test(f) && tree.files.includes(f))
      .map((f) => posix.dirname(f))
      .filter((d) => !known.has(d)),
  );
  for (const d of stray) unsure.push(`the release changes ${d}, the migrations of no app the host's settings list`);
  return { names, unsure };
}

/** The static files the release adds or changes in the folders collectstatic copies from (paths relative to dest). */
export function staticAfterRelease(state: ReleaseState, project: string, tree: ReleaseTree): { added: string[]; modified: string[]; unsure: string[] } {
  const dirs = (state.dirs ?? []).map((d) => inTree(project, tree, d)).filter((d): d is string => d !== null);
  const present = new Set(tree.files);
  const touched = tree.changed.filter((f) => present.has(f) && dirs.some((d) => under(d, f)));
  const added = new Set(tree.added);
  const unsure = changedDeciders(state, project, tree).map((w) => `the release changes ${w}, which may change the static folders`);
  return { added: touched.filter((f) => added.has(f)), modified: touched.filter((f) => !added.has(f)), unsure };
}
