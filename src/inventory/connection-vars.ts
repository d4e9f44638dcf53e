// How to reach a host, read from its merged vars under Ansible's names or provision's shorter ones.

import { InputError } from '../errors.js';
import { secret } from '../secret.js';
import { shlexSplit } from './shlex.js';

/** Where and how to connect to one host, and whether to become another user there. */
export interface HostConnection {
  connection: 'ssh' | 'local';
  address: string;
  port?: number;
  user?: string;
  privateKeyFile?: string;
  password?: string;
  become?: boolean;
  becomeUser?: string;
  becomePassword?: string;
  /** How to become: `sudo` (default) or `su` (ansible_become_method). */
  becomeMethod?: 'sudo' | 'su';
  /**
   * ssh command-line arguments from ansible_ssh_args, ansible_ssh_common_args, ansible_ssh_extra_args (in that
   * order, the ones set), split as Ansible splits them (shlex).
   */
  sshArgs?: { variable: string; args: string[] }[];
}

/** Ansible's accepted spellings of a boolean (its `boolean` filter), so `become=yes` works as it does there. */
function toBoolean(value: unknown, name: string, host: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1;
  const s = String(value).trim().toLowerCase();
  if (['yes', 'on', '1', 'true', 't', 'y'].includes(s)) return true;
  if (['no', 'off', '0', 'false', 'f', 'n', ''].includes(s)) return false;
  throw new InputError(`host ${host}: ${name} must be a boolean, got: ${String(value)}`);
}

function pick(vars: Record<string, unknown>, names: string[]): [string, unknown] | undefined {
  for (const name of names) {
    const v = vars[name];
    if (v !== undefined && v !== null) return [name, v];
  }
  return undefined;
}

/**
 * Reads a host's connection settings from its merged vars. Each setting takes the first of these names
 * that is set (Ansible's names win over the short ones):
 *
 * | setting          | Ansible names                                    | short name        |
 * | ---------------- | ------------------------------------------------ | ----------------- |
 * | address          | ansible_host                                     | ssh_host          |
 * | port             | ansible_port (ansible_ssh_port)                  | ssh_port          |
 * | user             | ansible_user (ansible_ssh_user)                  | ssh_user          |
 * | private key file | ansible_ssh_private_key_file, ansible_private_key_file | ssh_key     |
 * | password         | ansible_password, ansible_ssh_pass, ansible_ssh_password | ssh_password |
 * | connection       | ansible_connection (`local` or `ssh`)            | connection        |
 * | become           | ansible_become                                   | become            |
 * | become user      | ansible_become_user                              | become_user       |
 * | become password  | ansible_become_password, ansible_become_pass     | become_password   |
 * | ssh arguments    | ansible_ssh_args, ansible_ssh_common_args, ansible_ssh_extra_args | —    |
 *
 * The address defaults to the inventory name (also for a `local` host). Passwords are registered as secrets
 * so they are redacted from output. Throws InputError on an
 * unknown connection type or a port that is not a number.
 */
export function resolveConnectionVars(vars: Record<string, unknown>, host: string): HostConnection {
  const str = (names: string[]): string | undefined => {
    const found = pick(vars, names);
    return found === undefined ? undefined : String(found[1]);
  };

  const connectionName = str(['ansible_connection', 'connection']) ?? 'ssh';
  // Ansible's ssh plugins go by several names; all mean "over SSH" here
  const connection = ['ssh', 'paramiko', 'paramiko_ssh', 'smart', 'ansible.builtin.ssh'].includes(connectionName)
    ? 'ssh'
    : ['local', 'ansible.builtin.local'].includes(connectionName)
      ? 'local'
      : undefined;
  if (!connection) throw new InputError(`host ${host}: unsupported connection '${connectionName}' (use ssh or local)`);

  const result: HostConnection = { connection, address: str(['ansible_host', 'ansible_ssh_host', 'ssh_host']) ?? host };

  const portVar = pick(vars, ['ansible_port', 'ansible_ssh_port', 'ssh_port']);
  if (portVar) {
    const port = typeof portVar[1] === 'number' ? portVar[1] : Number(String(portVar[1]).trim());
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InputError(`host ${host}: ${portVar[0]} must be a port number, got: ${String(portVar[1])}`);
    }
    result.port = port;
  }
  const user = str(['ansible_user', 'ansible_ssh_user', 'ssh_user']);
  if (user !== undefined) result.user = user;
  const key = str(['ansible_ssh_private_key_file', 'ansible_private_key_file', 'ssh_key']);
  if (key !== undefined) result.privateKeyFile = key;
  const password = str(['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password', 'ssh_password']);
  if (password !== undefined) result.password = secret(password);
  const become = pick(vars, ['ansible_become', 'become']);
  if (become) result.become = toBoolean(become[1], become[0], host);
  const becomeUser = str(['ansible_become_user', 'become_user']);
  if (becomeUser !== undefined) result.becomeUser = becomeUser;
  const becomePassword = str(['ansible_become_password', 'ansible_become_pass', 'become_password']);
  if (becomePassword !== undefined) result.becomePassword = secret(becomePassword);
  const becomeMethod = str(['ansible_become_method', 'become_method']);
  if (becomeMethod !== undefined) result.becomeMethod = becomeMethodOf(becomeMethod, `host ${host}: ansible_become_method`);
  for (const variable of ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const v = vars[variable];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new InputError(`host ${host}: ${variable} must be a string of ssh arguments, got: ${JSON.stringify(v)}`);
    let args: string[];
    try {
      // As Ansible's _split_ssh_args: shell words, each trimmed, empty ones dropped.
      args = shlexSplit(v).map((a) => a.trim()).filter((a) => a !== '');
    } catch (err) {
      throw new InputError(`host ${host}: ${variable}: cannot split ${JSON.stringify(v)}: ${(err as Error).message}`);
    }
    if (args.length > 0) (result.sshArgs ??= []).push({ variable, args });
  }
  return result;
}

/** A become method by Ansible's name: sudo, or su (as root: see prepareCommand); any other is refused, naming `where`. */
export function becomeMethodOf(method: string, where: string): 'sudo' | 'su' {
  const m = method.replace(/^ansible\.builtin\./, '');
  if (m === 'sudo' || m === 'su') return m;
  throw new InputError(`${where} ${method}: not supported (provision becomes with sudo, or su)`);
}
