// Ansible's `omit`: a per-run placeholder; a module parameter whose value is it is left out, as if never given.

import { createHash, randomBytes } from 'node:crypto';

/** The value of the `omit` variable for this run (Ansible's form: `__omit_place_holder__` and a random sha1). */
export const OMIT = `__omit_place_holder__${createHash('sha1').update(randomBytes(64)).digest('hex')}`;

/** Removes every key whose value is OMIT, in mappings and lists of mappings too (Ansible's remove_omit). */
export function removeOmitted(params: Record<string, unknown>): void {
  // a frozen object cannot lose a key: the schema then refuses the placeholder by the parameter's name
  if (Object.isFrozen(params)) return;
  for (const [k, v] of Object.entries(params)) {
    if (v === OMIT) delete params[k];
    else if (Array.isArray(v)) {
      for (const item of v) if (isPlain(item)) removeOmitted(item);
      if (v.includes(OMIT)) params[k] = v.filter((x) => x !== OMIT);
    } else if (isPlain(v)) removeOmitted(v);
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && !Object.isFrozen(v);
}
