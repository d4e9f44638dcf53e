// Bundles zod into dist/modules/lib/zod.js after tsc (see src/modules/lib/zod.ts): one minified file, with zod's
// locales reduced to English, the only one a run uses (z.locales is not part of what the modules call). Every run
// parses this file at start-up, so its size is CPU on every run: 756 KB as zod ships it, about a third minified
// without the forty other locales.
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

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

await build({
  entryPoints: ['dist/modules/lib/zod.js'],
  outfile: 'dist/modules/lib/zod.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  allowOverwrite: true,
  logLevel: 'warning',
  plugins: [englishOnly],
});
