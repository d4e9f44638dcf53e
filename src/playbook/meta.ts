// Tasks that steer the runner rather than the host, as Ansible's `meta` does.
import { defineTask, noChange, type Task } from './types.js';

export const flushHandlersModule = 'flush_handlers';

/** Runs the handlers notified so far at this point of the play, instead of after the last task. */
export function flushHandlers(): Task {
  return defineTask(flushHandlersModule, 'flush handlers', {}, {
    check: async () => noChange(),
    apply: async () => {},
  });
}
