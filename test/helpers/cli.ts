// Runs the built `provision` CLI (and other programs) as a user would, capturing exit code, stdout and stderr.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '../../src/runner/events.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'bin', 'provision.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program, capturing its exit code and output; never throws on a non-zero exit (the caller asserts). */
export function runCaptured(
  command: string,
  args: string[],
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // a program that exits before reading its input (ssh to a host that is down) closes the pipe: its exit code and
    // output say what happened, not an EPIPE thrown into the test
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export function runCli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runCaptured(process.execPath, [cliPath, ...args], { cwd: opts.cwd ?? repoRoot, input: opts.input, env: { ...process.env, CI: '1', ...opts.env } });
}

/** Parses the JSON report a `--json` run printed on stdout. */
export function parseReport(stdout: string): RunReport {
  try {
    return JSON.parse(stdout) as RunReport;
  } catch {
    throw new Error(`stdout is not a JSON report:\n${stdout}`);
  }
}
