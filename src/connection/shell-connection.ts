// What every transport shares once it can run `sh -c script`: timeouts, sudo, reading and atomic writing of files.
import { CommandError } from '../errors.js';
import { collectOutput } from './output.js';
import { toScript } from './quote.js';
import { atomicWriteScript, missingFileCode, prepareCommand, readFileScript, sudoProbe, timeoutScript } from './shell-ops.js';
import { RequestStats } from './stats.js';
import type { BecomeSettings, Command, Connection, ExecOptions, ExecResult, WriteFileOptions } from './types.js';

/** Where a command's output goes as it arrives. */
export interface Sink {
  stdout(d: Buffer): void;
  stderr(d: Buffer): void;
}

/** Extra time past a command's own timeout (enforced on the host by `timeout`) before the transport gives up on it. */
const timeoutGraceMs = 5000;

/**
 * A transport implements `run` (a script, its stdin, where its output goes); this class builds every operation of
 * the Connection interface on it, the same way for a local shell and an SSH one.
 */
export abstract class ShellConnection implements Connection {
  readonly stats = new RequestStats();
  private passwordNeeded: Promise<boolean> | undefined;

  protected constructor(
    readonly host: string,
    /** Become settings, with the user this transport logs in as. */
    protected readonly become: BecomeSettings,
  ) {}

  /**
   * Runs `sh -c script` with `stdin`, streaming its output to `sink`; resolves the exit code, with `timedOut` when
   * the transport had to abandon it after `timeoutMs`. Throws ConnectionError when the transport fails.
   */
  protected abstract run(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number): Promise<{ code: number; timedOut: boolean }>;

  abstract close(): Promise<void>;

  async exec(cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    // coreutils `timeout` kills the command's whole process group on the host; the transport's own limit is a backstop.
    const script = opts.timeoutMs ? timeoutScript(toScript(cmd), opts.timeoutMs) : cmd;
    const prepared = prepareCommand(script, opts, this.become, await this.needsPassword(opts.become));
    const out = collectOutput(opts.maxOutput);
    const started = Date.now();
    const { code, timedOut } = await this.run(prepared.script, prepared.stdin, out, opts.timeoutMs ? opts.timeoutMs + timeoutGraceMs : undefined);
    // `timeout` exits 137 when the command ignored TERM and needed KILL: still a timeout.
    const killedLate = code === 137 && opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs;
    return out.result(timedOut || killedLate ? 124 : code);
  }

  async readFile(path: string, opts: { become?: boolean } = {}): Promise<Buffer | null> {
    const prepared = prepareCommand(readFileScript(path), { become: opts.become }, this.become, await this.needsPassword(opts.become));
    const chunks: Buffer[] = [];
    const err = collectOutput();
    const { code } = await this.run(prepared.script, prepared.stdin, { stdout: (d) => chunks.push(d), stderr: (d) => err.stderr(d) });
    if (code === missingFileCode) return null;
    if (code !== 0) throw new CommandError(`read ${path}`, code, '', err.result(code).stderr);
    return Buffer.concat(chunks);
  }

  async writeFile(path: string, content: string | Buffer, opts: WriteFileOptions = {}): Promise<void> {
    const body = Buffer.from(content);
    const r = await this.exec(atomicWriteScript(path, body, opts), { stdin: body, become: opts.become });
    if (r.code !== 0) throw new CommandError(`write ${path}`, r.code, r.stdout, r.stderr);
  }

  /** Whether sudo asks this user for a password: probed once, only when becoming with a password at hand. */
  private async needsPassword(become: boolean | undefined): Promise<boolean> {
    if (!(become ?? this.become.become) || this.become.becomePassword === undefined) return false;
    this.passwordNeeded ??= this.run(sudoProbe, undefined, { stdout() {}, stderr() {} }).then((r) => r.code !== 0);
    return this.passwordNeeded;
  }
}
