// Runs a command (argv, no shell) or a shell script, idempotent only through its creates/removes guards.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { posix } from 'node:path';
import { quoteArgv, sh } from '../connection/quote.js';
import type { Command } from '../connection/types.js';
import { CommandError, InputError, MissingOnHostError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { splitArgs } from './lib/sys/split-args.js';

const runShape = {
  /** A path: when it exists, the command is not run (ok). Relative paths resolve against chdir. */
  creates: z.string().optional(),
  /** A path: when it does not exist, the command is not run (ok). */
  removes: z.string().optional(),
  /** Directory to run in. */
  chdir: z.string().optional(),
  /** Extra environment variables. */
  env: z.record(z.string(), z.string()).optional(),
  /** Text written to the command's standard input. */
  stdin: z.string().optional(),
};

const commandSchema = moduleSchema({
  ...runShape,
  /** argv, or a string split into words as Ansible's command does (quotes honoured; no pipes, redirects or variables). */
  cmd: z.union([z.string(), z.array(z.string()).readonly()]),
});
export type CommandParams = z.input<typeof commandSchema>;

const shellSchema = moduleSchema({
  ...runShape,
  /** A shell script: pipes, redirects, variables and `&&` work. */
  cmd: z.string(),
  /** The shell that runs the script (default: sh). */
  executable: z.string().optional(),
});
export type ShellParams = z.input<typeof shellSchema>;
type RunOptions = Omit<CommandParams, 'cmd'>;

interface RunData {
  command: Command;
  display: string;
}

/** Runs a program with arguments, no shell involved; without a guard it always reports changed. */
export function command(params: CommandParams): Task {
  checkParams('command', commandSchema, params);
  const argv = typeof params.cmd === 'string' ? splitArgs(params.cmd) : [...params.cmd];
  if (argv.length === 0 || argv[0] === '') throw new InputError('command: cmd is empty');
  validateRunOptions(params, 'command');
  const display = typeof params.cmd === 'string' ? params.cmd : quoteArgv(argv);
  return defineRun('command', params, { command: argv, display });
}

/** Runs a shell script through sh (or `executable`); without a guard it always reports changed. */
export function shell(params: ShellParams): Task {
  checkParams('shell', shellSchema, params);
  if (params.cmd.trim() === '') throw new InputError('shell: cmd is empty');
  validateRunOptions(params, 'shell');
  const cmd: Command = params.executable ? [params.executable, '-c', params.cmd] : params.cmd;
  return defineRun('shell', params, { command: cmd, display: params.cmd });
}

function validateRunOptions(p: RunOptions, what: string): void {
  for (const field of ['creates', 'removes', 'chdir'] as const) {
    const v = p[field];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new InputError(`${what}: ${field} must be a non-empty path`);
  }
  for (const key of Object.keys(p.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InputError(`${what}: ${JSON.stringify(key)} is not an environment variable name`);
  }
}

function defineRun(module: string, params: RunOptions, data: RunData): Task {
  const firstLine = data.display.split('\n')[0] ?? '';
  return defineTask(module, firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine, params, {
    // A command may change anything; its check reads only its guards (relative ones under chdir).
    footprint: {
      reads: [
        ...[params.creates, params.removes]
          .filter((p): p is string => p !== undefined)
          .map((p) => ({ path: p.startsWith('/') || params.chdir === undefined ? p : `${params.chdir}/${p}` })),
        ...(params.chdir === undefined ? [] : [{ path: params.chdir }]),
      ],
      writes: 'anything',
    },
    check: (ctx) => planRun(ctx, params, data),
    async apply(ctx, plan) {
      const d = plan.data as RunData;
      const r = await ctx.exec(d.command, { cwd: params.chdir, env: params.env, stdin: params.stdin });
      if (r.code !== 0) throw new CommandError(d.display, r.code, r.stdout, r.stderr);
      return { changed: true, summary: `ran: ${d.display}`, stdout: r.stdout, stderr: r.stderr, rc: r.code };
    },
  });
}

/** Reads the guards in one round trip; without guards the command must run. */
async function planRun(ctx: TaskContext, p: RunOptions, data: RunData): Promise<Plan> {
  const resolve = (path: string) => (p.chdir && !posix.isAbsolute(path) ? posix.join(p.chdir, path) : path);
  const checks: string[] = [];
  // A missing chdir fails the real run: --check says so too (or predicts it, when an earlier planned change makes it).
  if (p.chdir !== undefined) checks.push(sh`[ -d ${p.chdir} ] || echo chdir-missing`);
  if (p.creates !== undefined) checks.push(sh`[ -e ${resolve(p.creates)} ] && echo creates-exists`);
  if (p.removes !== undefined) checks.push(sh`[ -e ${resolve(p.removes)} ] && echo removes-exists`);
  if (checks.length > 0) {
    const r = await ctx.exec([...checks, 'return 0'].join('\n'), { inline: true });
    const seen = new Set(r.stdout.split('\n'));
    if (p.chdir !== undefined && seen.has('chdir-missing')) {
      throw new MissingOnHostError(`chdir ${p.chdir} is not a directory on ${ctx.host}`, [{ path: p.chdir, tree: true }]);
    }
    if (p.creates !== undefined && seen.has('creates-exists')) return noChange(`skipped, since ${p.creates} exists`);
    if (p.removes !== undefined && !seen.has('removes-exists')) return noChange(`skipped, since ${p.removes} does not exist`);
  }
  return change(`would run: ${data.display}`, { data });
}
