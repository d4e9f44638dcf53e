// Runs commands on the controller itself (ansible_connection=local), through the same shell snippets as SSH: one
// long-lived `sh` for the whole run (commands pipelined, provision's own scripts without a process of their own), and
// a `sh -c` of its own for a command whose stdin is too large to travel inside the session's script.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { userInfo } from 'node:os';
import { ConnectionError } from '../errors.js';
import { ShellConnection, type Sink } from './shell-connection.js';
import { maxSessionStdin, ShellSession, type SessionChannel } from './shell-session.js';
import type { BecomeSettings } from './types.js';

/** A local `sh`'s pipes as a session channel. */
function localChannel(child: ChildProcessWithoutNullStreams): SessionChannel {
  const channel = new EventEmitter();
  child.stdout.on('data', (d: Buffer) => channel.emit('data', d));
  child.on('close', () => channel.emit('close'));
  child.on('error', () => channel.emit('close'));
  child.stdin.on('error', () => {}); // the shell may be gone before all is written
  return Object.assign(channel, {
    stderr: child.stderr,
    write: (data: string) => child.stdin.write(data),
    close: () => child.kill('SIGKILL'),
  }) as unknown as SessionChannel;
}

export class LocalConnection extends ShellConnection {
  readonly sharedShell = true;
  private session: Promise<ShellSession> | undefined;
  private shell: ChildProcessWithoutNullStreams | undefined;
  /** Commands in flight on the session: while there are none, its `sh` does not keep the controller's process alive. */
  private running = 0;

  constructor(host: string, become: BecomeSettings = { become: false }) {
    super(host, { ...become, loginUser: userInfo().username });
  }

  protected run(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number, inline = false): Promise<{ code: number; timedOut: boolean }> {
    if ((stdin?.length ?? 0) <= maxSessionStdin) return this.runInSession(script, stdin, sink, timeoutMs, inline);
    return this.runAlone(script, stdin, sink, timeoutMs);
  }

  private openSession(): Promise<ShellSession> {
    const open = async (): Promise<ShellSession> => {
      const current = this.session ? await this.session.catch(() => undefined) : undefined;
      if (current?.alive) return current;
      this.stats.channels++;
      return ShellSession.open(async (command) => {
        const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
        this.shell = child;
        this.hold(true);
        return localChannel(child);
      });
    };
    this.session = open();
    return this.session;
  }

  /** Keeps the controller's process alive for the session's `sh` only while a command runs on it. */
  private hold(on: boolean): void {
    const child = this.shell;
    if (!child) return;
    for (const s of [child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) s.ref?.();
      else s.unref?.();
    }
    if (on) child.ref();
    else child.unref();
  }

  private async runInSession(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs: number | undefined, inline: boolean): Promise<{ code: number; timedOut: boolean }> {
    if (this.running++ === 0) this.hold(true);
    try {
      const session = await this.openSession();
      return await this.runOnSession(session, script, stdin, sink, timeoutMs, inline);
    } catch (err) {
      throw new ConnectionError(`${this.host}: the local shell failed: ${(err as Error).message}`);
    } finally {
      if (--this.running === 0) this.hold(false);
    }
  }

  /** One `sh -c` for one command (a stdin too large for the session). */
  private runAlone(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number): Promise<{ code: number; timedOut: boolean }> {
    this.stats.begin();
    this.stats.channels++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      sink.sent?.();
      child.stdout.on('data', (d: Buffer) => sink.stdout(d));
      child.stderr.on('data', (d: Buffer) => sink.stderr(d));
      let timedOut = false;
      let settled = false;
      const settle = () => {
        if (settled) return false;
        settled = true;
        this.stats.end();
        if (timer) clearTimeout(timer);
        return true;
      };
      const timer = timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, timeoutMs)
        : undefined;
      child.on('error', (err) => {
        if (settle()) reject(new ConnectionError(`${this.host}: cannot run /bin/sh: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        if (settle()) resolve({ code: code ?? (signal ? 128 + 9 : 1), timedOut });
      });
      child.stdin.on('error', () => {}); // the command may exit before reading all of stdin
      child.stdin.end(stdin ?? Buffer.alloc(0));
    });
  }

  async close(): Promise<void> {
    await this.session?.then((sh) => sh.end('closed'), () => {});
  }
}
