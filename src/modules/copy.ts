// Puts a local file or a literal content at a path on the host, compared by checksum, as Ansible's copy module.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema, writtenFileShape, type ExactlyOneOf } from './lib/schema.js';
import { basename, posix } from 'node:path';
import { InputError } from '../errors.js';
import { defineTask, type Task } from '../playbook/types.js';
import { applyContent, contentScript, planContent } from './lib/content-file.js';
import { readLocalFile, resolveLocal, sha256OfBuffer, sha256OfText } from './lib/local-files.js';
import { validateAttrs, validateValidate } from './lib/params.js';

const copySchema = moduleSchema({
  /** dest ending in '/' puts the file in that directory under src's name. */
  ...writtenFileShape,
  /** A controller file, relative to the playbook's directory (not with content). */
  src: z.string().optional(),
  /** Literal content to write (not with src). */
  content: z.union([z.string(), z.instanceof(Buffer)]).optional(),
});
/** Either `src` (a controller file, relative to the playbook's directory) or `content`, never both. */
export type CopyParams = ExactlyOneOf<z.input<typeof copySchema>, 'src', 'content'>;

/** Ensures dest holds src's bytes (or `content`), with mode/owner/group; shows a unified diff of text. */
export function copy(params: CopyParams): Task {
  checkParams('copy', copySchema, params);
  const what = `copy ${String(params.dest)}`;
  const hasSrc = params.src !== undefined;
  const hasContent = params.content !== undefined;
  if (hasSrc === hasContent) throw new InputError(`${what}: give exactly one of src or content`);
  if (params.src === '') throw new InputError(`${what}: src must be a path`);
  validateAttrs(params, what);
  validateValidate(params.validate, what);
  if (hasContent && params.dest.endsWith('/')) throw new InputError(`${what}: can not use content with a dir as dest`);
  // Ansible's copy: a dest ending in '/' is a directory (made when missing), and so is a dest that is one on the host;
  // either way src's file goes into it under its own name
  const name = hasSrc ? basename(params.src as string) : undefined;
  const intoDir = params.dest.endsWith('/');
  const dest = intoDir ? posix.join(params.dest, name as string) : params.dest;
  const inside = name !== undefined && !intoDir ? [{ path: posix.join(dest, name) }] : [];
  const fromContent = hasContent ? toBytes(params.content as string | Buffer) : undefined;

  return defineTask('copy', `copy ${params.src ?? 'content'} → ${dest}`, params, {
    footprint: { reads: [{ path: dest }, ...inside], writes: [{ path: dest }, ...inside] },
    async check(ctx) {
      let content: Buffer;
      let digest: string;
      if (fromContent) {
        content = fromContent.bytes;
        digest = fromContent.digest();
      } else {
        const local = readLocalFile(resolveLocal(ctx.baseDir, params.src as string), what);
        content = local.content;
        digest = local.sha256;
      }
      return planContent(ctx, dest, content, digest, { ...params, secret: params.secret, fromContent: hasContent, intoDirectory: intoDir ? undefined : name, makeParents: intoDir });
    },
    apply: (ctx, plan) => applyContent(ctx, plan),
    applyScript: (ctx, plan) => contentScript(ctx, plan),
  });
}

/** The bytes of a `content:` parameter; its checksum is memoized by value, so hosts share one computation. */
function toBytes(content: string | Buffer): { bytes: Buffer; digest: () => string } {
  if (typeof content === 'string') return { bytes: Buffer.from(content), digest: () => sha256OfText(content) };
  return { bytes: content, digest: () => sha256OfBuffer(content) };
}
