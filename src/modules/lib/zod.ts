// zod, as the modules import it. `npm run build` (scripts/bundle.mjs) bundles zod minified into one of the library's
// files: the same zod, but one file instead of the ~95 its package loads (one a locale), which cut its share of every
// run's start-up from ~65 ms of CPU to ~20 ms. The types (zod.d.ts) stay zod's own, so what a playbook's editor shows
// does not change; without the bundling step (tsx) this file is a plain re-export and everything works the same, only
// slower to load.
export { z } from 'zod';
