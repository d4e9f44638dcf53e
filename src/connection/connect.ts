// Turns a host's connection settings (inventory, ~/.ssh/config, defaults) into an open Connection.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { AuthenticationError } from '../errors.js';
import { loadSshConfig } from './ssh-config.js';
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
  /** known_hosts files, in order (an accepted key goes to the first); default ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  /** ssh config file; default ~/.ssh/config (a missing default file is fine). */
  sshConfigPath?: string;
  /** One long-lived shell channel for all commands instead of a channel each (see SshConnectOptions). */
  persistentShell?: boolean;
  become: BecomeSettings;
}

const defaultIdentityFiles = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

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
  if (parsed instanceof Error) {
    if (!explicit) return undefined;
    const encrypted = /passphrase|encrypted/i.test(parsed.message);
    throw new AuthenticationError(
      encrypted
        ? `${host}: the private key ${path} is protected by a passphrase: load it into ssh-agent (ssh-add ${path}) instead`
        : `${host}: cannot use the private key ${path}: ${parsed.message}`,
    );
  }
  return { path, key };
}

/**
 * Opens the SSH connection for one host, with ssh config applied where the inventory did not say
 * (inventory values win), default user the current one and default port 22.
 */
export async function connectHost(target: SshTarget): Promise<Connection> {
  const localUser = currentUser();
  const cfg = await loadSshConfig(target.address, target.sshConfigPath, localUser);
  const address = cfg.hostName ?? target.address;
  const port = target.port ?? cfg.port ?? 22;
  const user = target.user ?? cfg.user ?? localUser;

  const keys: { path: string; key: Buffer }[] = [];
  const add = (k: { path: string; key: Buffer } | undefined) => {
    if (k && !keys.some((o) => o.path === k.path)) keys.push(k);
  };
  // `~/…` as ssh and Ansible read it.
  const keyFile = target.privateKeyFile?.replace(/^~(?=\/|$)/, homedir());
  if (keyFile) add(await loadKey(target.host, keyFile, true));
  for (const f of cfg.identityFiles) add(await loadKey(target.host, f, false));
  if (keys.length === 0 && target.password === undefined) {
    // As ssh does without -i: the usual key files that exist.
    for (const f of defaultIdentityFiles) {
      const path = join(homedir(), '.ssh', f);
      if (existsSync(path)) add(await loadKey(target.host, path, false));
    }
  }

  return SshConnection.connect({
    host: target.host,
    address,
    port,
    user,
    privateKeys: keys,
    password: target.password,
    agent: process.env.SSH_AUTH_SOCK || undefined,
    knownHostsFiles: target.knownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts')],
    acceptNewHostKeys: target.acceptNewHostKeys,
    connectTimeoutMs: target.connectTimeoutMs,
    become: target.become,
    persistentShell: target.persistentShell,
  });
}
