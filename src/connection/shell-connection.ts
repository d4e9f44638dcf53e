// What every transport shares once it can run `sh -c script`: timeouts, sudo, reading and atomic writing of files.
import { randomBytes } from 'node:crypto';
import { CommandError, ConnectionError } from '../errors.js';
import { collectOutput } from './output.js';
import { quote, toScript } from './quote.js';
import { missingFileCode, prepareCommand, readFileScript, sudoProbe, timeoutScript, writeCommand, type PreparedCommand } from './shell-ops.js';
import { MarkerScanner, noiseKeeper, type ShellSession } from './shell-session.js';
import { RequestStats } from './stats.js';
import type { BecomeSettings, Command, Connection, ExecOptions, ExecResult, Sink, WriteFileOptions, WriteResult } from './types.js';

export type { Sink };
import { trace } from './trace.js';

/** Exit code of a command of a group that did not run because an earlier one failed. */
const groupStoppedCode = 125;

/**
 * Wraps a prepared inline command as a member of a group (see ExecOptions.group): a shell variable named after the
 * group, in the shell all the group's commands share, says whether one failed.
 */
function groupScript(prepared: PreparedCommand, opts: ExecOptions, shared: boolean): string {
  const name = `provision_failed_${opts.group ?? ''}`;
  // stdin (a sudo password among others) would put the command in a subshell, where the variable does not last
  if (!opts.inline || !shared || !/^\w+$/.test(name) || prepared.stdin !== undefined) {
    throw new Error('a group takes inline commands without stdin (nor a sudo password), on a connection whose commands share one shell');
  }
  return [
    'provision_grouped() {',
    `[ -z "\${${name}-}" ] || return ${groupStoppedCode}`,
    prepared.script,
    `set -- "$?"; [ "$1" -eq 0 ] || ${name}=1; return "$1"`,
    '}',
    'provision_grouped',
  ].join('\n');
}

/** Extra time past a command's own timeout (enforced on the host by `timeout`) before the transport gives up on it. */
const timeoutGraceMs = 5000;

/**
 * A transport implements `run` (a script, its stdin, where its output goes); this class builds every operation of
 * the Connection interface on it, the same way for a local shell and an SSH one.
 */
export abstract class ShellConnection implements Connection {
  readonly stats = new RequestStats();
  abstract readonly sharedShell: boolean;
  private passwordNeeded: Promise<boolean> | undefined;

  protected constructor(
    readonly host: string,
    /** Become settings, with the user this transport logs in as. */
    protected readonly become: BecomeSettings,
  ) {}

  /**
   * Runs `sh -c script` with `stdin`, streaming its output to `sink`; resolves the exit code, with `timedOut` when
   * the transport had to abandon it after `timeoutMs`. Throws ConnectionError when the transport fails. `inline`: the
   * script may run in a long-lived shell itself, without a subshell (see ExecOptions.inline).
   */
  protected abstract run(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number, inline?: boolean): Promise<{ code: number; timedOut: boolean }>;

  /**
   * run(), framed against a login shell that talks: the script first prints a random start marker on stdout and
   * stderr, and everything before it (a start-up file's banner, even without a newline) is dropped, never taken for
   * output. Standard input starts with a newline and the marker's own line, which the script skips up to: a start-up
   * file that reads a line takes the newline, not the content. When the marker never comes, the login shell did not
   * run the command (nologin, a restricted shell): a ConnectionError quotes what it said.
   */
  private async framedRun(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number, inline = false): Promise<{ code: number; timedOut: boolean }> {
    trace(3, this.host, `EXEC ${script}${stdin && stdin.length > 0 ? ` (stdin: ${stdin.length} bytes)` : ''}`);
    const start = `__provision_start_${randomBytes(9).toString('hex')}__`;
    // eval: a script that does not parse still comes after the marker, and fails as itself.
    let framed = `printf %s ${start}; printf %s ${start} >&2; eval ${quote(script)}`;
    let input = stdin;
    if (stdin && stdin.length > 0) {
      framed = `while IFS= read -r provision_line; do [ "$provision_line" = ${start} ] && break; done; ${framed}`;
      input = Buffer.concat([Buffer.from(`\n${start}\n`), stdin]);
    }
    const gate = (emit: (d: Buffer) => void) => {
      const noise = noiseKeeper();
      const scanner = new MarkerScanner(Buffer.from(start), noise.keep);
      let open = false;
      return {
        get found() {
          return open;
        },
        said: () => noise.text(scanner),
        push(d: Buffer) {
          if (open) return emit(d);
          scanner.push(d);
          if (!scanner.found) return;
          open = true;
          const tail = scanner.tail as Buffer;
          if (tail.length > 0) emit(tail);
        },
      };
    };
    const out = gate((d) => sink.stdout(d));
    const err = gate((d) => sink.stderr(d));
    const r = await this.run(framed, input, { stdout: (d) => out.push(d), stderr: (d) => err.push(d), sent: () => sink.sent?.() }, timeoutMs, inline && input === undefined);
    if (!out.found && !r.timedOut) {
      const said = [out.said(), err.said()].filter(Boolean).join(' / ');
      throw new ConnectionError(
        `${this.host}: the login shell did not run the command (exit ${r.code})${said ? `; it said: ${JSON.stringify(said.slice(0, 500))}` : ''} (a nologin or restricted account?)`,
      );
    }
    return r;
  }

  abstract close(): Promise<void>;

  /**
   * Runs a script on a transport's long-lived shell; past `timeoutMs` the session is ended (the next command opens
   * a fresh one) and the result is a timeout. Rejects as the session does when it fails.
   */
  protected async runOnSession(
    session: ShellSession,
    script: string,
    stdin: Buffer | undefined,
    sink: Sink,
    timeoutMs: number | undefined,
    inline: boolean,
  ): Promise<{ code: number; timedOut: boolean }> {
    this.stats.begin();
    let timedOut = false;
    const timer = timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          session.end('the command overran its timeout');
        }, timeoutMs)
      : undefined;
    try {
      const { code } = await session.run(script, stdin, sink, inline);
      return { code, timedOut: false };
    } catch (err) {
      if (timedOut) return { code: 124, timedOut: true };
      throw err;
    } finally {
      this.stats.end();
      if (timer) clearTimeout(timer);
    }
  }

  async exec(cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    this.stats.asked++;
    // coreutils `timeout` kills the command's whole process group on the host; the transport's own limit is a backstop,
    // and the only limit of an inline script (provision's own, which runs no user command).
    const hostTimeout = opts.timeoutMs !== undefined && !opts.inline;
    const script = hostTimeout ? timeoutScript(toScript(cmd), opts.timeoutMs as number) : cmd;
    const prepared = prepareCommand(script, opts, this.become, await this.needsPassword(opts.become));
    if (opts.group !== undefined) prepared.script = groupScript(prepared, opts, this.sharedShell);
    const out = collectOutput(opts.maxOutput, opts.raw);
    const started = Date.now();
    const limit = opts.timeoutMs === undefined ? undefined : opts.timeoutMs + (hostTimeout ? timeoutGraceMs : 0);
    const { code, timedOut } = await this.framedRun(prepared.script, prepared.stdin, { stdout: out.stdout, stderr: out.stderr, sent: opts.onSent }, limit, opts.inline);
    // `timeout` exits 137 when the command ignored TERM and needed KILL: still a timeout.
    const killedLate = code === 137 && opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs;
    return out.result(timedOut || killedLate ? 124 : code);
  }

  async readFile(path: string, opts: { become?: boolean } = {}): Promise<Buffer | null> {
    this.stats.asked++;
    const prepared = prepareCommand(readFileScript(path), { become: opts.become, inline: true }, this.become, await this.needsPassword(opts.become));
    const chunks: Buffer[] = [];
    const err = collectOutput();
    const { code } = await this.framedRun(prepared.script, prepared.stdin, { stdout: (d) => chunks.push(d), stderr: (d) => err.stderr(d) }, undefined, true);
    if (code === missingFileCode) return null;
    if (code !== 0) throw new CommandError(`read ${path}`, code, '', err.result(code).stderr);
    return Buffer.concat(chunks);
  }

  async writeFile(path: string, content: string | Buffer, opts: WriteFileOptions = {}): Promise<WriteResult> {
    const w = writeCommand(path, Buffer.from(content), opts);
    return w.result(await this.exec(w.script, { inline: true, become: opts.become, stdin: w.stdin }));
  }

  /** Whether sudo asks this user for a password: probed once, only when becoming with a password at hand. */
  private async needsPassword(become: boolean | undefined): Promise<boolean> {
    if (!(become ?? this.become.become) || this.become.becomePassword === undefined) return false;
    this.passwordNeeded ??= this.framedRun(sudoProbe, undefined, { stdout() {}, stderr() {} }).then((r) => r.code !== 0);
    return this.passwordNeeded;
  }
}
