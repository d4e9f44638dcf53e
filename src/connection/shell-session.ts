// One long-lived `sh` per host, commands framed by a marker: ~0.4 ms a command instead of ~3.6 ms for a new channel.
import { randomBytes } from 'node:crypto';
import { quote } from './quote.js';
import type { Sink } from './types.js';

/** Standard input past this size goes through its own exec channel (it travels base64 inside the session's script). */
export const maxSessionStdin = 256 * 1024;

/** Start-up noise kept to quote in an error (a nologin message, an rbash refusal). */
const maxNoise = 4096;

/** Keeps the first bytes a stream printed before a marker that may never come; text() adds what the scanner held. */
export function noiseKeeper(): { keep: (d: Buffer) => void; text: (scanner?: MarkerScanner) => string } {
  const parts: Buffer[] = [];
  let size = 0;
  const keep = (d: Buffer) => {
    if (size < maxNoise) parts.push(d.subarray(0, maxNoise - size));
    size += d.length;
  };
  return {
    keep,
    text: (scanner) => {
      const all = scanner && !scanner.found ? [...parts, scanner.held] : parts;
      return Buffer.concat(all).subarray(0, maxNoise).toString('utf8').trim();
    },
  };
}

/**
 * Finds an end marker in a stream, passing on everything before it. Holds back only as many bytes as could be the
 * start of a marker split across chunks, so output streams through with bounded memory.
 */
export class MarkerScanner {
  private heldBytes = Buffer.alloc(0);
  /** Bytes after the marker once found (the rest of the marker line for stdout). */
  tail: Buffer | undefined;

  constructor(
    private readonly marker: Buffer,
    private readonly emit: (d: Buffer) => void,
  ) {}

  get found(): boolean {
    return this.tail !== undefined;
  }

  /** The bytes held back as a possible start of the marker (for when the stream ended without it). */
  get held(): Buffer {
    return this.heldBytes;
  }

  push(d: Buffer): void {
    if (this.tail !== undefined) {
      this.tail = Buffer.concat([this.tail, d]);
      return;
    }
    const buf = this.heldBytes.length > 0 ? Buffer.concat([this.heldBytes, d]) : d;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      if (at > 0) this.emit(buf.subarray(0, at));
      this.heldBytes = Buffer.alloc(0);
      this.tail = buf.subarray(at + this.marker.length);
      return;
    }
    const keep = Math.min(buf.length, this.marker.length - 1);
    if (buf.length > keep) this.emit(buf.subarray(0, buf.length - keep));
    this.heldBytes = Buffer.from(buf.subarray(buf.length - keep));
  }
}

/** What a session runs over: an SSH exec channel, or the pipes of a local `sh`. */
export interface SessionChannel {
  write(data: string): unknown;
  close(): unknown;
  on(event: 'data', listener: (d: Buffer) => void): unknown;
  on(event: 'close' | 'error', listener: () => void): unknown;
  readonly stderr: { on(event: 'data', listener: (d: Buffer) => void): unknown };
}

interface Running {
  out: MarkerScanner;
  err: MarkerScanner;
  code: number;
  outDone: boolean;
  errDone: boolean;
  finish(result: { code: number } | Error): void;
}

/**
 * A `sh` reading commands from one channel (an SSH exec channel, or a local `sh`'s pipes). Each command runs in a
 * subshell through `eval` (so `exit`, `cd` and syntax errors stay inside it), except provision's own inline scripts,
 * which run in the shell itself (see ExecOptions.inline), with stdin from /dev/null or its own decoded payload, so
 * nothing can read the session's input; its stdout and stderr end with a random marker, the exit code follows the
 * stdout marker.
 * Commands are pipelined: each is written as soon as it is asked for, and the shell runs them in order, so
 * commands asked for together cost one network round trip, not one each.
 */
export class ShellSession {
  /** Commands written and not yet finished, oldest first. */
  private readonly queue: Running[] = [];
  /** Index in `queue` of the command whose stdout (and stderr) is being read now. */
  private outAt = 0;
  private errAt = 0;
  private endedReason: string | undefined;
  private readonly token = randomBytes(12).toString('hex');
  private counter = 0;

  /** Until the session's `sh` has announced itself: what the login shell printed before (start-up noise), per stream. */
  private starting: { out: MarkerScanner; err: MarkerScanner; said: () => string[] } | undefined;

  private constructor(
    private readonly channel: SessionChannel,
    private readonly onEnd: () => void,
    ready: string,
    onReady: (err?: Error) => void,
  ) {
    const outNoise = noiseKeeper();
    const errNoise = noiseKeeper();
    this.starting = { out: new MarkerScanner(Buffer.from(ready), outNoise.keep), err: new MarkerScanner(Buffer.from(ready), errNoise.keep), said: () => [outNoise.text(this.starting?.out), errNoise.text(this.starting?.err)] };
    channel.on('data', (d: Buffer) => this.onStartData('out', d, onReady));
    channel.stderr.on('data', (d: Buffer) => this.onStartData('err', d, onReady));
    channel.on('error', () => {});
    channel.on('close', () => {
      if (this.starting) {
        const said = this.starting.said().filter(Boolean).join(' / ');
        this.starting = undefined;
        onReady(new Error(`the login shell did not start sh${said ? `; it said: ${JSON.stringify(said.slice(0, 500))}` : ' and said nothing'} (a nologin or restricted account?)`));
      }
      this.end('the shell session ended');
    });
  }

  /**
   * Starts the session: `start` opens a channel running the command it is given (an SSH exec channel, a local `sh`);
   * `onEnd` is called once when the session ends, whatever the cause. Resolves once the session's `sh` has printed a
   * random ready marker on stdout and stderr: whatever the login shell's start-up files printed before it (a banner,
   * even without a newline) is discarded, never taken for a command's output. A newline is written first, so a
   * start-up file that reads a line of stdin takes that one and not the first command.
   */
  static async open(start: (command: string) => Promise<SessionChannel>, onEnd: () => void = () => {}): Promise<ShellSession> {
    const ready = `__provision_ready_${randomBytes(12).toString('hex')}__`;
    // `exec sh` so the login shell does not stay in between; a restricted shell (rbash) refuses exec and says so.
    const script = `printf '%s\\n' ${ready}; printf '%s\\n' ${ready} >&2; exec sh`;
    const channel = await start(`exec sh -c ${quote(script)}`);
    return new Promise((resolve, reject) => {
      const session = new ShellSession(channel, onEnd, ready, (e) => (e ? reject(e) : resolve(session)));
      channel.write('\n');
    });
  }

  /** Before the ready marker: start-up noise is set aside; the rest of the chunk after it is the session's own. */
  private onStartData(stream: 'out' | 'err', data: Buffer, onReady: (err?: Error) => void): void {
    const st = this.starting;
    if (!st) {
      this.onData(stream, data);
      return;
    }
    const scanner = st[stream];
    if (scanner.found) {
      scanner.push(data);
      return;
    }
    scanner.push(data);
    if (!st.out.found || !st.err.found) return;
    this.starting = undefined;
    // The rest of each ready line (its newline), then anything already sent after it.
    for (const [name, sc] of [['out', st.out], ['err', st.err]] as const) {
      const tail = sc.tail as Buffer;
      const nl = tail.indexOf(10);
      const rest = nl < 0 ? Buffer.alloc(0) : tail.subarray(nl + 1);
      if (rest.length > 0) this.onData(name, rest);
    }
    onReady();
  }

  get alive(): boolean {
    return this.endedReason === undefined;
  }

  /** Ends the session (a command that overran its time, or the connection closing): commands not finished fail. */
  end(reason: string): void {
    if (this.endedReason !== undefined) return;
    this.endedReason = reason;
    this.onEnd();
    for (const r of this.queue.splice(0)) r.finish(new Error(reason));
    try {
      this.channel.close();
    } catch {
      // already closed
    }
  }

  /**
   * Runs one script after those already asked for; resolves with its exit code. `inline` (provision's own script,
   * see ExecOptions.inline, and no stdin): it runs in the session's shell itself, in a brace group, not a subshell.
   */
  run(script: string, stdin: Buffer | undefined, sink: Sink, inline = false): Promise<{ code: number }> {
    if (this.endedReason !== undefined) return Promise.reject(new Error(this.endedReason));
    const marker = `__provision_${this.token}_${++this.counter}__`;
    const input =
      stdin && stdin.length > 0 ? `printf %s ${stdin.toString('base64')} | base64 -d | ` : '';
    const redirect = input ? '' : ' </dev/null';
    // A line cut short by a dropped connection never runs: the shell waits for the group's (or quote's) end.
    const body = inline && !input ? `{ ${script}\n}` : `( eval ${quote(script)} )`;
    const line =
      `${input}${body}${redirect}; ` +
      `printf '%s %d\\n' ${marker} $?; printf '%s\\n' ${marker} >&2\n`;
    return new Promise((resolve, reject) => {
      this.queue.push({
        out: new MarkerScanner(Buffer.from(marker), (d) => sink.stdout(d)),
        err: new MarkerScanner(Buffer.from(marker), (d) => sink.stderr(d)),
        code: 1,
        outDone: false,
        errDone: false,
        finish: (r) => (r instanceof Error ? reject(r) : resolve(r)),
      });
      this.channel.write(line);
      sink.sent?.();
    });
  }

  /** Routes output to the command it belongs to; what follows a command's end marker belongs to the next one. */
  private onData(stream: 'out' | 'err', data: Buffer): void {
    let d: Buffer | undefined = data;
    while (d && d.length > 0) {
      const r = this.queue[stream === 'out' ? this.outAt : this.errAt];
      if (!r) return; // nothing runs: stray output of a background job, dropped
      const scanner = stream === 'out' ? r.out : r.err;
      scanner.push(d);
      const tail = scanner.tail;
      const nl = tail ? tail.indexOf(10) : -1;
      if (!tail || nl < 0) return; // the end marker (and, on stdout, the exit code's line) has not all come yet
      if (stream === 'out') {
        const code = Number(tail.subarray(0, nl).toString('latin1').trim());
        r.code = Number.isInteger(code) ? code : 1;
        r.outDone = true;
        this.outAt++;
      } else {
        r.errDone = true;
        this.errAt++;
      }
      d = tail.subarray(nl + 1);
      this.settle();
    }
  }

  /** Finishes the oldest commands whose stdout and stderr have both ended. */
  private settle(): void {
    while (this.queue[0]?.outDone && this.queue[0].errDone) {
      const r = this.queue.shift() as Running;
      this.outAt--;
      this.errAt--;
      r.finish({ code: r.code });
    }
  }
}
