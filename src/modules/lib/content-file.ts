// The plan and apply shared by copy, template and lineinfile: compare by checksum, diff the text, write atomically.
import { z } from './zod.js';
import { moduleSchema, type writtenFileShape } from './schema.js';
import { quote } from '../../connection/quote.js';
import { InputError } from '../../errors.js';
import { change, noChange, type ApplyResult, type FileDiff, type Plan, type TaskContext } from '../../playbook/types.js';
import { attrsScript, describeNewAttrs, planAttrs, type WantedAttrs } from './attrs.js';
import { buildFileDiff, maxDiffBytes } from './file-diff.js';
import { chmodArg, resolveMode } from './mode.js';
import { checkFollow, statPath } from './stat.js';

/** What copy and template write (see writtenFileShape). */
export type WrittenFileParams = z.input<ReturnType<typeof moduleSchema<typeof writtenFileShape>>>;

export interface ContentOptions extends WantedAttrs {
  /** false: write only when the file is missing. */
  force?: boolean;
  /** Keep the old file as `dest.<time>~` before replacing it. */
  backup?: boolean;
  /** Command with %s, run against the temporary file before it replaces dest. */
  validate?: string;
  /** Hide the content from diffs. */
  secret?: boolean;
  /** Write a symbolic link's target instead of replacing the link (see WrittenFileParams.follow). */
  follow?: boolean;
}

/** What apply() needs: the bytes to write (or none when only attributes change) and the commands for the rest. */
export interface ContentData {
  dest: string;
  content?: Buffer;
  mode?: string;
  owner?: string;
  group?: string;
  validate?: string;
  backup: boolean;
  chmod?: string;
  chown?: string;
  /** Create dest's parent directories first (lineinfile's create). */
  makeParents?: boolean;
}

/** Plans putting `content` (whose sha256 is `digest`) at `dest`: one command stats dest and fetches its old text when it differs. */
export async function planContent(
  ctx: TaskContext,
  dest: string,
  content: Buffer,
  digest: string,
  o: ContentOptions,
): Promise<Plan> {
  const st = await statPath(ctx, dest, { follow: o.follow === true, contentUnless: digest, maxContent: maxDiffBytes });
  const base = { dest, owner: o.owner, group: o.group, validate: o.validate };
  if (st?.type === 'link' && o.force !== false) {
    // Never write through a link someone may have planted: the file replaces the link itself (rename over it).
    const mode = o.mode === undefined ? undefined : /^[0-7]+$/.test(o.mode) ? chmodArg(parseInt(o.mode, 8)) : o.mode;
    const data: ContentData = { ...base, content, mode, backup: false };
    const summary = [`link to ${st.linkTarget ?? '?'} → file (${content.length} bytes)`, ...describeNewAttrs(o)].join(', ');
    return change(summary, { diff: [diffOf(dest, null, content, undefined, o)], data });
  }
  if (st === null) {
    const mode = o.mode === undefined ? undefined : /^[0-7]+$/.test(o.mode) ? chmodArg(parseInt(o.mode, 8)) : o.mode;
    const data: ContentData = { ...base, content, mode, backup: false };
    const summary = [`absent → file (${content.length} bytes)`, ...describeNewAttrs(o)].join(', ');
    return change(summary, { diff: [diffOf(dest, null, content, undefined, o)], data });
  }
  if (st.type === 'directory') throw new InputError(`${dest} is a directory`);
  if (st.type !== 'file') throw new InputError(`${dest} exists and is not a regular file (${st.type})`);
  if (o.force === false) return noChange('file exists; force: false keeps it');
  // follow: true through a symbolic link: write its target (the link stays a link), when the link may be trusted.
  const target = checkFollow(st, dest);
  const attrs = planAttrs(st, o);
  if (st.sha256 !== digest) {
    const mode = o.mode === undefined ? undefined : chmodArg(resolveMode(o.mode, st.mode, false));
    const data: ContentData = { ...base, dest: target, content, mode, backup: o.backup === true };
    const summary = [`content changed (${st.size} → ${content.length} bytes)`, ...attrs.changes].join(', ');
    // An empty file sends no bytes; any other file not sent was too big to diff.
    const before = st.content ?? (st.size === 0 ? Buffer.alloc(0) : null);
    return change(summary, { diff: [diffOf(dest, before, content, st.size, o)], data });
  }
  if (attrs.changes.length === 0) return noChange('content and attributes already match');
  const data: ContentData = { dest: target, backup: false, chmod: attrs.chmod, chown: attrs.chown };
  return change(attrs.changes.join(', '), { data });
}

function diffOf(dest: string, before: Buffer | null, after: Buffer, beforeSize: number | undefined, o: ContentOptions): FileDiff {
  if (o.secret) return { path: dest, before: null, after: null, note: 'content hidden (secret)' };
  return buildFileDiff(dest, before, after, before === null ? beforeSize : undefined);
}

/** The backup name Ansible uses, without its pid: `dest.2024-01-31@12:00:00~`. */
export function backupName(dest: string, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}@${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  return `${dest}.${stamp}~`;
}

/** Applies a planContent() plan: one atomic write (parents, validation and backup in it), or only chmod/chown. */
export async function applyContent(ctx: TaskContext, plan: Plan): Promise<ApplyResult | void> {
  const d = plan.data as ContentData;
  if (d.content === undefined) {
    await ctx.run([`p=${quote(d.dest)}`, 'set -e', ...attrsScript(d)].join('\n'));
    return;
  }
  const backupTo = d.backup ? backupName(d.dest) : undefined;
  await ctx.writeFile(d.dest, d.content, {
    mode: d.mode,
    owner: d.owner,
    group: d.group,
    validate: d.validate,
    createParents: d.makeParents,
    backupTo,
  });
  return backupTo ? { summary: `${plan.summary ?? ''} (backup ${backupTo})` } : undefined;
}
