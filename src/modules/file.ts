// Ensures a path is a directory, a file, a link or absent, with mode/owner/group, as Ansible's file module.
import { z } from './lib/zod.js';
import { absolutePath, attrsShape, checkParams, moduleSchema, type Narrowed } from './lib/schema.js';
import { quote } from '../connection/quote.js';
import { InputError, MissingOnHostError } from '../errors.js';
import { applyWith, change, defineTask, failOn, noChange, type ApplyScript, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { attrsScript, chownArg, describeNewAttrs, planAttrs, type WantedAttrs } from './lib/attrs.js';
import { inlineSteps } from '../connection/shell-ops.js';
import { posix } from 'node:path';
import { chmodArg, resolveMode } from './lib/mode.js';
import { validateAttrs } from './lib/params.js';
import { checkFollow, sameIdentity, type PathStat } from './lib/stat.js';
import { statPath } from './lib/path-reads.js';


const fileSchema = moduleSchema({
  /** Absolute path on the host. */
  path: absolutePath,
  ...attrsShape,
  /** state 'directory': apply mode/owner/group to everything below it too. */
  recurse: z.boolean().optional(),
  /** state 'link': replace a file or empty directory that stands where the link goes. */
  force: z.boolean().optional(),
  /**
   * A symbolic link at path (states file, touch, directory): true (default, as Ansible) acts on its target, refused
   * when the link belongs neither to the user the task runs as nor to the target's owner; false acts on the link itself.
   */
  follow: z.boolean().optional(),
  /** Default: the path's current type when it exists, else 'file' (which must exist). */
  state: z.enum(['directory', 'file', 'absent', 'touch', 'link']).optional(),
  /** state 'link': what the link points to. */
  src: z.string().optional(),
});
type FileInput = z.input<typeof fileSchema>;
export type FileState = NonNullable<FileInput['state']>;
type FileBase = Omit<FileInput, 'state' | 'src'>;

/** state 'link' needs src (what the link points to); the other states take none. */
export type FileParams =
  | (Narrowed<Omit<FileInput, 'src'>, 'state', 'link'> & Required<Pick<FileInput, 'src'>>)
  | (Narrowed<Omit<FileInput, 'src'>, 'state', Exclude<FileState, 'link'> | undefined> & Partial<Record<'src', never>>);

interface FileData {
  script: string;
}

/** Ensures a path's type and attributes; `touch` creates a missing file and otherwise keeps content and times. */
export function file(params: FileParams): Task {
  checkParams('file', fileSchema, params);
  const what = `file ${String(params.path)}`;
  validateAttrs(params, what);
  if (params.state === 'link' && !params.src) {
    throw new InputError(`${what}: state 'link' needs src (what the link points to)`);
  }
  if (params.state !== 'link' && params.src !== undefined) throw new InputError(`${what}: src is only for state 'link'`);
  if (params.state === 'link' && params.follow === false && params.mode !== undefined) {
    throw new InputError(`${what}: a mode cannot be set on a link itself (follow: false); leave mode out or follow the link`);
  }
  // state 'link' reads its src (it must exist unless force) and, with follow, sets mode/owner/group there
  const linkReads = params.state === 'link' ? [{ path: posix.normalize(linkSource(params.path, params.src, false)) }, ...(posix.isAbsolute(params.src) ? [] : [{ path: posix.normalize(linkSource(params.path, params.src, true)) }])] : [];
  const linkSetsTarget = params.follow !== false && (params.mode !== undefined || params.owner !== undefined || params.group !== undefined);
  return defineTask('file', `${params.state ?? 'file'} ${params.path}`, params, {
    footprint: {
      reads: [{ path: params.path, tree: params.recurse === true }, ...linkReads],
      writes: [{ path: params.path, tree: params.recurse === true || params.state === 'absent' || params.state === 'link' }, ...(linkSetsTarget ? linkReads : [])],
    },
    check: (ctx) => planFile(ctx, params),
    apply: (ctx, plan) => applyWith(ctx, fileScript(plan)),
    applyScript: (_ctx, plan) => fileScript(plan),
  });
}

/** A file plan's apply: its one inline script. */
function fileScript(plan: Plan): ApplyScript {
  const { script } = plan.data as FileData;
  return { script, done: (r) => failOn(script, r) };
}

async function planFile(ctx: TaskContext, p: FileParams): Promise<Plan> {
  const follow = p.state !== 'link' && p.state !== 'absent' && p.follow !== false;
  // state 'link' reads its src in the same batch as path (path is rarely a folder, which would take src from it)
  const srcRead = p.state === 'link' && p.src ? statPath(ctx, linkSource(p.path, p.src, false), { follow: true }) : undefined;
  srcRead?.catch(() => undefined); // awaited only when path is not a folder: a failure is never left unhandled
  const st = await statPath(ctx, p.path, { follow });
  const state: FileState = p.state ?? (st === null ? 'file' : st.type === 'directory' ? 'directory' : st.type === 'link' ? 'link' : 'file');
  const want: WantedAttrs = { mode: p.mode, owner: p.owner, group: p.group };
  // A followed link: act on its target, only when the link may be trusted (see checkFollow).
  const target = st === null ? p.path : checkFollow(st, p.path);
  if (st?.type === 'link' && state !== 'link' && state !== 'absent' && want.mode !== undefined) {
    throw new InputError(`${p.path} is a symbolic link${st.linkTarget ? ` (to ${st.linkTarget})` : ''}; a mode cannot be set on a link itself (chmod would follow it)`);
  }
  const head = ['local p r', `p=${quote(target)}`];
  const plan = (parts: string[], body: string[], why: string): Plan =>
    parts.length === 0 ? noChange(why) : change(parts.join(', '), { data: { script: `${head.join('\n')}\n${inlineSteps(body)}` } satisfies FileData });

  switch (state) {
    case 'absent':
      if (st === null) return noChange('already absent');
      return plan([`${st.type} → absent`], ['rm -rf -- "$p"'], '');
    case 'directory': {
      if (st === null) return plan(['absent → directory', ...describeNewAttrs(want)], makeDirectory(target, want), '');
      if (st.type !== 'directory') throw new InputError(`${p.path} exists and is a ${st.type}, not a directory`);
      const a = planAttrs(st, want);
      const parts = [...a.changes];
      const body = attrsScript(a);
      if (p.recurse) {
        const below = await planRecurse(ctx, p.path, want);
        if (below) {
          parts.push(below);
          body.push(...recurseScript(want));
        }
      }
      return plan(parts, body, 'directory with the wanted attributes');
    }
    case 'file': {
      if (st === null) throw new MissingOnHostError(`${p.path} does not exist (state 'file' does not create files; use state 'touch' or copy)`, [{ path: p.path }]);
      if (st.type === 'directory') throw new InputError(`${p.path} is a directory, not a file`);
      return existing(st, want, plan, 'file with the wanted attributes');
    }
    case 'touch':
      // noclobber: the new file is created with O_EXCL, so a link planted since the check is not followed.
      if (st === null) return plan(['absent → file', ...describeNewAttrs(want)], ['{ set -C; true > "$p"; r=$?; set +C; [ "$r" -eq 0 ]; }', ...newAttrs(want)], '');
      // Ansible's modification_time/access_time 'preserve': an existing path keeps its content and times.
      return existing(st, want, plan, `${st.type} exists; content and times kept`);
    case 'link':
      return planLink(ctx, st, p, want, plan, srcRead);
  }
}

type PlanFn = (parts: string[], body: string[], why: string) => Plan;

function existing(st: PathStat, want: WantedAttrs, plan: PlanFn, why: string): Plan {
  const a = planAttrs(st, want);
  return plan(a.changes, attrsScript(a), why);
}

/**
 * A new directory, as file.py makes one: each directory it creates, the missing parents too, gets the mode, owner
 * and group. The missing ones are found with the shell's tests and made by one `mkdir` (`-m` for a numeric mode), in
 * order; a planted link is not followed (-h, and no chmod).
 */
function makeDirectory(path: string, want: WantedAttrs): string[] {
  const numeric = want.mode !== undefined && /^[0-7]+$/.test(want.mode);
  const chown = chownArg(want.owner, want.group);
  const top = path.replace(/\/+$/, '') || '/';
  const mode = numeric ? quote(chmodArg(parseInt(want.mode as string, 8))) : undefined;
  const mkdir = `mkdir ${mode ? `-m ${mode} ` : ''}--`;
  return [
    `local q=${quote(top)}`,
    'set --',
    'while [ -n "$q" ] && [ ! -e "$q" ] && [ ! -L "$q" ]; do set -- "$q" "$@"; case "$q" in */*) q=${q%/*} ;; *) q= ;; esac; done',
    // one mkdir for all; where another made one of them meanwhile (hosts sharing a folder), as file.py: a folder
    // there is kept, and gets the mode
    `${mkdir} "$@" 2>/dev/null || for q in "$@"; do if [ -d "$q" ] && [ ! -L "$q" ]; then ${mode ? `chmod ${mode} -- "$q" || return 1` : ':'}; else ${mkdir} "$q" || return 1; fi; done`,
    ...(chown ? [`chown -h ${quote(chown)} -- "$@"`] : []),
    ...(want.mode !== undefined && !numeric ? [`for q in "$@"; do { [ ! -L "$q" ] || { echo "$q is a symbolic link now; its mode is not changed" >&2; false; }; } && chmod ${quote(want.mode)} -- "$q" || return 1; done`] : []),
  ];
}

function newAttrs(want: WantedAttrs): string[] {
  const chmod = want.mode === undefined ? undefined : /^[0-7]+$/.test(want.mode) ? chmodArg(parseInt(want.mode, 8)) : want.mode;
  // A link planted between the check and these lines is neither chowned through (-h) nor chmodded through.
  return attrsScript({ chown: chownArg(want.owner, want.group), chmod });
}

/**
 * Where state 'link' looks for `src`, as file.py does: a relative src is taken from the link's directory, or from
 * `path` itself when that is a directory (not a link); an absolute one as it is.
 */
export function linkSource(path: string, src: string, pathIsDirectory: boolean): string {
  if (posix.isAbsolute(src)) return src;
  // as os.path.join: not normalized, so `..` after a linked folder goes where the kernel takes it
  const dir = pathIsDirectory ? path : posix.dirname(path);
  return `${dir.endsWith('/') ? dir : `${dir}/`}${src}`;
}

async function planLink(ctx: TaskContext, st: PathStat | null, p: FileBase & { src?: string }, want: WantedAttrs, plan: PlanFn, srcRead?: Promise<PathStat | null>): Promise<Plan> {
  if (p.src === undefined) {
    // a dangling link met without state: nothing to retarget (file.py keeps it), only its owner and group
    if (st === null) return noChange('absent');
    const a = planAttrs(st, { owner: want.owner, group: want.group });
    return plan(a.changes, attrsScript(a, { noDereference: true }), 'link to nothing');
  }
  // Ansible's file.py checks that src exists (through links) before anything else, unless force.
  const inPath = st?.type === 'directory';
  const abs = linkSource(p.path, p.src, inPath);
  const target = await (!inPath && srcRead ? srcRead : statPath(ctx, abs, { follow: true }));
  const exists = target !== null && target.type !== 'link';
  if (!exists && !p.force) {
    throw new MissingOnHostError(`src file does not exist, use "force=yes" if you really want to create the link: ${abs}`, [{ path: posix.normalize(abs) }]);
  }
  // follow (default true): mode, owner and group go to what the link points to, as file.py sets them on its realpath;
  // follow: false: owner and group on the link itself (a link has no mode of its own).
  const follow = p.follow !== false;
  const linkAttrs: WantedAttrs = follow ? {} : { owner: want.owner, group: want.group };
  const targetParts: string[] = [];
  const targetBody: string[] = [];
  let note: string | undefined;
  const wantsAttrs = want.mode !== undefined || want.owner !== undefined || want.group !== undefined;
  if (follow && wantsAttrs) {
    if (!exists) {
      // file.py warns and sets nothing: a link to nothing has no attributes to set
      note = `mode/owner/group not set: ${abs} does not exist`;
    } else {
      const a = planAttrs(target, want);
      if (a.changes.length > 0) {
        const real = checkFollow(target, abs);
        targetParts.push(...a.changes.map((c) => `${c} on ${real}`));
        targetBody.push(`p=${quote(real)}`, ...attrsScript(a));
      }
    }
  }
  const make = [`ln -sfn -- ${quote(p.src)} "$p"`, ...attrsScript({ chown: chownArg(linkAttrs.owner, linkAttrs.group) }, { noDereference: true })];
  const withTarget = (parts: string[], body: string[], why: string) => {
    const all = [...parts, ...targetParts];
    return plan(all.length > 0 && note ? [...all, note] : all, [...body, ...targetBody], note ? `${why} (${note})` : why);
  };
  if (st === null) return withTarget([`absent → link to ${p.src}`, ...describeNewAttrs(linkAttrs)], make, '');
  if (st.type === 'link') {
    if (st.linkTarget !== p.src) return withTarget([`link to ${st.linkTarget ?? '?'} → link to ${p.src}`], make, '');
    const a = planAttrs(st, linkAttrs);
    return withTarget(a.changes, attrsScript(a, { noDereference: true }), `link to ${p.src}`);
  }
  if (!p.force) throw new InputError(`${p.path} exists and is a ${st.type}; set force: true to replace it with a link`);
  // rmdir refuses a non-empty directory, as Ansible does.
  const remove = st.type === 'directory' ? 'rmdir -- "$p"' : 'rm -f -- "$p"';
  return withTarget([`${st.type} → link to ${p.src}`], [remove, ...make], '');
}

/** Counts entries below `path` whose mode/owner/group differ; one command, output grouped by distinct attributes. */
async function planRecurse(ctx: TaskContext, path: string, want: WantedAttrs): Promise<string | null> {
  if (want.mode === undefined && want.owner === undefined && want.group === undefined) return null;
  const r = await ctx.run(
    `find ${quote(path)} -mindepth 1 ! -type l -printf '%y %m %u %U %g %G\\n' | sort | uniq -c`,
    { maxOutput: 16 * 1024 * 1024 },
  );
  let count = 0;
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const [n, y, m, user, uid, group, gid] = f as [string, string, string, string, string, string, string];
    const mode = parseInt(m, 8);
    const modeDiffers = want.mode !== undefined && resolveMode(want.mode, mode, y === 'd') !== mode;
    const ownerDiffers = want.owner !== undefined && !sameIdentity(want.owner, user, Number(uid));
    const groupDiffers = want.group !== undefined && !sameIdentity(want.group, group, Number(gid));
    if (modeDiffers || ownerDiffers || groupDiffers) count += Number(n);
  }
  return count === 0 ? null : `${count} entr${count === 1 ? 'y' : 'ies'} below need ${describeNewAttrs(want).join(', ')}`;
}

function recurseScript(want: WantedAttrs): string[] {
  const lines: string[] = [];
  const chown = chownArg(want.owner, want.group);
  if (chown) lines.push(`chown -R -h ${quote(chown)} -- "$p"`);
  if (want.mode !== undefined) {
    const arg = /^[0-7]+$/.test(want.mode) ? chmodArg(parseInt(want.mode, 8)) : want.mode;
    lines.push(`chmod -R ${quote(arg)} -- "$p"`);
  }
  return lines;
}
