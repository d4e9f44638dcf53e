// Loads a user's TypeScript playbook at run time (no build step) and checks that it exports a playbook.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire, SourceMap } from 'node:module';
import { dirname, extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Message, Plugin } from 'esbuild';
import { PlaybookError } from '../errors.js';
import { readCompiled, writeCompiled, type ResolvedPackage } from './compile-cache.js';
import type { Playbook } from './types.js';

/**
 * Imports `file`: esbuild compiles it and its relative imports into one module in memory, imported from a data:
 * URL, with every package import pointed at the file Node would load from the playbook's folder ('provision'
 * itself at this very library, so the playbook and the runner share one instance). This costs a few
 * milliseconds, where a loader hook thread costs a tenth of a second; a package only importable as ESM falls back
 * to tsx's loader.
 */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const plays = await loadPlays(file);
  if (plays.length > 1) throw new PlaybookError(`${file}: exports ${plays.length} plays where one was expected`);
  return plays[0] as Playbook;
}

/**
 * The plays of a playbook file: its default export is one play (`definePlaybook({...})`) or several in an array,
 * run in order as Ansible runs a multi-play playbook.
 */
export async function loadPlays(file: string): Promise<Playbook[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new PlaybookError(`${file}: no such playbook file`);
  let mod: { default?: unknown };
  try {
    mod = await importPlaybook(path);
  } catch (err) {
    if (err instanceof PlaybookError) throw err;
    // a top-level throw: the playbook's own line, not this loader's
    const at = playbookLocation(err);
    throw new PlaybookError(`${at ?? file}: the playbook does not load: ${err instanceof Error ? err.message : String(err)}`);
  }
  // tsx may wrap a module's exports once more under `default`.
  let pb = mod.default;
  if (pb && typeof pb === 'object' && 'default' in pb && !('tasks' in pb)) pb = (pb as { default: unknown }).default;
  if (!Array.isArray(pb)) return [validatePlaybook(file, pb)];
  if (pb.length === 0) throw new PlaybookError(`${file}: exports an empty list of plays`);
  return pb.map((play, i) => validatePlaybook(`${file}: play ${i + 1}`, play));
}

class UnresolvedImport extends Error {}

const loaders: Record<string, 'ts' | 'tsx' | 'js' | 'jsx'> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' };

/**
 * The bundle runs from a data: URL, so `import.meta.url`, `import.meta.dirname` and `import.meta.filename` in the
 * playbook and the files it imports are replaced, file by file, with that file's own values (packages keep theirs).
 */
const ownImportMeta: Plugin = {
  name: 'own-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      const loader = loaders[extname(args.path)];
      if (args.path.includes('/node_modules/') || !loader) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const own: Record<string, string> = { url: pathToFileURL(args.path).href, dirname: dirname(args.path), filename: args.path };
      const contents = text.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, key: string) => JSON.stringify(own[key]));
      return { contents, loader };
    });
  },
};

/** A package import that require.resolve could not find, where the playbook (or a file it imports) has it. */
interface Unresolved {
  name: string;
  at: string;
}

/** The version of the esbuild this library compiles with, read from its package.json (not by loading esbuild). */
function esbuildVersion(): string {
  const require = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The playbook as one ES module's text, or the package imports that need Node's own ESM loader (found nowhere
 * else: ESM-only packages, or packages that are not installed). The text is the compile cache's when nothing it
 * was made from has changed since (compile-cache.ts); esbuild is loaded only to compile.
 */
async function bundle(path: string): Promise<string | Unresolved[]> {
  // this library's entry, beside src/playbook/; in the bundle this code is in dist/chunks/ or dist/cli/, also one
  // folder below dist/index.js (scripts/bundle.mjs checks it), so the CLI and the playbook share every module
  const self = new URL('../index.js', import.meta.url).href;
  const cached = readCompiled(path, self, esbuildVersion);
  if (cached !== undefined) return cached;
  const { build, version } = await import('esbuild');
  const require = createRequire(path);
  const resolved: ResolvedPackage[] = [];
  const packages: Plugin = {
    name: 'packages-by-url',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        if (args.path === 'provision') return { path: self, external: true };
        try {
          const href = pathToFileURL(require.resolve(args.path)).href;
          resolved.push({ specifier: args.path, href });
          return { path: href, external: true };
        } catch {
          // an error returned (not thrown) carries the importing line's location
          return { errors: [{ text: `Could not resolve "${args.path}"`, detail: new UnresolvedImport(args.path) }] };
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
      metafile: true,
      plugins: [packages, ownImportMeta],
    });
    const code = result.outputFiles[0]?.text ?? '';
    const sources = Object.keys(result.metafile.inputs).map((input) => resolve(input));
    writeCompiled(path, self, version, sources, resolved, code);
    return code;
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? [];
    const unresolved = errors.filter((e) => e.detail instanceof UnresolvedImport);
    if (unresolved.length > 0) {
      return unresolved.map((e) => ({
        name: (e.detail as UnresolvedImport).message,
        at: e.location ? `${shown(resolve(e.location.file))}:${e.location.line}:${e.location.column + 1}` : path,
      }));
    }
    if (errors.length > 0) {
      throw new PlaybookError(
        errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join('\n'),
      );
    }
    throw err;
  }
}

/** The package of an import specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Source maps of the loaded bundles, by the data: URL they run from (Node 20 maps no stack of a data: module). */
const sourceMaps = new Map<string, SourceMap>();

async function importPlaybook(path: string): Promise<{ default?: unknown }> {
  const code = await bundle(path);
  if (typeof code === 'string') {
    const url = `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
    const map = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
    if (map) sourceMaps.set(url, new SourceMap(JSON.parse(Buffer.from(map[1]!, 'base64').toString('utf8'))));
    return import(url);
  }
  // Node's own ESM resolution, through tsx's loader hooks, for imports `require.resolve` cannot find.
  const { tsImport } = await import('tsx/esm/api');
  try {
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
  } catch (err) {
    // Not an ESM-only package but one that is not installed: name it, where it is imported.
    const e = err as { code?: string; message?: string };
    const missing = code.find((u) => e.message?.includes(`'${u.name}'`)) ?? code[0];
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(e.message ?? '')) && missing) {
      throw new PlaybookError(
        `${missing.at}: cannot find the package "${missing.name}" imported here: install it in the playbook's project (npm install ${packageName(missing.name)})`,
      );
    }
    throw err;
  }
}

/**
 * A module file of the user's (an ad-hoc `-m ./my-module.ts`), compiled and imported as a playbook is: its exports.
 * Running it is the user's choice, named on the command line.
 */
export async function importModuleFile(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  if (!existsSync(path)) throw new PlaybookError(`${file}: no such module file`);
  try {
    return (await importPlaybook(path)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof PlaybookError) throw err;
    throw new PlaybookError(`${playbookLocation(err) ?? file}: the module file does not load: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Where in the user's own files (the playbook and what it imports, not a package) an error was thrown or a module
 * called: `playbooks/site.ts:12:5`, relative to the working directory; undefined when no frame is theirs.
 */
export function playbookLocation(err: unknown): string | undefined {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  for (const line of stack.split('\n').slice(1)) {
    const frame = /\(?((?:data:text\/javascript;base64,[A-Za-z0-9+/=]+)|file:\/\/[^\s)]+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!frame) continue;
    const [, where, l, c] = frame;
    const map = sourceMaps.get(where!);
    if (map) {
      const entry = map.findEntry(Number(l) - 1, Number(c) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
      if (!entry.originalSource || entry.originalSource.includes('node_modules')) continue;
      const file = entry.originalSource.startsWith('file://') ? new URL(entry.originalSource).pathname : resolve(entry.originalSource);
      return `${shown(file)}:${(entry.originalLine ?? 0) + 1}:${(entry.originalColumn ?? 0) + 1}`;
    }
    // a playbook loaded through tsx (its stacks are mapped already): a file of the user's, outside this library
    if (where!.startsWith('file://') && !where!.includes('/node_modules/') && !where!.startsWith(libraryRoot)) {
      return `${shown(new URL(where!).pathname)}:${l}:${c}`;
    }
  }
  return undefined;
}

/** A path as the user knows it: relative to the working directory when under it. */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

/** This library's own folder (dist/ or src/): frames there are provision's, not the playbook's. */
const libraryRoot = new URL('../', import.meta.url).href;


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
