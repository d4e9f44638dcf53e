// Turns a host's connection settings (inventory, ssh args, ~/.ssh/config, defaults) into an open Connection, reaching
// it directly, through jump hosts (ProxyJump, shared by every host behind them) or through a ProxyCommand.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import ssh2, { type BaseAgent, type ParsedKey } from 'ssh2';
import { AuthenticationError, ConnectionError, InputError } from '../errors.js';
import { expandProxyCommand, loadSshConfig, type SshConfigValues } from './ssh-config.js';
import { parseSshArgs, type SshOption } from './ssh-options.js';
import { SshConnection } from './ssh.js';
import type { BecomeSettings, Connection } from './types.js';

export interface SshTarget {
  /** Inventory name, for messages. */
  host: string;
  /** Address or ssh config alias (ansible_host, else the inventory name). */
  address: string;
  port?: number;
  user?: string;
  privateKeyFile?: string;
  password?: string;
  /**
   * known_hosts files, in order (an accepted key goes to the first): exactly these when given. Otherwise
   * `extraKnownHostsFiles` then the ssh config's UserKnownHostsFile (default ~/.ssh/known_hosts).
   */
  knownHostsFiles?: string[];
  /** known_hosts files checked before the ssh config's (--known-hosts). */
  extraKnownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  /** ssh config file; default ~/.ssh/config (a missing default file is fine). */
  sshConfigPath?: string;
  /**
   * ssh command-line arguments, already split, in Ansible's order: `ansible_ssh_args` first (its -o options win over
   * the inventory's user and port), then `ansible_ssh_common_args`, `ansible_ssh_extra_args`. `variable` names the
   * source in errors.
   */
  sshArgs?: { variable: string; args: string[] }[];
  /** One long-lived shell channel for all commands instead of a channel each (see SshConnectOptions). */
  persistentShell?: boolean;
  become: BecomeSettings;
}

const defaultIdentityFiles = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** ProxyJump chains deeper than this are taken for a loop in the ssh config. */
const maxJumpDepth = 8;

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** Reads a private key and checks that ssh2 can use it; `explicit` keys fail loudly, found ones are skipped. */
async function loadKey(host: string, path: string, explicit: boolean): Promise<{ path: string; key: Buffer } | undefined> {
  let key: Buffer;
  try {
    key = await readFile(path);
  } catch (err) {
    if (!explicit) return undefined;
    throw new AuthenticationError(`${host}: cannot read the private key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error || !(Array.isArray(parsed) ? parsed[0] : parsed)?.isPrivateKey()) {
    if (!explicit) return undefined;
    if (!(parsed instanceof Error)) throw new AuthenticationError(`${host}: ${path} is a public key, not a private key`);
    const encrypted = /passphrase|encrypted/i.test(parsed.message);
    throw new AuthenticationError(
      encrypted
        ? `${host}: the private key ${path} is protected by a passphrase: load it into ssh-agent (ssh-add ${path}) instead`
        : `${host}: cannot use the private key ${path}: ${parsed.message}`,
    );
  }
  return { path, key };
}

/** The public key blob (base64) of a private key file or its `.pub` beside it; undefined when neither is readable. */
function publicKeyOf(path: string, key: Buffer | undefined): string | undefined {
  if (key) {
    const parsed = ssh2.utils.parseKey(key);
    const one = Array.isArray(parsed) ? parsed[0] : parsed;
    if (one && !(one instanceof Error)) return one.getPublicSSH().toString('base64');
  }
  try {
    return readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/)[1];
  } catch {
    return undefined;
  }
}

/** An agent that offers only the keys of the configured identity files (IdentitiesOnly), as ssh does. */
function onlyTheseKeys(socket: string, allowed: Set<string>): BaseAgent {
  const agent = new ssh2.OpenSSHAgent(socket);
  const getIdentities = agent.getIdentities.bind(agent);
  agent.getIdentities = (cb) =>
    getIdentities((err, keys) => cb(err ?? undefined, keys?.filter((k) => allowed.has((k as ParsedKey).getPublicSSH().toString('base64')))));
  return agent;
}

/** Runs a ProxyCommand (`sh -c`, as ssh does): its stdout/stdin is the stream the SSH session runs over. */
function proxyCommandTransport(label: string, command: string): { open: () => Promise<Duplex>; said: () => Promise<string | undefined> } {
  let stderr = '';
  let exit: string | undefined;
  let closed: Promise<void> = Promise.resolve();
  return {
    // After the session failed its stream is destroyed, which stops the command: wait for all its stderr.
    said: async () => {
      await closed;
      const out = stderr.trim();
      return out || exit ? `ProxyCommand ${command}${exit ? ` ${exit}` : ''}${out ? `, said:\n${out}` : ''}` : undefined;
    },
    open: () =>
      new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'] });
        closed = new Promise((r) => child.once('close', () => r()));
        child.once('error', (err) => reject(new ConnectionError(`${label}: cannot run the ProxyCommand ${command}: ${err.message}`)));
        child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
        child.stdin.on('error', () => {}); // the command may exit first; the session reports the loss
        child.once('exit', (code, signal) => (exit = signal ? `was killed by ${signal}` : `exited with code ${code}`));
        child.once('spawn', () => {
          const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
          stream.once('close', () => {
            if (child.exitCode === null && child.signalCode === null) child.kill();
          });
          resolve(stream);
        });
      }),
  };
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, one ProxyJump hop. */
export function parseJumpHop(spec: string, where: string): { user?: string; host: string; port?: number } {
  const m = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]\s]+\]|[^:@/\s]+)(?::(\d+))?\/?$/.exec(spec);
  if (!m) throw new InputError(`${where}: ProxyJump hop '${spec}' is not [user@]host[:port]`);
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new InputError(`${where}: ProxyJump hop '${spec}' has no valid port`);
  return {
    ...(m[1] !== undefined ? { user: m[1] } : {}),
    host: m[2]!.replace(/^\[(.*)\]$/, '$1'),
    ...(port !== undefined ? { port } : {}),
  };
}

/** What is the same for the target and every jump host on its way: where to read config and keys. */
interface RunContext {
  sshConfigPath?: string;
  extraKnownHostsFiles?: string[];
  knownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
}

interface PooledHop {
  conn: Promise<SshConnection>;
  users: number;
  /** Set while no connection goes through the hop: it closes when this fires. */
  idle?: NodeJS.Timeout;
}

/**
 * Jump host connections shared by every host behind them in this process: fifty hosts behind one bastion open one
 * connection to it. A hop with no connection through it stays open this long (the next host of a run with few
 * forks is on its way), then closes; closeJumpHosts() closes them all at once at the end of a run.
 */
const jumpPool = new Map<string, PooledHop>();
const jumpIdleMs = 10_000;

function dropHop(key: string, entry: PooledHop): void {
  if (entry.idle) clearTimeout(entry.idle);
  entry.idle = undefined;
  if (jumpPool.get(key) === entry) jumpPool.delete(key);
  void entry.conn.then((c) => c.close(), () => {});
}

/** Closes every jump host connection that no host connection uses any more (call when a run is over). */
export async function closeJumpHosts(): Promise<void> {
  const idle = [...jumpPool].filter(([, e]) => e.users === 0);
  for (const [key, entry] of idle) dropHop(key, entry);
  await Promise.all(idle.map(([, e]) => e.conn.then((c) => c.close(), () => {})));
}

/** Takes a share of the connection to the last of `hops` (reached through the ones before it). */
async function acquireJump(
  hops: readonly string[],
  ctx: RunContext,
  forHost: string,
  depth: number,
): Promise<{ conn: SshConnection; release: () => void }> {
  if (depth > maxJumpDepth) throw new InputError(`${forHost}: ProxyJump chain longer than ${maxJumpDepth} hops (a loop in the ssh config?)`);
  const spec = hops[hops.length - 1]!;
  const hop = parseJumpHop(spec, forHost);
  const label = `jump host ${hop.host}`;
  const options: SshOption[] = [];
  if (hop.user !== undefined) options.push(['User', hop.user]);
  if (hop.port !== undefined) options.push(['Port', String(hop.port)]);
  // The hops before this one are how it is reached, as `ssh -J a,b` reaches b through a.
  if (hops.length > 1) options.push(['ProxyJump', hops.slice(0, -1).join(',')]);
  const localUser = currentUser();
  const cfg = await loadSshConfig(hop.host, ctx.sshConfigPath, localUser, { options, host: label });
  const address = cfg.hostName ?? hop.host;
  const port = cfg.port ?? 22;
  const user = cfg.user ?? localUser;
  const key = JSON.stringify([user, address, port, cfg.proxyJump ?? null, cfg.proxyCommand ?? null, ctx]);
  let pooled = jumpPool.get(key);
  if (pooled) {
    const open = await pooled.conn.catch(() => undefined);
    if (open && !open.isOpen && jumpPool.get(key) === pooled) jumpPool.delete(key); // dropped: connect again
  }
  pooled = jumpPool.get(key);
  if (!pooled) {
    const entry: PooledHop = { users: 0, conn: undefined as never };
    entry.conn = openEndpoint({ label, alias: hop.host, cfg, ctx, depth, explicitKeyFiles: [] });
    jumpPool.set(key, entry);
    pooled = entry;
  }
  const entry = pooled;
  entry.users++;
  if (entry.idle) clearTimeout(entry.idle);
  entry.idle = undefined;
  let released = false;
  const release = (failed = false) => {
    if (released) return;
    released = true;
    entry.users--;
    if (entry.users > 0) return;
    if (failed) dropHop(key, entry); // a failed hop is tried again by the next host
    else {
      entry.idle = setTimeout(() => dropHop(key, entry), jumpIdleMs);
      entry.idle.unref();
    }
  };
  try {
    return { conn: await entry.conn, release: () => release() };
  } catch (err) {
    release(true);
    if (jumpPool.get(key) === entry) jumpPool.delete(key);
    throw err;
  }
}

interface Endpoint {
  /** The name errors start with: the inventory host, or `jump host X`. */
  label: string;
  alias: string;
  cfg: SshConfigValues;
  ctx: RunContext;
  depth: number;
  /** Keys named by the inventory, the CLI or -i: an unreadable one is an error, not skipped. */
  explicitKeyFiles: string[];
  password?: string;
  become?: BecomeSettings;
  persistentShell?: boolean;
  /** Wins over the config's ConnectTimeout (the target's: ssh args, else --connect-timeout, as Ansible passes it). */
  timeoutMs?: number;
}

/** Connects to one resolved endpoint: credentials, known_hosts and transport as its config says. */
async function openEndpoint(e: Endpoint): Promise<SshConnection> {
  const { cfg, ctx, label } = e;
  const localUser = currentUser();
  const address = cfg.hostName ?? e.alias;
  const port = cfg.port ?? 22;
  const user = cfg.user ?? localUser;

  const keys: { path: string; key: Buffer }[] = [];
  const add = (k: { path: string; key: Buffer } | undefined) => {
    if (k && !keys.some((o) => o.path === k.path)) keys.push(k);
  };
  for (const f of e.explicitKeyFiles) add(await loadKey(label, f, true));
  for (const f of cfg.identityFiles) add(await loadKey(label, f, false));
  if (keys.length === 0 && e.password === undefined) {
    // As ssh does without -i: the usual key files that exist.
    for (const f of defaultIdentityFiles) {
      const path = join(homedir(), '.ssh', f);
      if (existsSync(path)) add(await loadKey(label, path, false));
    }
  }
  const pubkey = cfg.pubkeyAuthentication !== false;
  const socket = cfg.identityAgent ?? (process.env.SSH_AUTH_SOCK || 'none');
  let agent: string | BaseAgent | undefined = pubkey && socket !== 'none' ? socket : undefined;
  if (agent !== undefined && cfg.identitiesOnly) {
    const allowed = new Set<string>();
    for (const f of [...e.explicitKeyFiles, ...cfg.identityFiles]) {
      const pub = publicKeyOf(f, keys.find((k) => k.path === f)?.key);
      if (pub) allowed.add(pub);
    }
    agent = onlyTheseKeys(socket, allowed);
  }

  const knownHostsFiles = ctx.knownHostsFiles ?? [
    ...(ctx.extraKnownHostsFiles ?? []),
    ...(cfg.userKnownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts')]),
  ];
  const timeoutMs = e.timeoutMs ?? cfg.connectTimeoutMs ?? ctx.connectTimeoutMs;

  let openTransport: (() => Promise<Duplex>) | undefined;
  let transportError: (() => Promise<string | undefined>) | undefined;
  let release: (() => void) | undefined;
  let via: string | undefined;
  if (cfg.proxyJump) {
    const jump = await acquireJump(cfg.proxyJump, ctx, label, e.depth + 1);
    release = jump.release;
    via = `via ${cfg.proxyJump.join(',')}`;
    openTransport = () => jump.conn.forwardOut(address, port, label);
  } else if (cfg.proxyCommand) {
    const command = expandProxyCommand(cfg.proxyCommand, { host: address, port, user, alias: e.alias });
    const proxy = proxyCommandTransport(label, command);
    via = `via ProxyCommand`;
    openTransport = proxy.open;
    transportError = proxy.said;
  }
  try {
    return await SshConnection.connect({
      host: label,
      address,
      port,
      user,
      privateKeys: pubkey ? keys : [],
      password: cfg.passwordAuthentication === false ? undefined : e.password,
      agent,
      knownHostsFiles,
      acceptNewHostKeys: ctx.acceptNewHostKeys || cfg.acceptNewHostKeys,
      connectTimeoutMs: timeoutMs,
      become: e.become,
      persistentShell: e.persistentShell,
      openTransport,
      transportError,
      via,
      onClose: release,
    });
  } catch (err) {
    release?.();
    throw err;
  }
}

/**
 * Opens the SSH connection for one host. Settings are read as ssh reads them, first value winning: the -o options of
 * `ansible_ssh_args`, then the inventory's user and port, then those of the common and extra args, then the ssh
 * config; default user the current one and default port 22.
 */
export async function connectHost(target: SshTarget): Promise<Connection> {
  const localUser = currentUser();
  const options: SshOption[] = [];
  const argsOf = (name: string) => (target.sshArgs ?? []).filter((a) => a.variable === name);
  let configFile = target.sshConfigPath;
  const parse = (a: { variable: string; args: string[] }) =>
    parseSshArgs(a.args, `host ${target.host}: ${a.variable}`, (f) => (configFile = f.replace(/^~(?=\/|$)/, homedir())));
  for (const a of argsOf('ansible_ssh_args')) options.push(...parse(a));
  if (target.user !== undefined) options.push(['User', target.user]);
  if (target.port !== undefined) options.push(['Port', String(target.port)]);
  for (const a of (target.sshArgs ?? []).filter((x) => x.variable !== 'ansible_ssh_args')) options.push(...parse(a));

  const cfg = await loadSshConfig(target.address, configFile, localUser, { options, host: target.host });
  const tilde = (p: string) => p.replace(/^~(?=\/|$)/, homedir()); // `~/…` as ssh and Ansible read it
  const explicitKeyFiles = [
    ...(target.privateKeyFile !== undefined ? [tilde(target.privateKeyFile)] : []),
    ...options.filter(([k]) => k.toLowerCase() === 'identityfile').map(([, v]) => tilde(v)),
  ];
  const argsTimeout = options.find(([k]) => k.toLowerCase() === 'connecttimeout');
  return openEndpoint({
    timeoutMs: argsTimeout ? cfg.connectTimeoutMs : target.connectTimeoutMs,
    label: target.host,
    alias: target.address,
    cfg,
    ctx: {
      sshConfigPath: configFile, // jump hosts read the same file, as ssh passes -F on to them
      knownHostsFiles: target.knownHostsFiles,
      extraKnownHostsFiles: target.extraKnownHostsFiles,
      acceptNewHostKeys: target.acceptNewHostKeys,
      connectTimeoutMs: target.connectTimeoutMs,
    },
    depth: 0,
    explicitKeyFiles,
    password: target.password,
    become: target.become,
    persistentShell: target.persistentShell,
  });
}
