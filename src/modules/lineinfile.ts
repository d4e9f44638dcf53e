// Ensures a line is in a file (or not), with the exact semantics of Ansible's lineinfile.
import { z } from './lib/zod.js';
import { absolutePath, attrsShape, checkParams as checkSchema, moduleSchema, type AtMostOneOf, type Narrowed } from './lib/schema.js';
import { InputError, MissingOnHostError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { describeNewAttrs, planAttrs } from './lib/attrs.js';
import { applyContent, contentScript, type ContentData } from './lib/content-file.js';
import { planLineEdit, pyRegex } from './lib/edit-lines.js';
import { buildFileDiff } from './lib/file-diff.js';
import { chmodArg, resolveMode } from './lib/mode.js';
import { validateAttrs, validateValidate } from './lib/params.js';
import { checkFollow } from './lib/stat.js';
import { statPath } from './lib/path-reads.js';

const lineinfileSchema = moduleSchema({
  /** Absolute path on the host. */
  path: absolutePath,
  /** Python-style regex; present: the last matching line is replaced; absent: every matching line is removed. */
  regexp: z.string().optional(),
  /** A literal string instead of regexp. */
  searchString: z.string().optional(),
  /** Create the file (and its directories) when missing; otherwise a missing file fails (present) or is ok (absent). */
  create: z.boolean().optional(),
  /** With regexp: `\1`/`\g<name>` in line come from the match, and nothing is added when nothing matches. */
  backrefs: z.boolean().optional(),
  /** Use the first match instead of the last. */
  firstMatch: z.boolean().optional(),
  /** Keep the old file as `path.<time>~` before replacing it. */
  backup: z.boolean().optional(),
  /** Command with %s, run against the edited temporary file; non-zero exit leaves path untouched and fails the task. */
  validate: z.string().optional(),
  ...attrsShape,
  /** A symbolic link at path: false (default) never edits through it; true edits its target (see copy's follow). */
  follow: z.boolean().optional(),
  /** 'EOF' (default), 'BOF' or a regex: insert after its last match. */
  insertAfter: z.string().optional(),
  /** 'BOF' or a regex: insert before its last match. */
  insertBefore: z.string().optional(),
  /** 'present' (default): the line is in the file; 'absent': no line matches. */
  state: z.enum(['present', 'absent']).optional(),
  /** The line wanted (with backrefs: a template of the regexp's groups); required with state 'present'. */
  line: z.string().optional(),
});
type LineInFileInput = z.input<typeof lineinfileSchema>;

/** insertAfter or insertBefore, not both; state 'present' (the default) needs line. */
export type LineInFileParams = AtMostOneOf<Omit<LineInFileInput, 'state' | 'line'>, 'insertAfter', 'insertBefore'> &
  (Narrowed<Pick<LineInFileInput, 'state' | 'line'>, 'state', 'present' | undefined> & Required<Pick<LineInFileInput, 'line'>> | Narrowed<Pick<LineInFileInput, 'state' | 'line'>, 'state', 'absent'>);

/** Largest file lineinfile edits (it is read whole, as Ansible reads it). */
const maxFile = 32 * 1024 * 1024;

/** Ensures `line` is present (or lines matching are absent) in a file on the host. */
export function lineinfile(params: LineInFileParams): Task {
  checkSchema('lineinfile', lineinfileSchema, params);
  const what = `lineinfile ${String(params.path)}`;
  checkParams(params, what);
  return defineTask('lineinfile', `line in ${params.path}`, params, {
    footprint: { reads: [{ path: params.path }], writes: [{ path: params.path }] },
    check: (ctx) => planLineInFile(ctx, params),
    apply: (ctx, plan) => applyContent(ctx, plan),
    applyScript: (ctx, plan) => contentScript(ctx, plan),
  });
}

function checkParams(p: LineInFileParams, what: string): void {
  const state = p.state ?? 'present';
  if (p.insertAfter !== undefined && p.insertBefore !== undefined) throw new InputError(`${what}: insertAfter and insertBefore are mutually exclusive`);
  if (p.regexp !== undefined && p.searchString !== undefined) throw new InputError(`${what}: regexp and searchString are mutually exclusive`);
  if (p.backrefs && p.searchString !== undefined) throw new InputError(`${what}: backrefs and searchString are mutually exclusive`);
  if (state === 'present') {
    if (p.backrefs && p.regexp === undefined) throw new InputError(`${what}: regexp is required with backrefs`);
    if (p.line === undefined) throw new InputError(`${what}: line is required with state 'present'`);
  } else if (p.line === undefined && p.regexp === undefined && p.searchString === undefined) {
    throw new InputError(`${what}: one of line, searchString or regexp is required with state 'absent'`);
  }
  for (const field of ['regexp', 'insertAfter', 'insertBefore'] as const) {
    const v = p[field];
    if (v === undefined || v === 'BOF' || v === 'EOF') continue;
    try {
      pyRegex(v);
    } catch (err) {
      throw new InputError(`${what}: ${field} is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  validateAttrs(p, what);
  validateValidate(p.validate, what);
}

async function planLineInFile(ctx: TaskContext, p: LineInFileParams): Promise<Plan> {
  // Type, attributes and the whole content, read with the other checks' reads.
  const found = await statPath(ctx, p.path, { follow: p.follow === true, content: true, maxContent: maxFile });
  const state = p.state ?? 'present';
  // A link someone may have planted is never edited through: with create it is replaced by a new file, as copy does.
  if (found?.type === 'link' && !p.create) {
    throw new InputError(`${p.path} is a symbolic link (to ${found.linkTarget ?? '?'}); lineinfile does not edit through a link unless follow: true (or create: true replaces the link with a new file)`);
  }
  const st = found?.type === 'link' ? null : found;
  if (st === null) {
    if (state === 'absent') return noChange('file not present');
    if (!p.create) throw new MissingOnHostError(`${p.path} does not exist (set create: true to create it)`, [{ path: p.path }]);
  } else if (st.type === 'directory') {
    throw new InputError(`${p.path} is a directory`);
  } else if (st.type !== 'file') {
    throw new InputError(`${p.path} is not a regular file (${st.type})`);
  } else if (st.content === undefined && st.size > 0) {
    throw new InputError(`${p.path} is larger than ${maxFile} bytes; lineinfile reads whole files`);
  }

  const before = st === null ? null : (st.content ?? Buffer.alloc(0));
  const edit = planLineEdit(before ?? Buffer.alloc(0), {
    line: p.line,
    regexp: p.regexp,
    searchString: p.searchString,
    state: p.state,
    insertAfter: p.insertAfter,
    insertBefore: p.insertBefore,
    backrefs: p.backrefs,
    firstMatch: p.firstMatch,
  });
  const after = edit.after;
  const contentChanged = before === null || !after.equals(before);
  const diff = p.secret ? [{ path: p.path, before: null, after: null, note: 'content hidden (secret)' }] : [buildFileDiff(p.path, before, after)];
  const base = { dest: p.path, owner: p.owner, group: p.group, validate: p.validate };

  if (st === null) {
    const mode = p.mode === undefined ? undefined : /^[0-7]+$/.test(p.mode) ? chmodArg(parseInt(p.mode, 8)) : p.mode;
    const data: ContentData = { ...base, content: after, mode, backup: false, makeParents: true };
    return change(['absent → file', edit.msg, ...describeNewAttrs(p)].filter(Boolean).join(', '), { diff, data });
  }
  const attrs = planAttrs(st, p);
  // follow: true through a symbolic link: edit its target, as lineinfile.py does (realpath), when the link may be trusted.
  const target = checkFollow(st, p.path);
  if (contentChanged) {
    const mode = p.mode === undefined ? undefined : chmodArg(resolveMode(p.mode, st.mode, false));
    const data: ContentData = { ...base, dest: target, content: after, mode, backup: p.backup === true, replaces: st };
    return change([edit.msg, ...attrs.changes].join(', '), { diff, data });
  }
  if (attrs.changes.length > 0) {
    const data: ContentData = { dest: target, backup: false, chmod: attrs.chmod, chown: attrs.chown };
    return change(attrs.changes.join(', '), { data });
  }
  return noChange(state === 'absent' ? 'no matching line' : 'line already present');
}
