// Prints a message for a host (as Ansible's debug): where a site is served, a value worth seeing.
import { defineTask, noChange, type CommonOptions, type Task } from '../playbook/types.js';

export interface DebugParams extends CommonOptions {
  /** The message; shown in the progress output and recorded as the task's summary. */
  msg: string;
}

/** A task that changes nothing and always shows its message. */
export function debug(params: DebugParams): Task {
  return defineTask('debug', params.name ?? 'debug', params, {
    footprint: { reads: [], writes: [] },
    check: async () => noChange(params.msg),
    apply: async () => {},
  });
}
