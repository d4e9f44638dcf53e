// The engines `--engine` runs on, started for a test on loopback in a temporary folder and stopped by PID:
// Debian's redis-server, and PostgreSQL 15 (initdb, then the postmaster, as the `postgres` user: it refuses root).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Engine {
  kind: 'redis' | 'postgres';
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `ready(output)` holds for what the process printed, or it exits. */
function waitReady(child: ChildProcess, ready: (out: string) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${out}`));
    });
  });
}

function stopper(child: ChildProcess, dir: string, signal: NodeJS.Signals): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid as number, signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

export async function startRedis(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'provision-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitReady(child, (o) => o.includes('Ready to accept connections'), 'redis-server');
  return { kind: 'redis', url: `redis://127.0.0.1:${port}`, pid: child.pid as number, stop: stopper(child, dir, 'SIGTERM') };
}

const pgBin = '/usr/lib/postgresql/15/bin';

export async function startPostgres(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'provision-pg-'));
  const data = join(dir, 'data');
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const asPostgres = (cmd: string, args: string[]) => ['--reuid', String(uid), '--regid', String(gid), '--init-groups', cmd, ...args];
  execFileSync('setpriv', asPostgres(join(pgBin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync']), { stdio: 'pipe' });
  const port = await freePort();
  const child = spawn('setpriv', asPostgres(join(pgBin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']), { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitReady(child, (o) => o.includes('database system is ready to accept connections'), 'postgres');
  // SIGINT: PostgreSQL's fast shutdown (its children end with it)
  return { kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/postgres`, pid: child.pid as number, stop: stopper(child, dir, 'SIGINT') };
}
