// Runs commands on the controller itself (ansible_connection=local), through the same shell snippets as SSH.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { ConnectionError, CommandError } from '../errors.js';
import { toScript } from './quote.js';
import { atomicWriteScript, missingFileCode, prepareCommand, readFileScript, sudoProbe, timeoutScript } from './shell-ops.js';
import type {
  BecomeSettings,
  Command,
  Connection,
  ExecOptions,
  ExecResult,
  WriteFileOptions,
} from './types.js';
import { collectOutput } from './output.js';
import { RequestStats } from './stats.js';

export class LocalConnection implements Connection {
  readonly stats = new RequestStats();
  private passwordNeeded: Promise<boolean> | undefined;

  private readonly become: BecomeSettings;

  constructor(
    readonly host: string,
    become: BecomeSettings = { become: false },
  ) {
    this.become = { ...become, loginUser: userInfo().username };
  }

  async exec(cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    const becoming = opts.become ?? this.become.become;
    const needsPw = becoming && this.become.becomePassword !== undefined ? await this.probeSudo() : false;
    // coreutils `timeout` kills the command's whole process group; killing `sh` alone would leave its children.
    const script = opts.timeoutMs ? timeoutScript(toScript(cmd), opts.timeoutMs) : cmd;
    const prepared = prepareCommand(script, opts, this.become, needsPw);
    const started = Date.now();
    const r = await this.spawnScript(prepared.script, prepared.stdin, {
      ...opts,
      timeoutMs: opts.timeoutMs ? opts.timeoutMs + 3000 : undefined,
    });
    // `timeout` exits 137 when the command ignored TERM and needed KILL: still a timeout.
    if (r.code === 137 && opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs) r.code = 124;
    return r;
  }

  private probeSudo(): Promise<boolean> {
    this.passwordNeeded ??= this.spawnScript(sudoProbe, undefined, {}).then((r) => r.code !== 0);
    return this.passwordNeeded;
  }

  private spawnScript(script: string, stdin: Buffer | undefined, opts: ExecOptions): Promise<ExecResult> {
    this.stats.begin();
    this.stats.channels++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out = collectOutput(opts.maxOutput);
      child.stdout.on('data', (d: Buffer) => out.stdout(d));
      child.stderr.on('data', (d: Buffer) => out.stderr(d));
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (opts.timeoutMs) {
        timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, opts.timeoutMs);
      }
      child.on('error', (err) => reject(new ConnectionError(`${this.host}: cannot run /bin/sh: ${err.message}`)));
      child.on('close', (code, signal) => {
        this.stats.end();
        if (timer) clearTimeout(timer);
        const r = out.result(code ?? (signal ? 128 + 15 : 1));
        if (timedOut) r.code = 124;
        resolve(r);
      });
      child.stdin.on('error', () => {}); // the command may exit before reading all of stdin
      child.stdin.end(stdin ?? Buffer.alloc(0));
    });
  }

  async readFile(path: string, opts: { become?: boolean } = {}): Promise<Buffer | null> {
    const r = await this.execRaw(readFileScript(path), opts.become);
    if (r.code === missingFileCode) return null;
    if (r.code !== 0) throw new CommandError(`read ${path}`, r.code, '', r.stderr);
    return r.raw;
  }

  /** Like exec, but keeps stdout as bytes (files may be binary). */
  private async execRaw(script: string, become?: boolean): Promise<{ code: number; raw: Buffer; stderr: string }> {
    const becoming = become ?? this.become.become;
    const needsPw = becoming && this.become.becomePassword !== undefined ? await this.probeSudo() : false;
    const prepared = prepareCommand(script, { become }, this.become, needsPw);
    this.stats.begin();
    this.stats.channels++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', prepared.script], { stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err) => reject(new ConnectionError(`${this.host}: ${err.message}`)));
      child.on('close', (code) => {
        this.stats.end();
        resolve({ code: code ?? 1, raw: Buffer.concat(chunks), stderr });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(prepared.stdin ?? Buffer.alloc(0));
    });
  }

  async writeFile(path: string, content: string | Buffer, opts: WriteFileOptions = {}): Promise<void> {
    const body = Buffer.from(content);
    const r = await this.exec(atomicWriteScript(path, body, opts), { stdin: body, become: opts.become });
    if (r.code !== 0) throw new CommandError(`write ${path}`, r.code, r.stdout, r.stderr);
  }

  async close(): Promise<void> {}
}
