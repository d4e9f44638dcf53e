// The plan and apply shared by copy, template and lineinfile: compare by checksum, diff the text, write atomically.
import { z } from './zod.js';
import { moduleSchema, type writtenFileShape } from './schema.js';
import { quote } from '../../connection/quote.js';
import { InputError } from '../../errors.js';
import { applyWith, change, failOn, noChange, type ApplyResult, type ApplyScript, type FileDiff, type Plan, type TaskContext } from '../../playbook/types.js';
import type { ExecResult, WriteFileOptions } from '../../connection/types.js';
import { attrsScript, describeNewAttrs, planAttrs, type WantedAttrs } from './attrs.js';
import { buildFileDiff, maxDiffBytes } from './file-diff.js';
import { chmodArg, resolveMode } from './mode.js';
import { checkFollow, type PathStat } from './stat.js';
import { statPath, pathReads } from './path-reads.js';
import { sha256 } from './local-files.js';
import { posix } from 'node:path';
import { inlineSteps, writeCommand } from '../../connection/shell-ops.js';

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
  /**
   * A directory at dest: the file goes into it under this name (copy's src basename, as Ansible's copy); undefined:
   * a directory at dest fails, naming content (Ansible's "can not use content with a dir as dest").
   */
  intoDirectory?: string;
  /** The bytes are copy's `content` (a directory at dest then fails as Ansible's copy does). */
  fromContent?: boolean;
  /** Create dest's missing parent directories (copy's dest ending in '/', as Ansible's copy makes it). */
  makeParents?: boolean;
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
  /** The regular file the write replaces, as the check read it: what the new one keeps when nothing else is given. */
  replaces?: PathStat;
}

/** Plans putting `content` (whose sha256 is `digest`) at `dest`: one command stats dest and fetches its old text when it differs. */
export async function planContent(
  ctx: TaskContext,
  dest: string,
  content: Buffer,
  digest: string,
  o: ContentOptions,
): Promise<Plan> {
  // force: false only asks whether dest exists: no checksum, no bytes.
  const st = await statPath(ctx, dest, o.force === false ? { follow: o.follow === true } : { follow: o.follow === true, contentUnless: digest, maxContent: maxDiffBytes });
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
    const data: ContentData = { ...base, content, mode, backup: false, ...(o.makeParents ? { makeParents: true } : {}) };
    const summary = [`absent → file (${content.length} bytes)`, ...describeNewAttrs(o)].join(', ');
    return change(summary, { diff: [diffOf(dest, null, content, undefined, o)], data });
  }
  if (st.type === 'directory') {
    if (o.intoDirectory !== undefined) return planContent(ctx, posix.join(dest, o.intoDirectory), content, digest, { ...o, intoDirectory: undefined, makeParents: false });
    throw new InputError(o.fromContent ? `${dest} is a directory: can not use content with a dir as dest` : `${dest} is a directory`);
  }
  if (st.type !== 'file') throw new InputError(`${dest} exists and is not a regular file (${st.type})`);
  if (o.force === false) return noChange('file exists; force: false keeps it');
  // follow: true through a symbolic link: write its target (the link stays a link), when the link may be trusted.
  const target = checkFollow(st, dest);
  const attrs = planAttrs(st, o);
  if (st.sha256 !== digest) {
    const mode = o.mode === undefined ? undefined : chmodArg(resolveMode(o.mode, st.mode, false));
    const data: ContentData = { ...base, dest: target, content, mode, backup: o.backup === true, replaces: st };
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

/** What the write of a content plan asks for. */
function writeOptions(d: ContentData, backupTo: string | undefined): WriteFileOptions {
  return { mode: d.mode, owner: d.owner, group: d.group, validate: d.validate, createParents: d.makeParents, backupTo };
}

/**
 * After a write: the new file is known whole when it replaced a regular file and kept its owner, group and (or set a
 * numeric) mode, and nothing else was asked of the host since (`known`), so a later check of it (the next lineinfile
 * edit) reads that instead of the host.
 */
function written(ctx: TaskContext, plan: Plan, d: ContentData & { content: Buffer }, known: boolean, backupTo: string | undefined): ApplyResult | void {
  const old = d.replaces;
  const mode = d.mode === undefined ? old?.mode : /^[0-7]+$/.test(d.mode) ? parseInt(d.mode, 8) : undefined;
  if (known && old?.type === 'file' && old.realPath === undefined && mode !== undefined && !d.owner && !d.group) {
    pathReads(ctx.conn).wrote(d.dest, ctx.become, { ...old, mode, size: d.content.length, sha256: sha256(d.content) }, d.content);
  }
  return backupTo ? { summary: `${plan.summary ?? ''} (backup ${backupTo})` } : undefined;
}

/**
 * A planContent() plan's apply as one inline script: the atomic write, or only chmod/chown; with the bytes for its
 * stdin when they are too large or not text to travel inside it.
 */
function contentApply(ctx: TaskContext, plan: Plan): { script: ApplyScript; stdin?: Buffer } {
  const d = plan.data as ContentData;
  if (d.content === undefined) {
    const script = inlineSteps([`local p=${quote(d.dest)}`, ...attrsScript(d)]);
    return { script: { script, done: (r) => failOn(script, r) } };
  }
  const backupTo = d.backup ? backupName(d.dest) : undefined;
  const content = d.content;
  const w = writeCommand(d.dest, content, writeOptions(d, backupTo));
  const done = (r: ExecResult, last: boolean) => {
    const { ownerKept } = w.result(r); // throws when the write failed
    return written(ctx, plan, { ...d, content }, last && ownerKept, backupTo);
  };
  return { script: { script: w.script, done }, stdin: w.stdin };
}

/** The apply as one script that may go with others (see Task.applyScript): not when its bytes come on stdin. */
export function contentScript(ctx: TaskContext, plan: Plan): ApplyScript | undefined {
  const a = contentApply(ctx, plan);
  return a.stdin ? undefined : a.script;
}

/** Applies a planContent() plan: one atomic write (parents, validation and backup in it), or only chmod/chown. */
export async function applyContent(ctx: TaskContext, plan: Plan): Promise<ApplyResult | void> {
  const a = contentApply(ctx, plan);
  return applyWith(ctx, a.script, a.stdin ? { stdin: a.stdin } : {});
}
