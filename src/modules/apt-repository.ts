// An apt source line, as Ansible's apt_repository: added to (or removed from) a file of /etc/apt/sources.list.d/, apt-get update when a source changed.
import { posix } from 'node:path';
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { InputError } from '../errors.js';
import { change, defineTask, noChange, type FileDiff, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { buildFileDiff } from './lib/file-diff.js';

const aptRepositorySchema = moduleSchema({
  /** A one-line source: `deb [signed-by=/etc/apt/keyrings/x.gpg] http://deb.example.org/debian bookworm main`. */
  repo: z.string(),
  /** The file's name without `.list` in /etc/apt/sources.list.d/ (or an absolute path); default derived from the URI, as Ansible's. */
  filename: z.string().optional(),
  /** `present` (default) or `absent` (removed from every source file that has it). */
  state: z.enum(['present', 'absent']).optional(),
  /** Run `apt-get update` when a source changed (default true). */
  updateCache: z.boolean().optional(),
  /** The keyring the source is signed by (an absolute path, e.g. in /etc/apt/keyrings/): set as the line's `signed-by` option. */
  signedBy: z.string().optional(),
  /** Mode of a new source file (default '0644'). */
  mode: z.string().optional(),
});
export type AptRepositoryParams = z.input<typeof aptRepositorySchema>;

const sourcesDir = '/etc/apt/sources.list.d';

/** A source line parsed: type, options (sorted), URI, suite and components; null when it is not a source line. */
export function parseSource(line: string): { type: string; options: string[]; rest: string[] } | null {
  const text = line.replace(/#.*$/, '').trim();
  const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(.+)$/.exec(text);
  if (!m) return null;
  const options = (m[2] ?? '').split(/\s+/).filter(Boolean).sort();
  const rest = m[3]!.split(/\s+/).map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p));
  return { type: m[1]!, options, rest };
}

/** The line as written: options inside one pair of brackets. */
export function formatSource(s: NonNullable<ReturnType<typeof parseSource>>): string {
  return [s.type, ...(s.options.length > 0 ? [`[${s.options.join(' ')}]`] : []), ...s.rest].join(' ');
}

const same = (a: ReturnType<typeof parseSource>, b: ReturnType<typeof parseSource>) => a !== null && b !== null && formatSource(a) === formatSource(b);

/** The file Ansible's apt_repository picks for a line: the URI's host and path, other characters as `_`, `.list`. */
export function suggestFilename(line: string, filename?: string): string {
  if (filename !== undefined) return filename.startsWith('/') ? filename : posix.join(sourcesDir, `${filename}.list`);
  const stripped = line.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = stripped.split(/\s+/).filter((p) => p !== '' && p !== 'deb' && p !== 'deb-src');
  const first = (parts[0] ?? '').replace(/^[^@/]*@/, '');
  return posix.join(sourcesDir, `${first.replace(/[^a-zA-Z0-9]/g, ' ').split(/\s+/).filter(Boolean).join('_')}.list`);
}

interface Edit {
  path: string;
  /** null: the file is removed. */
  content: string | null;
  existed: boolean;
}

/** Ensures an apt source line is present (or absent). */
export function aptRepository(params: AptRepositoryParams): Task {
  checkParams('aptRepository', aptRepositorySchema, params);
  const what = 'aptRepository';
  let source = parseSource(params.repo);
  if (source === null) throw new InputError(`${what}: repo must be a one-line source ('deb [options] URI suite [components]'), got ${JSON.stringify(params.repo)}`);
  if (params.signedBy !== undefined) {
    if (!params.signedBy.startsWith('/')) throw new InputError(`${what}: signedBy must be an absolute path (got ${JSON.stringify(params.signedBy)})`);
    source = { ...source, options: [...source.options.filter((o) => !o.startsWith('signed-by=')), `signed-by=${params.signedBy}`].sort() };
  }
  if (params.filename !== undefined && (params.filename.includes('/') && !params.filename.startsWith('/'))) throw new InputError(`${what}: filename must be a name or an absolute path`);
  if (params.mode !== undefined && !/^0?[0-7]{3}$/.test(params.mode)) throw new InputError(`${what}: mode must be octal such as '0644'`);
  const wanted = source;
  const file = suggestFilename(params.repo, params.filename);
  return defineTask('aptRepository', `apt source ${formatSource(wanted)}`, params, {
    check: (ctx) => planSource(ctx, params, wanted, file),
    async apply(ctx, plan) {
      for (const e of plan.data as Edit[]) {
        if (e.content === null) await ctx.run(['rm', '-f', '--', e.path]);
        else await ctx.writeFile(e.path, e.content, e.existed ? {} : { mode: params.mode ?? '0644' });
      }
      if (params.updateCache !== false) await ctx.run('apt-get update -q', { timeoutMs: 15 * 60_000 });
    },
  });
}

/** The host's source files, each as a NUL-ended name and NUL-ended content. */
const readSources = `for f in /etc/apt/sources.list ${sourcesDir}/*.list; do [ -f "$f" ] || continue; printf '%s\\0' "$f"; cat -- "$f" || exit 1; printf '\\0'; done`;

async function planSource(ctx: TaskContext, p: AptRepositoryParams, wanted: NonNullable<ReturnType<typeof parseSource>>, file: string): Promise<Plan> {
  const r = await ctx.run(readSources, { maxOutput: 16 * 1024 * 1024 });
  const parts = r.stdout.split('\0');
  const files = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) files.set(parts[i]!, parts[i + 1]!);
  const has = (text: string) => text.split('\n').some((l) => same(parseSource(l), wanted));
  const line = formatSource(wanted);
  const edits: Edit[] = [];
  if ((p.state ?? 'present') === 'present') {
    if ([...files.values()].some(has)) return noChange(`${line} is already a source`);
    const before = files.get(file) ?? null;
    const content = `${before === null || before === '' || before.endsWith('\n') ? (before ?? '') : `${before}\n`}${line}\n`;
    edits.push({ path: file, content, existed: before !== null });
  } else {
    for (const [path, text] of files) {
      if (!has(text)) continue;
      const kept = text.split('\n').filter((l) => !same(parseSource(l), wanted)).join('\n');
      // a file left with no source line is removed, as Ansible's apt_repository does
      edits.push({ path, content: kept.split('\n').some((l) => l.trim() !== '') || path === '/etc/apt/sources.list' ? kept : null, existed: true });
    }
    if (edits.length === 0) return noChange(`${line} is not a source`);
  }
  const diff: FileDiff[] = edits.map((e) => buildFileDiff(e.path, files.has(e.path) ? Buffer.from(files.get(e.path)!) : null, e.content === null ? null : Buffer.from(e.content)));
  const update = p.updateCache !== false ? ', apt-get update' : '';
  const summary = edits.map((e) => (e.content === null ? `remove ${e.path}` : `${(p.state ?? 'present') === 'present' ? '+' : '-'} ${line} in ${e.path}`)).join(', ');
  return change(`${summary}${update}`, { diff, data: edits });
}
