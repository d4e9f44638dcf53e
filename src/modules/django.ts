// Runs a Django project's manage.py commands, reading changed/ok from their own output so a converged host is ok.
import { posix } from 'node:path';
import { z } from './lib/zod.js';
import { absolutePath, checkParams, moduleSchema } from './lib/schema.js';
import { sh } from '../connection/quote.js';
import { CommandError, InputError, MissingOnHostError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type PlannedTree, type Task, type TaskContext } from '../playbook/types.js';
import {
  migrateChanged,
  migratePlanProbe,
  parseCollectstatic,
  parseMigratePlan,
  parseReleaseState,
  pendingAfterRelease,
  releaseProbe,
  staticAfterRelease,
} from './lib/sys/django-output.js';
import { splitArgs } from './lib/sys/split-args.js';

const djangoSchema = moduleSchema({
  /** The project directory: the one holding manage.py. */
  project: absolutePath,
  /** The management command and its arguments: 'migrate', 'collectstatic --noinput', 'createcachetable'. */
  command: z.string(),
  /** DJANGO_SETTINGS_MODULE, e.g. 'mysite.settings_production' (default: what manage.py sets). */
  settings: z.string().optional(),
  /** The Python to run manage.py with (default: the distribution's python3 from facts, the one mod_wsgi embeds). */
  python: z.string().optional(),
  /** Extra environment variables. */
  env: z.record(z.string(), z.string()).optional(),
});
export type DjangoParams = z.input<typeof djangoSchema>;

/** How a command's change is predicted: by a dry run (collectstatic), a migration plan (migrate), or not at all. */
export type DjangoCommandKind =
  | { kind: 'collectstatic'; dryRun: string[] }
  | { kind: 'migrate'; database: string; globals: string[] }
  | { kind: 'other' };

interface DjangoData {
  argv: string[];
  /** migrate: the SQLite database does not exist yet (the real run creates it). */
  createsDatabase?: boolean;
}

/** Runs `python manage.py <command>` in the project directory. */
export function django(params: DjangoParams): Task {
  checkParams('django', djangoSchema, params);
  if (params.command.trim() === '') throw new InputError('django: command is required');
  const words = splitArgs(params.command);
  const kind = classifyDjangoCommand(words);
  return defineTask('django', `manage.py ${params.command}`, params, {
    // What manage.py reports comes from the code, the settings, the database and the installed packages, wherever the
    // settings put them; the command itself may write anything.
    footprint: { reads: 'anything', writes: 'anything' },
    check: (ctx) => planDjango(ctx, params, words, kind),
    async apply(ctx, plan) {
      const d = plan.data as DjangoData;
      const r = await ctx.exec(d.argv, execOptions(params));
      if (r.code !== 0) throw new CommandError(`manage.py ${params.command}`, r.code, r.stdout, r.stderr);
      const changed = changedFromOutput(kind, r.stdout);
      const summary = changed ? doneSummary(kind, r.stdout, params.command, d.createsDatabase === true) : lastLine(r.stdout);
      return { changed, stdout: r.stdout, stderr: r.stderr, rc: r.code, summary };
    },
  });
}

const globalWithValue = new Set(['--settings', '--pythonpath']);
const migrateFlags = new Set(['--noinput', '--no-input', '--skip-checks', '--no-color', '--force-color', '--traceback']);
const migrateWithValue = new Set(['--database', '-v', '--verbosity', ...globalWithValue]);

/** Sorts a command into the kinds whose change can be predicted without making it. */
export function classifyDjangoCommand(words: readonly string[]): DjangoCommandKind {
  const [name, ...args] = words;
  if (name === 'collectstatic') {
    if (args.some((a) => a === '--clear' || a === '-c' || a === '--dry-run' || a === '-n')) return { kind: 'other' };
    const noinput = args.includes('--noinput') || args.includes('--no-input');
    return { kind: 'collectstatic', dryRun: ['collectstatic', ...args, ...(noinput ? [] : ['--noinput']), '--dry-run'] };
  }
  if (name === 'migrate') {
    let database = 'default';
    const globals: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      if (migrateFlags.has(flag)) continue;
      if (!migrateWithValue.has(flag)) return { kind: 'other' }; // app labels, targets, --fake, --run-syncdb…
      const value = inline ?? args[++i];
      if (value === undefined) return { kind: 'other' };
      if (flag === '--database') database = value;
      if (globalWithValue.has(flag)) globals.push(`${flag}=${value}`);
    }
    return { kind: 'migrate', database, globals };
  }
  return { kind: 'other' };
}

/** Whether the real command's output says it changed something. */
export function changedFromOutput(kind: DjangoCommandKind, stdout: string): boolean {
  if (kind.kind === 'collectstatic') {
    const counts = parseCollectstatic(stdout);
    return counts === null || counts.copied + counts.deleted > 0;
  }
  if (kind.kind === 'migrate') return migrateChanged(stdout);
  return true;
}

/**
 * What a real run did, in the past tense, from the command's own output (`--check` says what it would do):
 * "applied 3 migrations: …", "created the database and applied 12 migrations: …", "copied 121 static files".
 */
export function doneSummary(kind: DjangoCommandKind, stdout: string, command: string, createdDatabase = false): string {
  if (kind.kind === 'collectstatic') {
    const c = parseCollectstatic(stdout);
    if (c === null) return `ran: manage.py ${command}`;
    const parts = [`copied ${c.copied} static file${c.copied === 1 ? '' : 's'}`];
    if (c.deleted > 0) parts.push(`deleted ${c.deleted}`);
    return `${parts.join(', ')} (${c.unmodified} unmodified)`;
  }
  if (kind.kind === 'migrate') {
    const names = [...stdout.matchAll(/^\s*Applying (\S+?)\.\.\./gm)].map((m) => m[1]!);
    const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? ', …' : '');
    const applied = `applied ${names.length} migration${names.length === 1 ? '' : 's'}${names.length > 0 ? `: ${shown}` : ''}`;
    return createdDatabase ? `created the database and ${applied}` : applied;
  }
  return `ran: manage.py ${command}`;
}

function execOptions(p: DjangoParams) {
  const env = { ...p.env, ...(p.settings ? { DJANGO_SETTINGS_MODULE: p.settings } : {}) };
  return { cwd: p.project, env: Object.keys(env).length > 0 ? env : undefined };
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').pop()?.trim() || undefined;
}

/** The planned tree (--check) that rewrites the project, when an earlier task plans one: the check reads the release. */
function releaseTree(ctx: TaskContext, project: string): PlannedTree | undefined {
  const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith('/') ? b : `${b}/`);
  const norm = (d: string) => posix.normalize(d).replace(/(.)\/$/, '$1');
  const trees = ctx.checkMode ? ctx.plannedTrees.filter((t) => inside(norm(project), norm(t.dest)) || inside(norm(t.dest), norm(project))) : [];
  return trees.at(-1);
}

const listed = (names: readonly string[], max = 10) => names.slice(0, max).join(', ') + (names.length > max ? ', …' : '');

async function planDjango(ctx: TaskContext, p: DjangoParams, words: string[], kind: DjangoCommandKind): Promise<Plan> {
  const python = p.python ?? ctx.facts.python;
  if (!python) throw new InputError(`django: no python3 found on ${ctx.host}; give python`);
  const argv = [python, 'manage.py', ...words];
  const data: DjangoData = { argv };
  const would = `would run: manage.py ${p.command}`;
  if (kind.kind === 'other') return change(would, { data });
  const tree = releaseTree(ctx, p.project);
  const probe = async (args: string[], what: string) => {
    const r = await ctx.exec([python, 'manage.py', ...args], execOptions(p));
    if (r.code === 0) return r.stdout;
    // A project or a Python package not there yet may be what an earlier task (sync, packages) would bring.
    const manage = `${p.project}/manage.py`;
    if ((await ctx.exec(sh`[ -f ${manage} ]`)).code !== 0) {
      throw new MissingOnHostError(`django: ${manage} does not exist on ${ctx.host}`, [{ path: p.project, tree: true }]);
    }
    const failure = new CommandError(`manage.py ${what} (to plan ${p.command})`, r.code, r.stdout, r.stderr);
    if (/\bModuleNotFoundError\b|\bNo module named\b/.test(r.stderr)) throw new MissingOnHostError(failure.message, [{ path: 'packages:' }]);
    throw failure;
  };
  const shell = (code: string) => probe(['shell', ...(kind.kind === 'migrate' ? kind.globals : []), '-c', code], 'shell');
  const release = async () => {
    const out = await shell(releaseProbe(kind.kind === 'migrate' ? { kind: 'migrate', database: kind.database } : { kind: 'collectstatic' }));
    return parseReleaseState(out);
  };
  /** A change the release may make, not known until its code is there: predicted, never ok. */
  const unsure = (what: string, why: string[]) =>
    ({ ...change(`${what} (predicted: ${why.join('; ')}; cannot know before ${tree?.task ?? 'the sync'})`, { data }), predicted: true });

  if (kind.kind === 'collectstatic') {
    const counts = parseCollectstatic(await probe(kind.dryRun, 'collectstatic'));
    if (counts === null) return change(would, { data });
    if (tree) {
      const state = await release();
      if (state === null) return unsure(would, ['the release probe printed nothing']);
      const brings = staticAfterRelease(state, p.project, tree);
      const files = [...brings.added, ...brings.modified];
      const what = files.length > 0 ? `would copy the static files the release adds or changes (${files.length}: ${listed(files, 5)})` : would;
      if (brings.modified.length > 0 || brings.unsure.length > 0) {
        const why = [...(brings.modified.length > 0 ? ['collectstatic copies a changed file only when it is newer than its copy'] : []), ...brings.unsure];
        return unsure(what, why);
      }
      if (files.length > 0) return change(what, { data });
    }
    if (counts.copied + counts.deleted === 0) return noChange(`0 static files to copy, ${counts.unmodified} unmodified`);
    return change(`would copy ${counts.copied} static files (${counts.unmodified} unmodified)`, { data });
  }
  const s = (n: number) => `${n} migration${n === 1 ? '' : 's'}`;
  if (tree) {
    const state = await release();
    if (state === null) return unsure(would, ['the release probe printed nothing']);
    if (state.missing) return change('would create the database and apply all migrations', { data: { ...data, createsDatabase: true } });
    const { names, unsure: why } = pendingAfterRelease(state, p.project, tree);
    const what = names.length > 0 ? `would apply ${s(names.length)}: ${listed(names)}` : 'may apply migrations';
    if (why.length > 0) return unsure(what, why);
    if (names.length === 0) return noChange('no migrations to apply, with the code the sync brings');
    return change(`${what} (with the code the sync brings)`, { data });
  }
  const plan = parseMigratePlan(await shell(migratePlanProbe(kind.database)));
  if (plan === null) return change(would, { data });
  if (plan.pending === 'missing-database') {
    return change('would create the database and apply all migrations', { data: { ...data, createsDatabase: true } });
  }
  if (plan.pending === 0) return noChange('no migrations to apply');
  const more = plan.pending > plan.names.length ? ', …' : '';
  return change(`would apply ${s(plan.pending)}: ${plan.names.join(', ')}${more}`, { data });
}
