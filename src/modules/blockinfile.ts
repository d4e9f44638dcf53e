// Ensures a marked block of lines is in a file (or not), with the semantics of Ansible's blockinfile.
import { z } from './lib/zod.js';
import { absolutePath, attrsShape, checkParams, moduleSchema } from './lib/schema.js';
import { InputError, MissingOnHostError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { describeNewAttrs, planAttrs } from './lib/attrs.js';
import { applyContent, contentScript, type ContentData } from './lib/content-file.js';
import { blockRegex, planBlockEdit } from './lib/edit-block.js';
import { buildFileDiff } from './lib/file-diff.js';
import { chmodArg, resolveMode } from './lib/mode.js';
import { validateAttrs, validateValidate } from './lib/params.js';
import { checkFollow } from './lib/stat.js';
import { statPath } from './lib/path-reads.js';

const blockinfileSchema = moduleSchema({
  /** Absolute path on the host. */
  path: absolutePath,
  /** The lines wanted between the markers (a final newline is added); empty removes the block, as state absent. */
  block: z.string().optional(),
  /** The marker line; `{mark}` becomes markerBegin and markerEnd (default `'# {mark} ANSIBLE MANAGED BLOCK'`). */
  marker: z.string().optional(),
  /** What `{mark}` becomes in the first marker line (default `'BEGIN'`). */
  markerBegin: z.string().optional(),
  /** What `{mark}` becomes in the last marker line (default `'END'`). */
  markerEnd: z.string().optional(),
  /** `'EOF'` (default) or a Python regex: a new block goes after the last matching line (the end when none matches). */
  insertAfter: z.string().optional(),
  /** `'BOF'` or a Python regex: a new block goes before the last matching line (the end when none matches). */
  insertBefore: z.string().optional(),
  /** Create the file (and its directories) when missing; otherwise a missing file fails (present) or is ok (absent). */
  create: z.boolean().optional(),
  /** Keep the old file as `path.<time>~` before replacing it. */
  backup: z.boolean().optional(),
  /** `'present'` (default): the block is in the file; `'absent'`: the markers and what is between them are removed. */
  state: z.enum(['present', 'absent']).optional(),
  /** Command with %s, run against the edited temporary file; non-zero exit leaves path untouched and fails the task. */
  validate: z.string().optional(),
  ...attrsShape,
  /** A symbolic link at path: false (default) never edits through it; true edits its target (see copy's follow). */
  follow: z.boolean().optional(),
});
export type BlockInFileParams = z.input<typeof blockinfileSchema>;

/** Largest file blockinfile edits (it is read whole, as Ansible reads it). */
const maxFile = 32 * 1024 * 1024;

/** Ensures the block between the markers is `block` (or is gone) in a file on the host. */
export function blockinfile(params: BlockInFileParams): Task {
  checkParams('blockinfile', blockinfileSchema, params);
  const what = `blockinfile ${params.path}`;
  if (params.insertAfter !== undefined && params.insertBefore !== undefined) throw new InputError(`${what}: insertAfter and insertBefore are mutually exclusive`);
  for (const field of ['insertAfter', 'insertBefore'] as const) {
    const v = params[field];
    if (v === undefined || v === (field === 'insertAfter' ? 'EOF' : 'BOF')) continue;
    try {
      blockRegex(v);
    } catch (err) {
      throw new InputError(`${what}: ${field} is not a supported regular expression: ${(err as Error).message}`);
    }
  }
  for (const field of ['markerBegin', 'markerEnd'] as const) {
    // blockinfile.py puts them in with re.sub, which reads backslashes in them as a template's: not done here
    if (params[field]?.includes('\\')) throw new InputError(`${what}: a backslash in ${field} is not supported`);
  }
  validateAttrs(params, what);
  validateValidate(params.validate, what);
  return defineTask('blockinfile', `block in ${params.path}`, params, {
    footprint: { reads: [{ path: params.path }], writes: [{ path: params.path }] },
    check: (ctx) => planBlockInFile(ctx, params),
    apply: (ctx, plan) => applyContent(ctx, plan),
    applyScript: (ctx, plan) => contentScript(ctx, plan),
  });
}

async function planBlockInFile(ctx: TaskContext, p: BlockInFileParams): Promise<Plan> {
  // Type, attributes and the whole content, read with the other checks' reads.
  const found = await statPath(ctx, p.path, { follow: p.follow === true, content: true, maxContent: maxFile });
  const state = p.state ?? 'present';
  if (found?.type === 'link' && !p.create) {
    throw new InputError(`${p.path} is a symbolic link (to ${found.linkTarget ?? '?'}); blockinfile does not edit through a link unless follow: true (or create: true replaces the link with a new file)`);
  }
  const st = found?.type === 'link' ? null : found;
  if (st === null) {
    if (state === 'absent') return noChange(`File ${p.path} not present`);
    if (!p.create) throw new MissingOnHostError(`Path ${p.path} does not exist ! (set create: true to create it)`, [{ path: p.path }]);
  } else if (st.type === 'directory') {
    throw new InputError(`Path ${p.path} is a directory !`);
  } else if (st.type !== 'file') {
    throw new InputError(`${p.path} is not a regular file (${st.type})`);
  } else if (st.content === undefined && st.size > 0) {
    throw new InputError(`${p.path} is larger than ${maxFile} bytes; blockinfile reads whole files`);
  }
  const before = st === null ? null : (st.content ?? Buffer.alloc(0));
  const edit = planBlockEdit(before, p);
  const after = edit.after;
  const diff = p.secret ? [{ path: p.path, before: null, after: null, note: 'content hidden (secret)' }] : [buildFileDiff(p.path, before, after)];
  const base = { dest: p.path, owner: p.owner, group: p.group, validate: p.validate };
  if (st === null) {
    const mode = p.mode === undefined ? undefined : /^[0-7]+$/.test(p.mode) ? chmodArg(parseInt(p.mode, 8)) : p.mode;
    const data: ContentData = { ...base, content: after, mode, backup: false, makeParents: true };
    return change([edit.msg, ...describeNewAttrs(p)].join(', '), { diff, data });
  }
  const attrs = planAttrs(st, p);
  const target = checkFollow(st, p.path);
  if (before === null || !after.equals(before)) {
    const mode = p.mode === undefined ? undefined : chmodArg(resolveMode(p.mode, st.mode, false));
    const data: ContentData = { ...base, dest: target, content: after, mode, backup: p.backup === true, replaces: st };
    return change([edit.msg, ...attrs.changes].join(', '), { diff, data });
  }
  if (attrs.changes.length > 0) {
    const data: ContentData = { dest: target, backup: false, chmod: attrs.chmod, chown: attrs.chown };
    return change(attrs.changes.join(', '), { data });
  }
  return noChange(state === 'absent' ? 'block not present' : 'block already present');
}
