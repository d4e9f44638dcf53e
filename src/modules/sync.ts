// Makes a directory on the host match a local tree, by per-file checksum: only changed files travel, in one tar stream.
import { z } from './lib/zod.js';
import { absolutePath, checkParams, modeSchema, moduleSchema } from './lib/schema.js';
import { readFileSync } from 'node:fs';
import { quote } from '../connection/quote.js';
import { InputError } from '../errors.js';
import { change, defineTask, noChange, type FileDiff, type Plan, type PlannedTree, type Task, type TaskContext } from '../playbook/types.js';
import { chownArg } from './lib/attrs.js';
import { buildFileDiff, maxDiffBytes } from './lib/file-diff.js';
import { compileExcludes, type Exclude } from './lib/glob.js';
import { hashLocalFile, walkLocalTree, type LocalEntry } from './lib/local-tree.js';
import { resolveLocal } from './lib/local-files.js';
import { resolveMode } from './lib/mode.js';
import { validateAttrs } from './lib/params.js';
import { parseRemoteTree, remoteTreeScript, type RemoteEntry } from './lib/remote-tree.js';
import { sameIdentity } from './lib/stat.js';
import { createTar, type TarEntry } from './lib/tar.js';

const syncSchema = moduleSchema({
  /** A directory on the controller, relative to the playbook's directory. */
  src: z.string(),
  /** Absolute directory on the host; created when missing. */
  dest: absolutePath,
  /** Remove files under dest that are not in src (excluded paths are never removed). */
  delete: z.boolean().optional(),
  /** Patterns left alone on both sides: 'name' at any depth, 'dir/sub' from the root, '*', '**', 'dir/'. */
  exclude: z.array(z.string()).optional(),
  /** Owning user of what it writes: a name or a numeric id. */
  owner: z.string().optional(),
  /** Owning group of what it writes: a name or a numeric id. */
  group: z.string().optional(),
  /** Mode for regular files instead of the source's own (directories keep the source's). */
  mode: modeSchema.optional(),
});
export type SyncParams = z.input<typeof syncSchema>;

interface SyncData {
  dest: string;
  /** Relative paths to remove before extracting (deleted, or replaced by another type). */
  remove: string[];
  /** Entries to send, with the checksum seen in check() so apply() sends exactly that content. */
  send: Array<{ path: string; sha256?: string }>;
  /** Relative paths to chown after extracting ('' is dest itself). */
  chown: string[];
}

const maxFileDiffs = 100;
const maxFetched = 20;

/**
 * Ensures dest mirrors src: added and changed files (content or mode) are sent in one tar stream, extracted by
 * the host's tar, which writes each file in place (not atomically per file; a later run repairs an interrupted one).
 */
export function sync(params: SyncParams): Task {
  checkParams('sync', syncSchema, params);
  const what = `sync ${String(params.dest)}`;
  if (params.src === '') throw new InputError(`${what}: src (a local directory) is required`);
  validateAttrs(params, what);
  if (params.exclude !== undefined && (!Array.isArray(params.exclude) || params.exclude.some((e) => typeof e !== 'string' || e === ''))) {
    throw new InputError(`${what}: exclude must be a list of patterns`);
  }
  const exclude = compileExcludes(params.exclude ?? []);
  return defineTask('sync', `sync ${params.src} → ${params.dest}`, params, {
    footprint: { reads: [{ path: params.dest, tree: true }], writes: [{ path: params.dest, tree: true }] },
    check: (ctx) => planSync(ctx, params, exclude, what),
    apply: (ctx, plan) => applySync(ctx, plan, params, exclude, what),
  });
}

function wantedMode(p: SyncParams, l: LocalEntry): number {
  return p.mode !== undefined && l.type === 'file' ? resolveMode(p.mode, l.mode, false) : l.mode;
}

async function planSync(ctx: TaskContext, p: SyncParams, exclude: Exclude, what: string): Promise<Plan> {
  const root = resolveLocal(ctx.baseDir, p.src);
  const local = walkLocalTree(root, exclude, what);
  const r = await ctx.run(remoteTreeScript(p.dest), { maxOutput: 256 * 1024 * 1024 });
  const remote = parseRemoteTree(r.stdout) ?? new Map<string, RemoteEntry>();
  const data: SyncData = { dest: p.dest, remove: [], send: [], chown: [] };
  const added: LocalEntry[] = [];
  const changed: Array<{ l: LocalEntry; r: RemoteEntry }> = [];
  const ownerWrong = (e: RemoteEntry): boolean =>
    (p.owner !== undefined && !sameIdentity(p.owner, e.owner, e.uid)) || (p.group !== undefined && !sameIdentity(p.group, e.group, e.gid));
  let attrOnly = 0;

  for (const l of local) {
    const re = remote.get(l.path);
    const send = () => data.send.push({ path: l.path, sha256: l.sha256 });
    if (!re) {
      if (l.path !== '') added.push(l);
      send();
      data.chown.push(l.path);
      continue;
    }
    const sameType = re.type === l.type;
    if (!sameType) data.remove.push(l.path);
    const differs =
      !sameType ||
      (l.type === 'file' && re.sha256 !== l.sha256) ||
      (l.type === 'symlink' && re.linkTarget !== l.linkTarget) ||
      // dest's own mode is left to whoever made it (a file task often sets it): only a new dest gets src's.
      (l.type !== 'symlink' && l.path !== '' && (re.mode & 0o7777) !== wantedMode(p, l));
    const wrongOwner = ownerWrong(re);
    if (differs) {
      if (l.type === 'symlink' && sameType) data.remove.push(l.path);
      if (l.type === 'directory' && sameType) attrOnly++;
      else changed.push({ l, r: re });
      send();
    } else if (wrongOwner) attrOnly++;
    // tar recreates what it extracts (owned by whoever extracts), so what was sent is chowned as well.
    if (differs || wrongOwner) data.chown.push(l.path);
  }
  const removed: RemoteEntry[] = [];
  if (p.delete) {
    const keep = new Set(local.map((l) => l.path));
    const gone = new Set<string>();
    const excluded: string[] = [];
    for (const e of remote.values()) {
      if (e.path === '' || keep.has(e.path)) continue;
      if (exclude.test(e.path, e.type === 'directory')) excluded.push(e.path);
      else gone.add(e.path);
    }
    // A directory holding an excluded entry stays (as rsync's --delete leaves it); what else is below it goes.
    const isProtected = (dir: string) => excluded.some((x) => x.startsWith(`${dir}/`));
    for (const path of gone) {
      const e = remote.get(path) as RemoteEntry;
      if (e.type === 'directory' && isProtected(path)) continue;
      removed.push(e);
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      if (!gone.has(parent) || isProtected(parent)) data.remove.push(path);
    }
  }
  if (p.owner === undefined && p.group === undefined) data.chown = [];

  if (added.length === 0 && changed.length === 0 && removed.length === 0 && attrOnly === 0 && remote.size > 0) {
    return noChange(`${local.length} entries already in sync`);
  }
  const summary = `+${added.length} ~${changed.length} -${removed.length}${attrOnly ? ` (${attrOnly} attribute change${attrOnly === 1 ? '' : 's'})` : ''}`;
  const diff = await buildDiffs(ctx, p, added, changed, removed);
  // what dest would hold, for the checks after this one in --check (a Django project's migrations, static files)
  const tree: PlannedTree = {
    dest: p.dest,
    files: local.filter((l) => l.type !== 'directory').map((l) => l.path),
    deletes: p.delete === true,
    changed: [...added, ...changed.map((c) => c.l), ...removed].map((e) => e.path),
    added: added.map((e) => e.path),
  };
  return change(remote.size === 0 ? `absent → directory, ${summary}` : summary, { diff, data, tree });
}

async function buildDiffs(
  ctx: TaskContext,
  p: SyncParams,
  added: LocalEntry[],
  changed: Array<{ l: LocalEntry; r: RemoteEntry }>,
  removed: RemoteEntry[],
): Promise<FileDiff[]> {
  const at = (rel: string) => `${p.dest.replace(/\/$/, '')}/${rel}`;
  const small = (n: number) => n <= maxDiffBytes;
  if (p.secret) return [...added, ...changed.map((c) => c.l), ...removed].slice(0, maxFileDiffs).map((e) => ({ path: at(e.path), before: null, after: null, note: 'content hidden (secret)' }));
  const out: FileDiff[] = [];
  for (const l of added) {
    if (out.length >= maxFileDiffs) break;
    if (l.type === 'file') out.push(small(l.size) ? buildFileDiff(at(l.path), null, readFileSync(l.abs)) : { path: at(l.path), before: null, after: null, note: `added (${l.size} bytes)` });
    else out.push({ path: at(l.path), before: null, after: null, note: `added ${l.type === 'symlink' ? `link to ${l.linkTarget ?? ''}` : 'directory'}` });
  }
  // The old text of a few small changed files, in one more command, for a real diff.
  const fetch = changed.filter((c) => c.l.type === 'file' && c.r.type === 'file' && c.r.sha256 !== c.l.sha256 && small(c.r.size) && small(c.l.size)).slice(0, maxFetched);
  const old = new Map<string, Buffer>();
  if (fetch.length > 0) {
    const script = [`cd -- ${quote(p.dest)} || exit 1`, ...fetch.map((c) => `base64 -w0 < ${quote(`./${c.l.path}`)}; printf '\\0'`)].join('\n');
    const r = await ctx.exec(script, { maxOutput: 64 * 1024 * 1024 });
    r.stdout.split('\0').forEach((b64, i) => {
      const c = fetch[i];
      if (c) old.set(c.l.path, Buffer.from(b64, 'base64'));
    });
  }
  for (const { l, r } of changed) {
    if (out.length >= maxFileDiffs) break;
    const before = old.get(l.path);
    if (before && l.type === 'file') out.push(buildFileDiff(at(l.path), before, readFileSync(l.abs)));
    else if (l.type === 'file' && r.type === 'file' && r.sha256 === l.sha256) out.push({ path: at(l.path), before: null, after: null, note: `mode ${fmt(r.mode)} → ${fmt(wantedMode(p, l))}` });
    else out.push({ path: at(l.path), before: null, after: null, note: r.type !== l.type ? `${r.type} → ${l.type}` : `changed (${r.size} → ${l.size} bytes)` });
  }
  for (const e of removed) {
    if (out.length >= maxFileDiffs) break;
    out.push({ path: at(e.path), before: null, after: null, note: `removed ${e.type}` });
  }
  return out;
}

const fmt = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');

async function applySync(ctx: TaskContext, plan: Plan, p: SyncParams, exclude: Exclude, what: string): Promise<void> {
  const d = plan.data as SyncData;
  const byPath = new Map(walkLocalTree(resolveLocal(ctx.baseDir, p.src), exclude, what).map((l) => [l.path, l]));
  const entries: TarEntry[] = d.send.map(({ path, sha256 }) => {
    const l = byPath.get(path);
    if (!l) throw new InputError(`${what}: ${path || '.'} disappeared from ${p.src} during the run`);
    const name = path === '' ? '.' : path;
    if (l.type === 'file') {
      const content = readFileSync(l.abs);
      if (hashLocalFile(l.abs) !== sha256) throw new InputError(`${what}: ${path} changed in ${p.src} during the run`);
      return { path: name, type: 'file', mode: wantedMode(p, l), mtime: l.mtime, content };
    }
    if (l.type === 'symlink') return { path: name, type: 'symlink', mode: 0o777, mtime: l.mtime, linkTarget: l.linkTarget };
    return { path: name, type: 'directory', mode: l.mode, mtime: l.mtime };
  });
  const nul = (list: string[]) => Buffer.from(list.map((x) => `./${x}\0`).join(''));
  const removeList = nul(d.remove);
  const chownList = nul(d.chown);
  const chown = chownArg(p.owner, p.group);
  // stdin: the remove list, the chown list, then the tar; `head -c` reads exactly its part of the stream.
  const script = [
    'set -e',
    `mkdir -p -- ${quote(d.dest)}`,
    `cd -- ${quote(d.dest)}`,
    'c=$(mktemp)',
    `trap 'rm -f -- "$c"' EXIT`,
    `head -c ${removeList.length} | xargs -0 -r rm -rf --`,
    `head -c ${chownList.length} > "$c"`,
    entries.length > 0 ? 'tar -x -p --no-same-owner -f -' : ':',
    chown ? `xargs -0 -r chown -h ${quote(chown)} -- < "$c"` : ':',
  ].join('\n');
  const tar = entries.length > 0 ? createTar(entries) : Buffer.alloc(0);
  await ctx.run(script, { stdin: Buffer.concat([removeList, chownList, tar]) });
}
