// Prints a message for a host (as Ansible's debug): where a site is served, a value worth seeing.
import { z } from './lib/zod.js';
import { defineTask, noChange, type Task } from '../playbook/types.js';
import { checkParams, moduleSchema } from './lib/schema.js';

const debugSchema = moduleSchema({
  /** The message; shown in the progress output and recorded as the task's summary. */
  msg: z.string(),
});
export type DebugParams = z.input<typeof debugSchema>;

/** A task that changes nothing and always shows its message. */
export function debug(params: DebugParams): Task {
  checkParams('debug', debugSchema, params);
  return defineTask('debug', params.name ?? 'debug', params, {
    footprint: { reads: [], writes: [] },
    check: async () => noChange(params.msg),
    apply: async () => {},
  });
}
