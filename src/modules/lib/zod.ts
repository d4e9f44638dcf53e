// zod, as the modules import it. `npm run build` replaces this file's compiled JS (dist/modules/lib/zod.js) with zod
// bundled into that one file by esbuild: the same zod, but one file instead of the ~95 its package loads (one a
// locale), which cut its share of every run's start-up from ~65 ms of CPU to ~20 ms. The types (zod.d.ts) stay
// zod's own, so what a playbook's editor shows does not change; without the bundling step (tsx, or tsc alone) this
// file is a plain re-export and everything works the same, only slower to load.
export { z } from 'zod';
