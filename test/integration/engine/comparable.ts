// What two reports of one rollout share: the report without times, durations, `worker`, `run_id`, `shards`,
// `version`, the retry file's path (each run names its own), and a host's `requests`: how many requests
// went out together depends on timing (an apply is sent ahead while the last is on its way), so two runs of one
// rollout can differ by one; its round trips and channels are compared.
import type { RunReport } from '../../../src/runner/events.js';

export function comparable(report: RunReport): unknown {
  const r = structuredClone(report) as RunReport & Record<string, unknown>;
  for (const k of ['started', 'finished', 'duration_ms', 'version', 'run_id', 'shards', 'retry_file']) delete r[k];
  for (const h of Object.values(r.hosts) as unknown as Array<Record<string, unknown> & { tasks: Array<Record<string, unknown>> }>) {
    for (const k of ['started', 'duration_ms', 'worker', 'requests', 'round_trips']) delete h[k];
    for (const t of h.tasks) {
      delete t.duration_ms;
      delete t.started;
    }
  }
  return r;
}
