// Renders an ejs template on the controller and puts the result on the host, as Ansible's template module.
import { InputError } from '../errors.js';
import { defineTask, type Task, type Vars } from '../playbook/types.js';
import { applyContent, planContent, type WrittenFileParams } from './lib/content-file.js';
import { resolveLocal, sha256 } from './lib/local-files.js';
import { requireAbsolute, validateAttrs, validateValidate } from './lib/params.js';
import { renderTemplateFile } from './lib/render-template.js';

export interface TemplateParams extends WrittenFileParams {
  /** An ejs template on the controller, relative to the playbook's directory. */
  src: string;
  /** Variables on top of the host's vars (and `facts`). */
  vars?: Vars;
}

/**
 * Ensures dest holds the rendered template. Variables: the host's vars, `facts`, then `vars` on top.
 * `<%= x %>` prints raw (no HTML escaping); a missing variable fails with template:line and its name.
 */
export function template(params: TemplateParams): Task {
  const what = `template ${String(params.dest)}`;
  if (typeof params.src !== 'string' || params.src === '') throw new InputError(`${what}: src (an .ejs file) is required`);
  requireAbsolute(params.dest, 'dest', 'template');
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
  });
}
