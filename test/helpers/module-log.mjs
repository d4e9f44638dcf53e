// Preloaded with `node --import`: appends every module the process loads to the file named by $MODULE_LOG, one a
// line: ES modules (node: builtins included) through a loader hook, CommonJS files as they are compiled. Tests use it
// to count what a command loads (counts, never durations).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.MODULE_LOG;
if (log) {
  register(new URL('./module-log-hooks.mjs', import.meta.url), { data: { log } });
  const Module = createRequire(import.meta.url)('node:module');
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    appendFileSync(log, `${filename}\n`);
    return compile.call(this, content, filename);
  };
}
