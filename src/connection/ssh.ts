// The SSH transport: one node-ssh connection per host for the whole run; commands through one long-lived shell
// (pipelined) or an exec channel each.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { AuthMethod, BaseAgent, Client, ClientChannel } from 'ssh2';
import { AuthenticationError, ConnectionError } from '../errors.js';
import { trace, tracingProtocol } from './trace.js';
import {
  certAuthorityMessage,
  changedHostKeyMessage,
  checkHostKey,
  formatKnownHostsLine,
  hostKeyAlgorithmsFor,
  knownHostName,
  parseKnownHosts,
  revokedHostKeyMessage,
  unknownHostKeyMessage,
  type KnownHostEntry,
} from './known-hosts.js';
import { quote } from './quote.js';
import { ShellConnection, type Sink } from './shell-connection.js';
import { maxSessionStdin, ShellSession } from './shell-session.js';
import type { BecomeSettings } from './types.js';

export interface SshConnectOptions {
  /** Inventory name, used in messages. */
  host: string;
  address: string;
  port: number;
  user: string;
  /** Private keys to offer, in order: `{ path, key }` (the file's text, already read). */
  privateKeys?: { path: string; key: string | Buffer }[];
  password?: string;
  /** ssh-agent socket (SSH_AUTH_SOCK), or an agent that offers only some of its keys (IdentitiesOnly). */
  agent?: string | BaseAgent;
  /** known_hosts files to check, in order; an accepted new key is appended to the first. */
  knownHostsFiles: string[];
  acceptNewHostKeys?: boolean;
  /** TCP connect plus SSH handshake and authentication (default 10 s). */
  connectTimeoutMs?: number;
  become?: BecomeSettings;
  /** Channels open at once on this connection (sshd's MaxSessions defaults to 10). */
  maxChannels?: number;
  /**
   * Run commands through one long-lived `sh` channel (~0.4 ms a command, and commands asked for together are
   * pipelined) instead of a new exec channel each (~3.6 ms). A large stdin still gets its own channel.
   */
  persistentShell?: boolean;
  /**
   * Opens the byte stream the SSH session runs over when it is not a direct TCP connection: a channel through a jump
   * host, or a ProxyCommand's stdin/stdout. Rejects with ConnectionError naming the host.
   */
  openTransport?: () => Promise<Duplex>;
  /** How the host is reached, for messages (`via jump host bastion`). */
  via?: string;
  /** Called once when this connection is closed (a jump host's users are counted). */
  onClose?: () => void;
  /** What the transport said when the session failed (a ProxyCommand's stderr), added to the error. */
  transportError?: () => Promise<string | undefined>;
}


const signalNumbers: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };


/** Reads the known_hosts files that exist; a file that cannot be read is an error, not silently "no keys". */
function readKnownHosts(host: string, files: readonly string[]): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new AuthenticationError(`${host}: cannot read the known_hosts file ${file}: ${(err as Error).message}`);
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

/** Appends an accepted host key, creating the file (0600) and its folder (0700) when missing. */
function appendKnownHost(file: string, line: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created = !existsSync(file);
  let prefix = '';
  if (!created) {
    const text = readFileSync(file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
  }
  appendFileSync(file, prefix + line, { mode: 0o600 });
  if (created) chmodSync(file, 0o600);
}

/**
 * ssh2 writes every SSH packet to the socket on its own: with TCP_NODELAY that is one system call and one TCP
 * segment a packet (a channel open, a request, data, EOF…). Writes made in one turn of the event loop are
 * gathered and flushed together at its end, which keeps the low latency and saves most of the CPU.
 */
function coalesceWrites(sock: Socket): void {
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(() => {
        corked = false;
        sock.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
}

/** Opens the TCP socket ourselves to set TCP_NODELAY: without it every request waits on delayed ACKs (~40 ms). */
function openSocket(host: string, address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: address, port });
    sock.setNoDelay(true);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ConnectionError(`${host}: cannot connect to ${address}:${port}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      coalesceWrites(sock);
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (is sshd running on that port?)' : err.message;
      reject(new ConnectionError(`${host}: cannot connect to ${address}:${port}: ${why}`));
    });
  });
}

/** How long a closing connection may wait for its host to close its side before its transport is destroyed. */
const closeGraceMs = 2000;

export class SshConnection extends ShellConnection {
  private droppedReason: string | undefined;
  get sharedShell(): boolean {
    return this.persistentShell;
  }
  private readonly pending = new Set<(err: Error) => void>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private session: Promise<ShellSession> | undefined;

  private constructor(
    host: string,
    private readonly ssh: NodeSSH,
    private readonly client: Client,
    private readonly where: string,
    become: BecomeSettings,
    private readonly maxChannels: number,
    private readonly persistentShell: boolean,
    private onClose?: () => void,
    /** The stream SSH runs over (a TCP socket, a jump host's channel, a ProxyCommand's pipes). */
    private readonly transport?: Duplex,
  ) {
    super(host, become);
    const drop = (why: string) => {
      if (this.droppedReason !== undefined) return;
      this.droppedReason = why;
      const err = this.droppedError();
      for (const fail of this.pending) fail(err);
      this.pending.clear();
      void this.session?.then((sh) => sh.end(why), () => {});
    };
    client.on('error', (err: Error) => drop(err.message));
    client.on('close', () => drop('the connection closed'));
  }

  /** Connects, verifies the host key and authenticates; throws ConnectionError / AuthenticationError with the host named. */
  static async connect(opts: SshConnectOptions): Promise<SshConnection> {
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const where = `${opts.user}@${opts.address}:${opts.port}${opts.via ? ` ${opts.via}` : ''}`;
    const name = knownHostName(opts.address, opts.port);
    const entries = readKnownHosts(opts.host, opts.knownHostsFiles);
    let keyProblem: string | undefined;
    const hostVerifier = (blob: Buffer): boolean => {
      const verdict = checkHostKey(entries, name, blob);
      switch (verdict.status) {
        case 'known':
          return true;
        case 'revoked':
          keyProblem = revokedHostKeyMessage(name, blob, verdict.entry);
          return false;
        case 'changed':
          keyProblem = changedHostKeyMessage(name, blob, verdict.entry);
          return false;
        case 'unknown': {
          if (verdict.certAuthority) {
            keyProblem = certAuthorityMessage(name, blob, verdict.certAuthority);
            return false;
          }
          if (!opts.acceptNewHostKeys) {
            keyProblem = unknownHostKeyMessage(name, blob, opts.knownHostsFiles, verdict.otherTypes);
            return false;
          }
          const file = opts.knownHostsFiles[0];
          if (file === undefined) {
            keyProblem = `cannot accept the new host key of ${name}: no known_hosts file to record it in`;
            return false;
          }
          try {
            appendKnownHost(file, formatKnownHostsLine(name, blob));
          } catch (err) {
            keyProblem = `cannot record the host key of ${name} in ${file}: ${(err as Error).message}`;
            return false;
          }
          return true;
        }
      }
    };

    const authHandler: AuthMethod[] = [];
    const tried: string[] = [];
    for (const k of opts.privateKeys ?? []) {
      authHandler.push({ type: 'publickey', username: opts.user, key: k.key } as AuthMethod);
      tried.push(`private key ${k.path}`);
    }
    if (opts.password !== undefined) {
      const password = opts.password;
      authHandler.push({ type: 'password', username: opts.user, password } as AuthMethod);
      // Servers that allow only keyboard-interactive still take a password through it.
      authHandler.push({
        type: 'keyboard-interactive',
        username: opts.user,
        prompt: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (r: string[]) => void) =>
          finish(prompts.map(() => password)),
      } as AuthMethod);
      tried.push('password');
    }
    if (opts.agent) {
      authHandler.push({ type: 'agent', username: opts.user, agent: opts.agent } as AuthMethod);
      tried.push(typeof opts.agent === 'string' ? `ssh-agent (${opts.agent})` : 'ssh-agent');
    }
    trace(3, opts.host, `ESTABLISH SSH CONNECTION FOR USER: ${opts.user} to ${where}${opts.openTransport ? ' (through a jump host or ProxyCommand)' : ''}`);
    // Reachability first: an unreachable host is reported as such even when it has no credentials either.
    const sock = opts.openTransport ? await opts.openTransport() : await openSocket(opts.host, opts.address, opts.port, timeoutMs);
    if (authHandler.length === 0) {
      sock.destroy();
      throw new AuthenticationError(
        `${opts.host}: no way to authenticate as ${where}: give a private key (ansible_ssh_private_key_file or --private-key), a password, or run an ssh-agent`,
      );
    }
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        sock,
        username: opts.user,
        authHandler,
        hostVerifier,
        readyTimeout: timeoutMs,
        algorithms: { serverHostKey: hostKeyAlgorithmsFor(entries, name) as never },
        keepaliveInterval: 15_000,
        ...(tracingProtocol() ? { debug: (line: string) => trace(4, opts.host, line) } : {}),
      });
      trace(3, opts.host, `SSH connection to ${where} open (authentication tried: ${tried.join(', ')})`);
    } catch (err) {
      sock.destroy();
      ssh.dispose();
      if (keyProblem !== undefined) throw new AuthenticationError(`${opts.host}: host key verification failed for ${where}:\n${keyProblem}`);
      const e = err as Error & { level?: string };
      if (e.level === 'client-authentication') {
        throw new AuthenticationError(`${opts.host}: authentication failed for ${where} (tried: ${tried.join(', ')})`);
      }
      if (e.level === 'client-timeout') {
        throw new ConnectionError(`${opts.host}: ${where} did not complete the SSH handshake within ${timeoutMs} ms`);
      }
      const said = await opts.transportError?.();
      throw new ConnectionError(`${opts.host}: SSH connection to ${where} failed: ${e.message}${said ? `\n${said}` : ''}`);
    }
    const client = ssh.connection;
    if (!client) throw new ConnectionError(`${opts.host}: SSH connection to ${where} closed at once`);
    return new SshConnection(
      opts.host,
      ssh,
      client,
      where,
      { become: false, ...opts.become, loginUser: opts.user },
      opts.maxChannels ?? 8,
      opts.persistentShell ?? false,
      opts.onClose,
      sock,
    );
  }

  /** Opens a channel from this host to `address:port` (ssh -W, ProxyJump): the stream a further SSH session runs over. */
  forwardOut(address: string, port: number, forHost: string): Promise<Duplex> {
    if (this.droppedReason !== undefined) return Promise.reject(this.droppedError());
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, address, port, (err: Error | undefined, channel: ClientChannel) => {
        if (err) {
          reject(new ConnectionError(`${forHost}: jump host ${this.host} (${this.where}) cannot reach ${address}:${port}: ${err.message}`));
          return;
        }
        resolve(channel);
      });
    });
  }

  /** False once the connection dropped or was closed. */
  get isOpen(): boolean {
    return this.droppedReason === undefined;
  }

  private droppedError(): ConnectionError {
    return new ConnectionError(`${this.host}: the SSH connection to ${this.where} dropped: ${this.droppedReason}`);
  }

  /** Waits for a free channel slot: sshd refuses channels past its MaxSessions. */
  private async acquire(): Promise<void> {
    if (this.active < this.maxChannels) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Runs a script through the persistent shell when enabled (and stdin is small), else on its own exec channel. */
  protected run(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number, inline = false): Promise<{ code: number; timedOut: boolean }> {
    if (this.persistentShell && (stdin?.length ?? 0) <= maxSessionStdin) return this.runInSession(script, stdin, sink, timeoutMs, inline);
    return this.runExecChannel(script, stdin, sink, timeoutMs);
  }

  private async openSession(): Promise<ShellSession> {
    const current = this.session ? await this.session.catch(() => undefined) : undefined;
    if (current?.alive) return current;
    this.session = (async () => {
      await this.acquire(); // the session holds one channel slot for its life
      this.stats.channels++;
      try {
        const start = (command: string) =>
          new Promise<ClientChannel>((resolve, reject) => this.client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel))));
        return await ShellSession.open(start, () => this.release());
      } catch (err) {
        this.release();
        throw err;
      }
    })();
    const opened = await this.session.catch((err: Error) => {
      throw this.droppedReason !== undefined ? this.droppedError() : new ConnectionError(`${this.host}: cannot open a shell on ${this.where}: ${err.message}`);
    });
    return opened;
  }

  private async runInSession(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number, inline = false): Promise<{ code: number; timedOut: boolean }> {
    if (this.droppedReason !== undefined) throw this.droppedError();
    const session = await this.openSession();
    try {
      return await this.runOnSession(session, script, stdin, sink, timeoutMs, inline);
    } catch (err) {
      if (this.droppedReason !== undefined) throw this.droppedError();
      throw new ConnectionError(`${this.host}: the shell session on ${this.where} failed: ${(err as Error).message}`);
    }
  }

  /**
   * Runs a script on one exec channel: stdin written then closed, output streamed to `sink`. Resolves with the exit
   * code; rejects with ConnectionError when the connection drops. After `timeoutMs` the channel is signalled and closed.
   */
  private async runExecChannel(
    script: string,
    stdin: Buffer | undefined,
    sink: Sink,
    timeoutMs?: number,
  ): Promise<{ code: number; timedOut: boolean }> {
    if (this.droppedReason !== undefined) throw this.droppedError();
    // In flight from the moment it is asked for: a request waiting for a free channel is pipelined too.
    this.stats.begin();
    await this.acquire();
    try {
      if (this.droppedReason !== undefined) throw this.droppedError();
      this.stats.channels++;
      return await new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
        const fail = (err: Error) => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          this.pending.delete(fail);
          reject(err);
        };
        this.pending.add(fail);
        // `sh -c` whatever the login shell is, so scripts get the same POSIX shell as on a local connection.
        this.client.exec(`sh -c ${quote(script)}`, (err: Error | undefined, channel: ClientChannel) => {
          if (err) {
            fail(this.droppedReason !== undefined ? this.droppedError() : new ConnectionError(`${this.host}: cannot open a channel on ${this.where}: ${err.message}`));
            return;
          }
          let code: number | undefined;
          let signal: string | undefined;
          let timedOut = false;
          sink.sent?.();
          channel.on('data', (d: Buffer) => sink.stdout(d));
          channel.stderr.on('data', (d: Buffer) => sink.stderr(d));
          channel.on('exit', (c: number | null, s?: string) => {
            if (c !== null && c !== undefined) code = c;
            else if (s) signal = s;
          });
          channel.on('error', () => {}); // reported through 'close' or the connection's own error
          channel.on('close', () => {
            if (settled) return;
            if (code === undefined && signal === undefined && !timedOut) {
              // No exit status: the connection went away under the command.
              queueMicrotask(() => fail(this.droppedReason !== undefined ? this.droppedError() : new ConnectionError(`${this.host}: the channel to ${this.where} closed without an exit status (connection lost?)`)));
              return;
            }
            settled = true;
            if (timer) clearTimeout(timer);
            this.pending.delete(fail);
            resolve({ code: code ?? 128 + (signalNumbers[signal ?? ''] ?? 15), timedOut });
          });
          if (timeoutMs) {
            timer = setTimeout(() => {
              timedOut = true;
              try {
                channel.signal('KILL');
              } catch {
                // the server may not take signals; closing the channel is what matters
              }
              channel.close();
            }, timeoutMs);
          }
          channel.stdin.on('error', () => {}); // the command may exit before reading all of stdin
          channel.end(stdin ?? Buffer.alloc(0));
        });
      });
    } finally {
      this.release();
      this.stats.end();
    }
  }

  async close(): Promise<void> {
    if (this.droppedReason === undefined) this.droppedReason = 'closed by provision';
    await this.session?.then((sh) => sh.end('closed'), () => {});
    this.ssh.dispose();
    // A host that stopped answering (sshd stopped, a partition, a hung kernel) never closes its side: after a short
    // grace the transport is destroyed, so that no stuck host keeps the run (the process) alive after its recap.
    const transport = this.transport;
    if (transport && !transport.destroyed) {
      const timer = setTimeout(() => transport.destroy(), closeGraceMs);
      timer.unref();
      transport.once('close', () => clearTimeout(timer));
    }
    const onClose = this.onClose;
    this.onClose = undefined;
    onClose?.();
  }
}
