// Splits a host list into rollout batches the way Ansible's `serial` does (numbers, percentages, ramps).
import { InputError } from '../errors.js';

export type Serial = number | string | ReadonlyArray<number | string> | undefined;

function parseStep(step: number | string, total: number): number {
  const text = String(step).trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  if (!m) throw new InputError(`serial: ${JSON.stringify(text)} is not a number or a percentage`);
  const value = Number(m[1]);
  // Ansible rounds a percentage down, but never to fewer than one host.
  const size = m[2] ? Math.floor((total * value) / 100) : Math.floor(value);
  return Math.max(1, size);
}

/** Parses `5`, `25%`, `1,10%,100%` or an array of those into batch steps. */
export function parseSerial(serial: Serial): Array<number | string> {
  if (serial === undefined || serial === '') return [];
  if (Array.isArray(serial)) return [...serial];
  if (typeof serial === 'number') return [serial];
  return String(serial)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Splits hosts into batches: each step in turn, the last step repeating until all hosts are in a batch.
 * No serial (or 0) means one batch of everything.
 */
export function splitBatches(hosts: readonly string[], serial: Serial): string[][] {
  const steps = parseSerial(serial);
  if (steps.length === 0 || hosts.length === 0 || (steps.length === 1 && Number(steps[0]) === 0)) {
    return hosts.length === 0 ? [] : [[...hosts]];
  }
  const batches: string[][] = [];
  let i = 0;
  let stepIndex = 0;
  while (i < hosts.length) {
    const step = steps[Math.min(stepIndex, steps.length - 1)] as number | string;
    const size = parseStep(step, hosts.length);
    batches.push(hosts.slice(i, i + size));
    i += size;
    stepIndex++;
  }
  return batches;
}

/**
 * Why a finished batch halts the rollout, or undefined: any failure with any-errors-fatal, or a share of failed (and
 * unreachable) hosts over the maximum. One rule for one controller and for a batch merged from shards.
 */
export function haltReason(failed: readonly string[], batchSize: number, index: number, maxFail: number | undefined, anyErrorsFatal: boolean): string | undefined {
  if (failed.length === 0) return undefined;
  if (anyErrorsFatal) return `any errors fatal: ${failed.join(', ')} failed`;
  if (maxFail !== undefined && (failed.length / batchSize) * 100 > maxFail) {
    return `${failed.length} of ${batchSize} hosts of batch ${index + 1} failed, over the maximum of ${maxFail}%`;
  }
  return undefined;
}
