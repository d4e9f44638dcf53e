// Exit codes, mapped in one place and close to ansible-core's.
import type { RunReport } from '../runner/events.js';

export const exitCodes = {
  ok: 0,
  /** Bad input: options, an inventory or playbook that cannot be parsed or loaded. */
  badInput: 1,
  /** A host failed. */
  hostFailed: 2,
  /** A host was unreachable (and none failed). */
  hostUnreachable: 4,
  /** The rollout halted (max fail percentage, any errors fatal). */
  halted: 8,
  /** `--check --detailed-exitcode`: no host failed, and changes are pending on at least one. */
  changesPending: 10,
  /** Interrupted by SIGINT or SIGTERM. */
  interrupted: 99,
  /** A bug in provision itself. */
  internal: 250,
} as const;

/** The exit code a finished run ends with. */
export function exitCodeFor(report: RunReport): number {
  if (report.interrupted) return exitCodes.interrupted;
  if (report.halted) return exitCodes.halted;
  const statuses = Object.values(report.hosts).map((h) => h.status);
  if (statuses.includes('failed')) return exitCodes.hostFailed;
  if (statuses.includes('unreachable')) return exitCodes.hostUnreachable;
  return exitCodes.ok;
}
