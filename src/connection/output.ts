// Bounded capture of a command's output: a fleet of hundreds of hosts must not grow buffers without limit.
import type { ExecResult } from './types.js';

export const defaultMaxOutput = 1024 * 1024;

/** Collects stdout and stderr up to `max` bytes each; past that the rest is dropped and the result says so. `raw`: stdout as latin1. */
export function collectOutput(max = defaultMaxOutput, raw = false) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLen = 0;
  let errLen = 0;
  let truncated = false;
  const push = (list: Buffer[], len: number, d: Buffer): number => {
    if (len >= max) {
      truncated = true;
      return len;
    }
    const room = max - len;
    if (d.length > room) truncated = true;
    const part = d.length > room ? d.subarray(0, room) : d;
    list.push(part);
    return len + part.length;
  };
  return {
    stdout(d: Buffer) {
      outLen = push(out, outLen, d);
    },
    stderr(d: Buffer) {
      errLen = push(err, errLen, d);
    },
    result(code: number): ExecResult {
      const r: ExecResult = {
        code,
        stdout: Buffer.concat(out).toString(raw ? 'latin1' : 'utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (truncated) {
        r.truncated = true;
        r.stderr += `\n[output cut at ${max} bytes]`;
      }
      return r;
    },
  };
}
