// Replaces every match of a regex in a file, with the semantics of Ansible's replace (Python re, MULTILINE).
import { z } from './lib/zod.js';
import { absolutePath, attrsShape, checkParams, moduleSchema } from './lib/schema.js';
import { InputError, MissingOnHostError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { planAttrs } from './lib/attrs.js';
import { applyContent, contentScript, type ContentData } from './lib/content-file.js';
import { planReplaceEdit, sectionPattern } from './lib/edit-replace.js';
import { buildFileDiff } from './lib/file-diff.js';
import { chmodArg, resolveMode } from './lib/mode.js';
import { validateAttrs, validateValidate } from './lib/params.js';
import { expandTemplate, groupCount, pyReToJs } from './lib/py-re.js';
import { checkFollow } from './lib/stat.js';
import { statPath } from './lib/path-reads.js';

const replaceSchema = moduleSchema({
  /** Absolute path on the host; it must exist. */
  path: absolutePath,
  /** A Python regex (re.MULTILINE: `^` and `$` at every line), replaced at every match, across lines. */
  regexp: z.string(),
  /** What each match becomes: Python's template (`\1`, `\g<name>`); default '' removes the matches. */
  replace: z.string().optional(),
  /** A Python regex: only the text after its first match is edited (`.` matches newlines in it). */
  after: z.string().optional(),
  /** A Python regex: only the text before its match is edited (with after: the first such section after it). */
  before: z.string().optional(),
  /** Keep the old file as `path.<time>~` before replacing it. */
  backup: z.boolean().optional(),
  /** Command with %s, run against the edited temporary file; non-zero exit leaves path untouched and fails the task. */
  validate: z.string().optional(),
  ...attrsShape,
  /** A symbolic link at path: false (default) never edits through it; true edits its target (see copy's follow). */
  follow: z.boolean().optional(),
});
export type ReplaceParams = z.input<typeof replaceSchema>;

/** Largest file replace edits (it is read whole, as Ansible reads it). */
const maxFile = 32 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Replaces every match of `regexp` in a file on the host with `replace`. */
export function replace(params: ReplaceParams): Task {
  checkParams('replace', replaceSchema, params);
  const what = `replace ${params.path}`;
  const tryRe = (field: string, pattern: string, opts: Parameters<typeof pyReToJs>[1]) => {
    try {
      return pyReToJs(pattern, opts);
    } catch (err) {
      throw new InputError(`${what}: ${field} is not a supported regular expression: ${(err as Error).message}`);
    }
  };
  const re = tryRe('regexp', params.regexp, { multiline: true });
  const section = sectionPattern(params);
  if (section) tryRe(params.after && params.before ? 'after/before' : params.after ? 'after' : 'before', section, { dotall: true });
  // the template's groups are checked now, against a match of as many (empty) groups as the pattern has
  try {
    const groups = groupCount(re);
    const names = /\(\?<([A-Za-z_]\w*)>/g;
    const fake = Object.assign(Array.from({ length: groups + 1 }, () => ''), { index: 0, input: '', groups: Object.fromEntries([...re.source.matchAll(names)].map((m) => [m[1], ''])) });
    expandTemplate(params.replace ?? '', fake as unknown as RegExpExecArray, groups);
  } catch (err) {
    throw new InputError(`${what}: replace: ${(err as Error).message}`);
  }
  validateAttrs(params, what);
  validateValidate(params.validate, what);
  return defineTask('replace', `replace in ${params.path}`, params, {
    footprint: { reads: [{ path: params.path }], writes: [{ path: params.path }] },
    check: (ctx) => planReplace(ctx, params),
    apply: (ctx, plan) => applyContent(ctx, plan),
    applyScript: (ctx, plan) => contentScript(ctx, plan),
  });
}

async function planReplace(ctx: TaskContext, p: ReplaceParams): Promise<Plan> {
  const found = await statPath(ctx, p.path, { follow: p.follow === true, content: true, maxContent: maxFile });
  if (found === null) throw new MissingOnHostError(`Path ${p.path} does not exist !`, [{ path: p.path }]);
  if (found.type === 'link') throw new InputError(`${p.path} is a symbolic link (to ${found.linkTarget ?? '?'}); replace does not edit through a link unless follow: true`);
  if (found.type === 'directory') throw new InputError(`Path ${p.path} is a directory !`);
  if (found.type !== 'file') throw new InputError(`${p.path} is not a regular file (${found.type})`);
  if (found.content === undefined && found.size > 0) throw new InputError(`${p.path} is larger than ${maxFile} bytes; replace reads whole files`);
  const before = found.content ?? Buffer.alloc(0);
  let text: string;
  try {
    text = utf8.decode(before);
  } catch {
    throw new InputError(`${p.path} is not UTF-8 text; replace edits text`);
  }
  const edit = planReplaceEdit(text, p);
  const attrs = planAttrs(found, p);
  const target = checkFollow(found, p.path);
  if (edit.matched && edit.count > 0) {
    const after = Buffer.from(edit.after, 'utf8');
    const diff = p.secret ? [{ path: p.path, before: null, after: null, note: 'content hidden (secret)' }] : [buildFileDiff(p.path, before, after)];
    const mode = p.mode === undefined ? undefined : chmodArg(resolveMode(p.mode, found.mode, false));
    const data: ContentData = { dest: target, owner: p.owner, group: p.group, validate: p.validate, content: after, mode, backup: p.backup === true, replaces: found };
    return change([edit.msg, ...attrs.changes].join(', '), { diff, data });
  }
  // after/before not matching ends replace.py before it looks at attributes
  if (!edit.matched) return noChange(edit.msg);
  if (attrs.changes.length > 0) {
    const data: ContentData = { dest: target, backup: false, chmod: attrs.chmod, chown: attrs.chown };
    return change(attrs.changes.join(', '), { data });
  }
  return noChange('no match to replace');
}
