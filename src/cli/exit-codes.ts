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

/**
 * A coordinator's Ctrl-C (run --engine, resume): the first aborts the signal (no new batch; the workers stop their
 * running shards after their task), a second exits at once with `interrupted`. `release` takes the handlers off.
 */
export function coordinatorSignals(): { signal: AbortSignal; release(): void } {
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      process.stderr.write(`\nprovision: ${signal} again: exiting now; the workers stop their shards after their task\n`);
      process.exit(exitCodes.interrupted);
    }
    process.stderr.write(`provision: ${signal}: no new batch starts; running shards stop after their task (again to exit at once)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
