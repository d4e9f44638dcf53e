// Renders an ejs template on the controller and puts the result on the host, as Ansible's template module.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema, writtenFileShape } from './lib/schema.js';
import { InputError } from '../errors.js';
import { defineTask, type Task } from '../playbook/types.js';
import { applyContent, contentScript, planContent } from './lib/content-file.js';
import { resolveLocal, sha256 } from './lib/local-files.js';
import { validateAttrs, validateValidate } from './lib/params.js';
import { renderTemplateFile } from './lib/render-template.js';

const templateSchema = moduleSchema({
  ...writtenFileShape,
  /** An ejs template on the controller, relative to the playbook's directory. */
  src: z.string(),
  /** Variables on top of the host's vars (and `facts`). */
  vars: z.record(z.string(), z.unknown()).optional(),
});
export type TemplateParams = z.input<typeof templateSchema>;

/**
 * Ensures dest holds the rendered template. Variables: the host's vars, `facts`, then `vars` on top.
 * `<%= x %>` prints raw (no HTML escaping); a missing variable fails with template:line and its name.
 */
export function template(params: TemplateParams): Task {
  checkParams('template', templateSchema, params);
  const what = `template ${String(params.dest)}`;
  if (params.src === '') throw new InputError(`${what}: src (an .ejs file) is required`);
  validateAttrs(params, what);
  validateValidate(params.validate, what);
  return defineTask('template', `template ${params.src} → ${params.dest}`, params, {
    footprint: { reads: [{ path: params.dest }], writes: [{ path: params.dest }] },
    async check(ctx) {
      const data = { ...ctx.vars, facts: ctx.facts, ...params.vars };
      const text = renderTemplateFile(resolveLocal(ctx.baseDir, params.src), data, params.src);
      const content = Buffer.from(text);
      return planContent(ctx, params.dest, content, sha256(content), { ...params });
    },
    apply: (ctx, plan) => applyContent(ctx, plan),
    applyScript: (ctx, plan) => contentScript(ctx, plan),
  });
}
