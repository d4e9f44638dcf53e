// Bundles the library and the CLI after tsc (which writes only the .d.ts files, for types): ONE esbuild build with
// code splitting whose entry points are the CLI (dist/cli/main.js, loaded by bin/provision.js) and the library
// (dist/index.js, what `import 'provision'` resolves to, a user's playbook included). The two share their chunks, so a
// run has one copy of each module: an InputError a playbook throws is the class the CLI checks with instanceof. The
// dynamic import()s in the code (the inventory, the SSH stack, the engine, the HTML report, …) stay separate chunks,
// loaded when a run needs them.
//
// Where the files go matters: code that finds its way by `import.meta.url` (the library's own entry in
// src/playbook/load.ts, package.json in src/cli/main.ts) was written for a file one folder below dist/, as src/cli/
// and src/playbook/ are; every output but dist/index.js is one folder below dist/ too (dist/cli/, dist/chunks/), so
// `../index.js` and `../../package.json` still point where they did. The build checks it (placement below).
//
// The packages the code imports are bundled too (commander, node-ssh and ssh2 in the SSH stack's lazy chunk, p-limit,
// ssh-config, leven, listr2 in its lazy chunk, zod), but these, which Node loads from node_modules as before:
// - the native bindings (ssh2's crypto, cpu-features): a `.node` file is required by its path in its package, found
//   in node_modules at run time (bundled, it would never be found and ssh2 would fall back to its slower JavaScript
//   ciphers without a word);
// - bullmq, ioredis, pg: the engine's, loaded only by `provision engine`/`--engine` runs, and large;
// - esbuild and tsx: they find their own binaries and loader files by their package's location.
// yaml, nunjucks, ejs and diff are loaded with createRequire() where they are first needed (the code asks for them by
// name at run time), so they stay out of the bundle and out of a run that does not need them.
// A bundled CommonJS package calls require() for Node's builtins: each output file defines one (the banner).
// Set BUNDLE_METAFILE=file to keep esbuild's metafile (which source went into which output, and its imports).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dist = join(root, 'dist');

/** zod's `locales` namespace with English only: the other locales are never configured. */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/zod/') ? { path: 'zod-locales', namespace: 'zod-locales', pluginData: join(args.resolveDir, dirname(args.path)) } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: args.pluginData,
    }));
  },
};

/**
 * zod, minified whole (its identifiers too) in a first build, then bundled as one module: 193 KB where its code
 * as the main build writes it (whitespace and syntax only, so that the project's own stack frames keep their names)
 * is 305 KB, and every run parses it.
 */
const zod = await build({
  absWorkingDir: root,
  stdin: { contents: "export { z } from 'zod';\n", resolveDir: root, loader: 'js' },
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [englishOnly],
});
const zodMinified = {
  name: 'zod-minified',
  setup(b) {
    b.onResolve({ filter: /^zod$/ }, () => ({ path: 'zod', namespace: 'zod-minified' }));
    b.onLoad({ filter: /.*/, namespace: 'zod-minified' }, () => ({ contents: zod.outputFiles[0].text, loader: 'js' }));
  },
};

/** A file of an installed package as `package/path/in/it` (node_modules may be a link: its real path is given). */
const inPackages = (path) => {
  const at = path.lastIndexOf('/node_modules/');
  return at < 0 ? undefined : path.slice(at + '/node_modules/'.length);
};

/** The packages left to Node's resolution (see the top of this file); every other import is bundled. */
const external = ['cpu-features', 'bullmq', 'ioredis', 'pg', 'esbuild', 'tsx'];
const packagesExternal = {
  name: 'packages-external',
  setup(b) {
    // ssh2's optional native binding, required from beside its own file: left where it is, required by its path in
    // its package (the bundle's require() resolves it from node_modules at run time)
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const file = inPackages(resolve(args.resolveDir, args.path));
      if (file === undefined) throw new Error(`${args.path}: a native binding outside node_modules, imported by ${args.importer}`);
      return { path: file, external: true };
    });
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.split('/')[0];
      return external.includes(name) ? { path: args.path, external: true } : undefined;
    });
  },
};

/**
 * ssh2's CommonJS files that use __dirname or __filename (its poly1305 loader, its Windows agent) get their own,
 * where the file is in node_modules at run time (resolved as its native binding is), not the bundle's. (No other
 * bundled package uses them but in comments; ssh2 has no "exports" map, so its files resolve by their path.)
 */
const ownDirname = {
  name: 'own-dirname',
  setup(b) {
    b.onLoad({ filter: /\/node_modules\/ssh2\/.*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!/\b__(dirname|filename)\b/.test(text)) return undefined;
      const file = inPackages(args.path);
      const own = `var __filename = require.resolve(${JSON.stringify(file)}), __dirname = require("node:path").dirname(__filename);\n`;
      return { contents: own + text, loader: 'js' };
    });
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  metafile: true,
  banner: { js: "import { createRequire as __provisionRequire } from 'node:module'; const require = __provisionRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [zodMinified, packagesExternal, ownDirname],
});

if (process.env.BUNDLE_METAFILE) (await import('node:fs')).writeFileSync(process.env.BUNDLE_METAFILE, JSON.stringify(result.metafile));
const outputs = Object.keys(result.metafile.outputs).map((o) => resolve(root, o));

/** The source files whose code resolves paths from its own import.meta.url: each must land one folder below dist/. */
const placed = ['src/playbook/load.ts', 'src/cli/main.ts'];
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  const depth = relative(dist, resolve(root, out)).split('/').length;
  for (const input of placed) {
    if (meta.inputs[input] && depth !== 2) throw new Error(`${input} was bundled into ${out}, not one folder below dist/: its import.meta.url paths would be wrong`);
  }
}

// Each native binding left external must resolve from where the bundle requires it.
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  for (const imp of meta.imports) if (imp.external && imp.path.endsWith('.node')) createRequire(resolve(root, out)).resolve(imp.path);
}

// What tsc wrote before (a build of the files one by one) or an older build left: JavaScript no entry loads. Left
// there it could be imported by its path, a second copy of its modules beside the bundle's.
const kept = new Set(outputs);
const sweep = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      sweep(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (/\.js(\.map)?$/.test(name) && !kept.has(path)) {
      rmSync(path);
    }
  }
};
sweep(dist);
