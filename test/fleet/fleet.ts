// A fleet of real OpenSSH sshd processes on 127.0.0.1, one per simulated host, for integration tests and the benchmark.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SshTarget } from '../../src/connection/connect.js';

const run = promisify(execFile);
const sshdPath = '/usr/sbin/sshd';

/** A user made for become tests: created on the machine, given sudo, and authorized with the fleet's key. */
export interface FleetUser {
  name: string;
  /** Login and sudo password; without one the account only takes the key and sudo asks nothing. */
  password?: string;
  /** Sudo without a password (default: true when no password is given). */
  nopasswd?: boolean;
}

export interface FleetOptions {
  /** Non-root sudo users to make ready (see ensureSudoUser: this changes the machine). */
  users?: FleetUser[];
  /**
   * Host i (0-based) listens on basePort + i instead of a random free port, so two fleets on one machine (two
   * benchmarks) cannot take each other's ports; a port already in use is an error, not retried elsewhere.
   */
  basePort?: number;
}

export interface FleetHost {
  /** Inventory name: host01, host02, … */
  name: string;
  port: number;
  /** PID of the listening sshd. */
  pid: number;
  /** This host's own files folder (under the fleet's dir): tests point tasks here. */
  root: string;
  /** `ssh-ed25519 AAAA… comment`, as in the .pub file. */
  hostKeyPub: string;
  /** Kills this host's sshd and every session it serves (by PID): the host goes down, connections drop. */
  kill(): Promise<void>;
  /** Starts sshd again on the same port with the same host key, and waits until it answers. */
  restart(): Promise<void>;
}

export interface Fleet {
  /** The fleet's folder (removed by stop()). */
  dir: string;
  hosts: FleetHost[];
  /** Private key (ed25519, no passphrase) authorized for root and every fleet user on every host. */
  clientKeyPath: string;
  /** Every host's key as `[127.0.0.1]:PORT keytype key` lines. */
  knownHostsPath: string;
  /**
   * Writes an INI inventory (group [fleet], a line per host with ansible_host/port/user/private key) and returns its
   * path. `extraVars` is appended to each host's line (a function gets the host).
   */
  writeInventory(path?: string, extraVars?: string | ((host: FleetHost) => string)): string;
  /** Authorizes the fleet's client key for another login user (the user must exist). */
  authorizeUser(user: string): void;
  /** Kills every sshd by PID (and their sessions) and removes the folder. */
  stop(): Promise<void>;
}

/** Every sshd this process started and has not stopped: killed on exit so a crashed test leaves none behind. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) killTree(pid);
});

/** PIDs of a process's descendants (its sshd session processes), read from /proc. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function killTree(pid: number): void {
  for (const p of [pid, ...descendantsOf(pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A TCP port free right now on 127.0.0.1 (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether something at address:port answers with an SSH banner (within 2 s). */
export function probeBanner(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let data = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('SSH-')) done(true);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(data.includes('SSH-')));
  });
}

function checkPrerequisites(): void {
  if (!existsSync(sshdPath)) {
    throw new Error(`the test fleet needs OpenSSH's sshd at ${sshdPath}: install openssh-server (apt-get install openssh-server)`);
  }
  // sshd refuses to start without its privilege separation directory.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

function sshdConfig(dir: string, hostDir: string): string {
  return [
    'ListenAddress 127.0.0.1',
    `HostKey ${join(hostDir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(hostDir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin yes',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    // A clean home: root's own dotfiles here run a slow pyenv init and put another python3 first on PATH.
    `SetEnv HOME=${join(dir, 'home')}`,
    'UseDNS no',
    'PrintMotd no',
    'MaxSessions 64',
    'MaxStartups 1000',
    'LogLevel INFO',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

interface Proc {
  child: ChildProcess;
  exited: boolean;
}

/** Starts sshd on the port and waits for its banner; rejects with sshd's log when it exits first. */
async function startSshd(cfg: string, port: number, logPath: string): Promise<Proc> {
  const log = openSync(logPath, 'a');
  const child = spawn(sshdPath, ['-D', '-e', '-f', cfg, '-p', String(port)], { stdio: ['ignore', log, log] });
  closeSync(log);
  const proc: Proc = { child, exited: false };
  child.on('exit', () => {
    proc.exited = true;
    if (child.pid !== undefined) live.delete(child.pid);
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ${sshdPath}`);
  live.add(child.pid);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (await probeBanner(port)) return proc;
    if (proc.exited) {
      throw new Error(`sshd on port ${port} exited at start:\n${readFileSync(logPath, 'utf8').trim()}`);
    }
    if (Date.now() > deadline) {
      killTree(child.pid);
      throw new Error(`sshd on port ${port} did not answer within 15 s:\n${readFileSync(logPath, 'utf8').trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10)); // poll interval, not a readiness guess
  }
}

async function stopProc(proc: Proc): Promise<void> {
  const pid = proc.child.pid;
  if (pid === undefined || proc.exited) return;
  const exited = once(proc.child, 'exit');
  proc.child.ref(); // keep the event loop alive until the exit is seen
  killTree(pid);
  await exited;
}

async function startHost(dir: string, name: string, fixedPort?: number): Promise<FleetHost> {
  const hostDir = join(dir, name);
  const root = join(hostDir, 'root');
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(hostDir, 0o755);
  const keyPath = join(hostDir, 'ssh_host_ed25519_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}-host-key`, '-f', keyPath]);
  const cfg = join(hostDir, 'sshd_config');
  writeFileSync(cfg, sshdConfig(dir, hostDir));
  const logPath = join(hostDir, 'sshd.log');
  let port = 0;
  let proc: Proc | undefined;
  // Another process may take the free port before sshd binds it: try a few.
  for (let attempt = 1; !proc; attempt++) {
    port = fixedPort ?? (await freePort());
    try {
      proc = await startSshd(cfg, port, logPath);
    } catch (err) {
      const inUse = /Address already in use/.test(String(err));
      if (inUse && fixedPort !== undefined) throw new Error(`${name}: port ${fixedPort} (base port + ${name}'s index) is in use`);
      if (!inUse || attempt >= 5) throw err;
    }
  }
  const host: FleetHost = {
    name,
    port,
    pid: proc.child.pid!,
    root,
    hostKeyPub: readFileSync(`${keyPath}.pub`, 'utf8').trim(),
    async kill() {
      if (proc) await stopProc(proc);
    },
    async restart() {
      if (proc) await stopProc(proc);
      proc = await startSshd(cfg, port, logPath);
      host.pid = proc.child.pid!;
    },
  };
  return host;
}

/** Starts `n` sshd hosts on 127.0.0.1, each with its own port, host key and files root. Call stop() in after(). */
export async function startFleet(n: number, opts: FleetOptions = {}): Promise<Fleet> {
  checkPrerequisites();
  const dir = mkdtempSync(join(tmpdir(), 'provision-fleet-'));
  // Readable by the non-root fleet users: sshd reads authorized_keys with the user's rights.
  chmodSync(dir, 0o755);
  const hosts: FleetHost[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(hosts.map((h) => h.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const clientKeyPath = join(dir, 'client_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-fleet-client', '-f', clientKeyPath]);
    const clientPub = readFileSync(`${clientKeyPath}.pub`, 'utf8');
    const keysDir = join(dir, 'authorized_keys');
    mkdirSync(keysDir, { mode: 0o755 });
    const authorizeUser = (user: string) => {
      if (!/^[a-z_][a-z0-9_-]*$/i.test(user)) throw new Error(`invalid user name: ${user}`);
      writeFileSync(join(keysDir, user), clientPub, { mode: 0o644 });
    };
    authorizeUser('root');

    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o755 });
    for (const f of ['.bashrc', '.profile', '.bash_logout']) {
      if (existsSync(join('/etc/skel', f))) copyFileSync(join('/etc/skel', f), join(home, f));
    }

    for (const u of opts.users ?? []) {
      await ensureSudoUser(u.name, u);
      authorizeUser(u.name);
    }

    const width = Math.max(2, String(n).length);
    const names = Array.from({ length: n }, (_, i) => `host${String(i + 1).padStart(width, '0')}`);
    const base = opts.basePort;
    if (base !== undefined && (!Number.isInteger(base) || base < 1 || base + n - 1 > 65535)) {
      throw new Error(`base port ${base} leaves no room for ${n} hosts below 65536`);
    }
    const started = await Promise.allSettled(names.map((name, i) => startHost(dir, name, base === undefined ? undefined : base + i)));
    for (const s of started) if (s.status === 'fulfilled') hosts.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    const knownHostsPath = join(dir, 'known_hosts');
    writeFileSync(
      knownHostsPath,
      hosts.map((h) => `[127.0.0.1]:${h.port} ${h.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`).join(''),
    );

    return {
      dir,
      hosts,
      clientKeyPath,
      knownHostsPath,
      authorizeUser,
      writeInventory(path = join(dir, 'inventory.ini'), extraVars) {
        const lines = ['[fleet]'];
        for (const h of hosts) {
          const extra = typeof extraVars === 'function' ? extraVars(h) : extraVars;
          lines.push(
            `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${clientKeyPath}${extra ? ` ${extra}` : ''}`,
          );
        }
        writeFileSync(path, `${lines.join('\n')}\n`);
        return path;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Makes a non-root user with sudo, for become tests. This CHANGES THE MACHINE (a user account, its password and a
 * file in /etc/sudoers.d) and needs root: it is meant for CI and development machines, never a workstation you care
 * about. Idempotent: an existing user is kept, its password and sudoers file are set again.
 */
export async function ensureSudoUser(name: string, opts: { password?: string; nopasswd?: boolean } = {}): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`ensureSudoUser(${name}) needs root: it creates a user and a sudoers file`);
  if (!/^[a-z_][a-z0-9_-]*$/.test(name)) throw new Error(`invalid user name: ${name}`);
  const exists = await run('id', ['-u', name]).then(
    () => true,
    () => false,
  );
  if (!exists) await run('useradd', ['-m', '-s', '/bin/bash', name]);
  if (opts.password !== undefined) {
    const child = execFile('chpasswd');
    child.stdin?.end(`${name}:${opts.password}\n`);
    const [code] = (await once(child, 'exit')) as [number];
    if (code !== 0) throw new Error(`chpasswd failed for ${name}`);
  } else {
    // A new account is locked ('!'), and sshd refuses locked accounts even for keys: '*' allows keys only.
    const { stdout } = await run('passwd', ['-S', name]);
    if (stdout.split(' ')[1] === 'L') await run('usermod', ['-p', '*', name]);
  }
  const nopasswd = opts.nopasswd ?? opts.password === undefined;
  const rule = `${name} ALL=(ALL:ALL) ${nopasswd ? 'NOPASSWD: ' : ''}ALL\nDefaults:${name} !lecture\n`;
  const staging = mkdtempSync(join(tmpdir(), 'provision-sudoers-'));
  try {
    const candidate = join(staging, name);
    writeFileSync(candidate, rule, { mode: 0o440 });
    await run('visudo', ['-c', '-q', '-f', candidate]);
    const target = join('/etc/sudoers.d', name);
    writeFileSync(`${target}.tmp`, rule, { mode: 0o440 }); // sudo ignores names with a dot, so this is never half-read
    renameSync(`${target}.tmp`, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** How a test reaches one fleet host as root with the fleet's key and known_hosts; `over` changes any of it. */
export function sshTargetOf(fleet: Fleet, host: FleetHost, over: Partial<SshTarget> = {}): SshTarget {
  return {
    host: host.name,
    address: '127.0.0.1',
    port: host.port,
    user: 'root',
    privateKeyFile: fleet.clientKeyPath,
    knownHostsFiles: [fleet.knownHostsPath],
    become: { become: false },
    ...over,
  };
}

/** An ssh-agent on a socket in `dir` holding `keyPath`, for tests of agent authentication; stop it by its PID. */
export async function startAgent(dir: string, keyPath: string): Promise<{ sock: string; pid: number }> {
  const sock = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  execFileSync('ssh-add', [keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
  return { sock, pid: agent.pid as number };
}
