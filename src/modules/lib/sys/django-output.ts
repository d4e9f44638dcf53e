// Reading Django management commands' own output to tell whether they changed anything.

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
