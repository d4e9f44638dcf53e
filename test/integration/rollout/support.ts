// Test-side helpers for the rollout tests: polling for files, health servers, a connection-resetting proxy, temp-file search.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** Polls until `test` holds; fails with `what` after `timeoutMs`. The interval is a poll, not a readiness guess. */
export async function waitFor(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until a file exists. */
export function waitForFile(path: string, timeoutMs?: number): Promise<void> {
  return waitFor(path, () => existsSync(path), timeoutMs);
}

/** Every file under `dir` whose name ends in `.tmp` (left-overs of an interrupted atomic write). */
export function findTmpFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTmpFiles(path));
    else if (entry.name.endsWith('.tmp')) out.push(path);
  }
  return out;
}

export interface HealthServer {
  port: number;
  /** Requests received so far. */
  requests: number;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering every request with `status`, counting requests. */
export async function startHealthServer(status: number): Promise<HealthServer> {
  const server: HttpServer = createHttpServer((_req, res) => {
    health.requests++;
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(status === 200 ? 'healthy\n' : 'unhealthy\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const health: HealthServer = {
    port: (server.address() as { port: number }).port,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return health;
}

export interface ResetProxy {
  port: number;
  /** Connections accepted so far (reset ones included). */
  connections: number;
  /** How many of the next connections are reset at once, before any byte is exchanged. */
  resetNext: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort` that resets the first `resetNext` connections (a transient "connection
 * reset during connect", made deterministic) and forwards the others.
 */
export async function startResetProxy(targetPort: number): Promise<ResetProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server: Server = createServer((client) => {
    proxy.connections++;
    track(client);
    if (proxy.resetNext > 0) {
      proxy.resetNext--;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    track(upstream);
    client.pipe(upstream).pipe(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy: ResetProxy = {
    port: (server.address() as { port: number }).port,
    connections: 0,
    resetNext: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

export interface SpawnedCli {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGKILLs it by PID when it is still running (for after()/finally). */
  stop(): Promise<void>;
}

/** Starts the built CLI as a child (pipes, not a terminal) so a test can watch its output and signal it by PID. */
export function spawnCli(cliPath: string, args: string[], cwd: string): SpawnedCli {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  if (child.pid === undefined) throw new Error(`cannot start ${cliPath}`);
  return {
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid as number, 'SIGKILL');
      await exited.catch(() => {});
    },
  };
}

/** Command lines of a process's descendants, read from /proc (e.g. what still runs in a host's sshd sessions). */
export function commandsUnder(pid: number): string[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: string[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      try {
        out.push(readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' ').trim());
      } catch {
        // exited meanwhile
      }
      walk(c);
    }
  };
  walk(pid);
  return out;
}
