// Loads a user's TypeScript playbook at run time (no build step) and checks that it exports a playbook.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { PlaybookError } from '../errors.js';
import type { Playbook } from './types.js';

/**
 * Imports `file`: esbuild compiles it and its relative imports into one module in memory, imported from a data:
 * URL, with every package import pointed at the file Node would load from the playbook's folder ('provision'
 * itself at this very library, so the playbook and the runner share one instance). This costs a few
 * milliseconds, where a loader hook thread costs a tenth of a second; a package only importable as ESM falls back
 * to tsx's loader.
 */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const path = resolve(file);
  if (!existsSync(path)) throw new PlaybookError(`${file}: no such playbook file`);
  let mod: { default?: unknown };
  try {
    mod = await importPlaybook(path);
  } catch (err) {
    if (err instanceof PlaybookError) throw err;
    throw new PlaybookError(`${file}: the playbook does not load: ${describeLoadError(err)}`);
  }
  // tsx may wrap a module's exports once more under `default`.
  let pb = mod.default;
  if (pb && typeof pb === 'object' && 'default' in pb && !('tasks' in pb)) pb = (pb as { default: unknown }).default;
  return validatePlaybook(file, pb);
}

class UnresolvedImport extends Error {}

/** The playbook as one ES module's text, or undefined when a package import needs Node's own ESM loader. */
async function bundle(path: string): Promise<string | undefined> {
  const require = createRequire(path);
  const self = new URL('../index.js', import.meta.url).href; // this library's entry, beside src/playbook/
  const packages: Plugin = {
    name: 'packages-by-url',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        if (args.path === 'provision') return { path: self, external: true };
        try {
          return { path: pathToFileURL(require.resolve(args.path)).href, external: true };
        } catch {
          throw new UnresolvedImport(args.path);
        }
      });
    },
  };
  try {
    const result = await build({
      entryPoints: [path],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [packages],
    });
    return result.outputFiles[0]?.text;
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? [];
    if (errors.some((e) => e.detail instanceof UnresolvedImport)) return undefined;
    if (errors.length > 0) {
      throw new PlaybookError(
        errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join('\n'),
      );
    }
    throw err;
  }
}

async function importPlaybook(path: string): Promise<{ default?: unknown }> {
  const code = await bundle(path);
  if (code !== undefined) return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  // Node's own ESM resolution, through tsx's loader hooks, for imports `require.resolve` cannot find.
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(pathToFileURL(path).href, import.meta.url) as Promise<{ default?: unknown }>;
}

function describeLoadError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frame = err.stack?.split('\n').find((l) => l.includes('file://') && !l.includes('node_modules'));
  return frame ? `${err.message}\n  ${frame.trim()}` : err.message;
}

/** Checks the shape of a playbook object; a clear error names the file and the missing field. */
export function validatePlaybook(file: string, value: unknown): Playbook {
  if (!value || typeof value !== 'object') {
    throw new PlaybookError(`${file}: must default-export a playbook: export default definePlaybook({ name, hosts, tasks })`);
  }
  const pb = value as Record<string, unknown>;
  const missing = ['name', 'hosts', 'tasks'].filter((k) => pb[k] === undefined);
  if (missing.length > 0) {
    throw new PlaybookError(`${file}: the exported playbook has no ${missing.join(', ')}`);
  }
  if (typeof pb.hosts !== 'string') throw new PlaybookError(`${file}: hosts must be a host pattern string`);
  if (typeof pb.tasks !== 'function' && !Array.isArray(pb.tasks)) {
    throw new PlaybookError(`${file}: tasks must be a list of tasks or a function returning one`);
  }
  return value as Playbook;
}
