// `provision resume RUN_ID --engine URL`: goes on with a rollout coordinated by `run --engine` whose coordinator was
// lost (kill -9, a machine gone), from the run's record and barriers in the engine (src/engine/coordinator.ts), and
// writes its report as `run` does. A run that had ended: its report, rebuilt, and its exit code.
import { readFileSync } from 'node:fs';
import { formatJunit } from '../report/junit.js';
import { formatRecap } from '../report/recap.js';
import { terminalSafe } from '../report/terminal-safe.js';
import { coordinatorSignals, exitCodeFor } from './exit-codes.js';
import { checkOutputPath, writeAtomic } from './output-file.js';

export interface ResumeFlags {
  engine: string;
  report?: string;
  junit?: string;
  json: boolean;
  regionTimeout?: number;
}

const version = () => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function resumeCommand(runId: string, flags: ResumeFlags): Promise<number> {
  const { resume } = await import('../engine/coordinator.js');
  if (flags.report) checkOutputPath(flags.report, '--report');
  if (flags.junit) checkOutputPath(flags.junit, '--junit');
  const out = flags.json ? process.stderr : process.stdout;
  const interrupt = coordinatorSignals();
  try {
    const { report, record, alreadyEnded } = await resume(runId, {
      engine: flags.engine,
      signal: interrupt.signal,
      say: (line) => out.write(`${terminalSafe(line)}\n`),
      ...(flags.regionTimeout !== undefined ? { regionTimeout: flags.regionTimeout } : {}),
    });
    if (alreadyEnded) out.write(`provision: run ${runId} had ended${record.ended?.interrupted ? ' (interrupted)' : ''}: its report, rebuilt from the engine\n`);
    report.version = version();
    out.write(`\n${terminalSafe(formatRecap(report))}\n`);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (flags.report) writeAtomic(flags.report, json);
    if (flags.junit) writeAtomic(flags.junit, formatJunit(report, record.play_name));
    if (flags.json) process.stdout.write(json);
    return exitCodeFor(report);
  } finally {
    interrupt.release();
  }
}
