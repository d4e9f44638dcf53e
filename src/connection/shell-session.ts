// One long-lived `sh` per host, commands framed by a marker: ~0.4 ms a command instead of ~3.6 ms for a new channel.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { quote } from './quote.js';

export interface Sink {
  stdout(d: Buffer): void;
  stderr(d: Buffer): void;
}

/** Standard input past this size goes through its own exec channel (it travels base64 inside the session's script). */
export const maxSessionStdin = 256 * 1024;

/**
 * Finds an end marker in a stream, passing on everything before it. Holds back only as many bytes as could be the
 * start of a marker split across chunks, so output streams through with bounded memory.
 */
export class MarkerScanner {
  private held = Buffer.alloc(0);
  /** Bytes after the marker once found (the rest of the marker line for stdout). */
  tail: Buffer | undefined;

  constructor(
    private readonly marker: Buffer,
    private readonly emit: (d: Buffer) => void,
  ) {}

  get found(): boolean {
    return this.tail !== undefined;
  }

  push(d: Buffer): void {
    if (this.tail !== undefined) {
      this.tail = Buffer.concat([this.tail, d]);
      return;
    }
    const buf = this.held.length > 0 ? Buffer.concat([this.held, d]) : d;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      if (at > 0) this.emit(buf.subarray(0, at));
      this.held = Buffer.alloc(0);
      this.tail = buf.subarray(at + this.marker.length);
      return;
    }
    const keep = Math.min(buf.length, this.marker.length - 1);
    if (buf.length > keep) this.emit(buf.subarray(0, buf.length - keep));
    this.held = Buffer.from(buf.subarray(buf.length - keep));
  }
}

interface Running {
  sink: Sink;
  out: MarkerScanner;
  err: MarkerScanner;
  finish(result: { code: number } | Error): void;
}

/**
 * A `sh` reading commands from one exec channel. Each command runs in a subshell through `eval` (so `exit`, `cd` and
 * syntax errors stay inside it) with stdin from /dev/null or its own decoded payload, so nothing can read the
 * session's input; its stdout and stderr end with a random marker, the exit code follows the stdout marker.
 */
export class ShellSession {
  private running: Running | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private endedReason: string | undefined;
  private readonly token = randomBytes(12).toString('hex');
  private counter = 0;

  private constructor(
    private readonly channel: ClientChannel,
    private readonly onEnd: () => void,
  ) {
    channel.on('data', (d: Buffer) => this.onData('out', d));
    channel.stderr.on('data', (d: Buffer) => this.onData('err', d));
    channel.on('error', () => {});
    channel.on('close', () => this.end('the shell session ended'));
  }

  /** Opens the session's channel; `onEnd` is called once when the session ends, whatever the cause. */
  static open(client: Client, onEnd: () => void = () => {}): Promise<ShellSession> {
    return new Promise((resolve, reject) => {
      // `exec sh` so the login shell does not stay in between.
      client.exec('exec sh', (err, channel) => (err ? reject(err) : resolve(new ShellSession(channel, onEnd))));
    });
  }

  get alive(): boolean {
    return this.endedReason === undefined;
  }

  /** Ends the session (a command that overran its time, or the connection closing): a running command fails. */
  end(reason: string): void {
    if (this.endedReason !== undefined) return;
    this.endedReason = reason;
    this.onEnd();
    this.running?.finish(new Error(reason));
    this.running = undefined;
    try {
      this.channel.close();
    } catch {
      // already closed
    }
  }

  /** Runs one script (queued behind the session's current one); resolves with its exit code. */
  run(script: string, stdin: Buffer | undefined, sink: Sink): Promise<{ code: number }> {
    const result = this.tail.then(() => this.runNow(script, stdin, sink));
    this.tail = result.catch(() => {});
    return result;
  }

  private runNow(script: string, stdin: Buffer | undefined, sink: Sink): Promise<{ code: number }> {
    if (this.endedReason !== undefined) return Promise.reject(new Error(this.endedReason));
    const marker = `__provision_${this.token}_${++this.counter}__`;
    const input =
      stdin && stdin.length > 0 ? `printf %s ${stdin.toString('base64')} | base64 -d | ` : '';
    const redirect = input ? '' : ' </dev/null';
    const line =
      `${input}( eval ${quote(script)} )${redirect}; ` +
      `printf '%s %d\\n' ${marker} $?; printf '%s\\n' ${marker} >&2\n`;
    return new Promise((resolve, reject) => {
      const running: Running = {
        sink,
        out: new MarkerScanner(Buffer.from(marker), (d) => sink.stdout(d)),
        err: new MarkerScanner(Buffer.from(marker), (d) => sink.stderr(d)),
        finish: (r) => (r instanceof Error ? reject(r) : resolve(r)),
      };
      this.running = running;
      this.channel.write(line);
    });
  }

  private onData(stream: 'out' | 'err', d: Buffer): void {
    const r = this.running;
    if (!r) return; // nothing runs: stray output of a background job, dropped
    (stream === 'out' ? r.out : r.err).push(d);
    const outTail = r.out.tail;
    if (!outTail || !r.err.found) return;
    const nl = outTail.indexOf(10);
    if (nl < 0) return;
    const code = Number(outTail.subarray(0, nl).toString('latin1').trim());
    this.running = undefined;
    r.finish({ code: Number.isInteger(code) ? code : 1 });
  }
}
