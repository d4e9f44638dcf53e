// ansible.cfg found and read as Ansible finds it, for the keys a run needs; what provision refuses is said here.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** The keys provision takes from ansible.cfg, already typed; paths are absolute (relative ones from the file's folder). */
export interface AnsibleConfig {
  /** The file read, or undefined when there is none. */
  path: string | undefined;
  inventory?: string[];
  remoteUser?: string;
  privateKeyFile?: string;
  forks?: number;
  timeout?: number;
  vaultPasswordFile?: string;
  become?: boolean;
  becomeUser?: string;
  becomeAskPass?: boolean;
  /** [privilege_escalation] become_method: sudo or su. */
  becomeMethod?: 'sudo' | 'su';
  /** [ssh_connection] ssh_args, the lowest-precedence value of the variable ansible_ssh_args. */
  sshArgs?: string;
  /** `section.key` of every setting in the file that provision does not use (said, not silently skipped). */
  unused: string[];
  /** What finding the file had to say (Ansible's warning for an ./ansible.cfg ignored in a world-writable folder). */
  warnings: string[];
}

const USED = new Set([
  'defaults.inventory', 'defaults.hostfile', 'defaults.remote_user', 'defaults.private_key_file', 'defaults.forks',
  'defaults.timeout', 'defaults.vault_password_file', 'defaults.host_key_checking', 'privilege_escalation.become',
  'privilege_escalation.become_user', 'privilege_escalation.become_ask_pass', 'privilege_escalation.become_method',
  'ssh_connection.ssh_args',
]);

/** Where Ansible looks, in order: $ANSIBLE_CONFIG (a file, or a folder holding ansible.cfg), ./ansible.cfg, ~/.ansible.cfg. */
export function findAnsibleConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), home = homedir()): string | undefined {
  return locateAnsibleConfig(env, cwd, home).path;
}

/** findAnsibleConfig, with the warning Ansible gives when it passes over ./ansible.cfg. */
function locateAnsibleConfig(env: NodeJS.ProcessEnv, cwd: string, home: string): { path: string | undefined; warnings: string[] } {
  const candidates: string[] = [];
  const fromEnv = env['ANSIBLE_CONFIG'];
  let envPath: string | undefined;
  if (fromEnv) {
    const p = resolve(cwd, fromEnv.replace(/^~(?=\/|$)/, home));
    envPath = existsSync(p) && statSync(p).isDirectory() ? join(p, 'ansible.cfg') : p;
    candidates.push(envPath);
  }
  // Ansible ignores ./ansible.cfg in a world-writable folder (anyone could plant one)
  const cwdWritable = (() => {
    try {
      return (statSync(cwd).mode & 0o002) !== 0;
    } catch {
      return false;
    }
  })();
  const cwdCfg = join(cwd, 'ansible.cfg');
  if (!cwdWritable) candidates.push(cwdCfg);
  candidates.push(join(home, '.ansible.cfg'));
  const path = candidates.find((p) => existsSync(p) && statSync(p).isFile());
  // As Ansible says it (its config manager, word for word), and when: an ./ansible.cfg was passed over, and the file
  // used (or none) is not the one ANSIBLE_CONFIG names.
  const warnings =
    cwdWritable && existsSync(cwdCfg) && (envPath === undefined || path !== envPath)
      ? [
          `Ansible is being run in a world writable directory (${cwd}), ignoring it as an ansible.cfg source. For more information see https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir`,
        ]
      : [];
  return { path, warnings };
}

/** Python's configparser (as Ansible sets it up: `;` starts an inline comment): section → key → value. */
export function parseIni(text: string, file: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineNo = i + 1;
    if (/^\s*$/.test(raw) || /^\s*[#;]/.test(raw)) {
      lastKey = undefined;
      return;
    }
    const line = raw.replace(/\s;.*$/, '');
    if (/^\s/.test(line) && current && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey)}\n${line.trim()}`);
      return;
    }
    const section = /^\[([^\]]+)\]\s*$/.exec(line);
    if (section) {
      const name = section[1]!.trim();
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      lastKey = undefined;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv) throw new InputError(`${file}:${lineNo}: expected "key = value" or a [section], got: ${raw.trim()}`);
    if (!current) throw new InputError(`${file}:${lineNo}: "${kv[1]}" comes before any [section]`);
    lastKey = kv[1]!.trim().toLowerCase();
    current.set(lastKey, kv[2]!.trim());
  });
  return sections;
}

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

function bool(value: string, file: string, key: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new InputError(`${file}: ${key} = ${value}: expected a boolean (true/false, yes/no, on/off, 1/0)`);
}

function int(value: string, file: string, key: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new InputError(`${file}: ${key} = ${value}: expected a whole number`);
  return Number(value);
}

const HOST_KEY_REFUSAL =
  'provision always verifies host keys, so host_key_checking = False is refused rather than silently ignored: ' +
  'remove it, and use --accept-new-host-keys to record the keys of hosts not yet in known_hosts (a changed key is still refused)';

/** Reads the ansible.cfg Ansible would use (or none); refuses host_key_checking = False with an explanation. */
export function loadAnsibleConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AnsibleConfig {
  const hkEnv = env['ANSIBLE_HOST_KEY_CHECKING'];
  if (hkEnv !== undefined && FALSE.has(hkEnv.trim().toLowerCase())) throw new InputError(`ANSIBLE_HOST_KEY_CHECKING=${hkEnv}: ${HOST_KEY_REFUSAL}`);
  const { path, warnings } = locateAnsibleConfig(env, cwd, homedir());
  if (!path) return { path: undefined, unused: [], warnings };
  const ini = parseIni(readFileSync(path, 'utf8'), path);
  const defaults = ini.get('defaults') ?? new Map<string, string>();
  const privilege = ini.get('privilege_escalation') ?? new Map<string, string>();
  const ssh = ini.get('ssh_connection') ?? new Map<string, string>();
  const base = dirname(path);
  const pathOf = (p: string) => {
    const expanded = p.replace(/^~(?=\/|$)/, homedir());
    return isAbsolute(expanded) ? expanded : resolve(base, expanded);
  };
  const unused: string[] = [];
  for (const [name, keys] of ini) for (const k of keys.keys()) if (!USED.has(`${name}.${k}`)) unused.push(`[${name}] ${k}`);
  const cfg: AnsibleConfig = { path, unused, warnings };
  const hk = defaults.get('host_key_checking');
  if (hk !== undefined && !bool(hk, path, 'host_key_checking')) throw new InputError(`${path}: host_key_checking = ${hk}: ${HOST_KEY_REFUSAL}`);
  const inv = defaults.get('inventory') ?? defaults.get('hostfile');
  if (inv) cfg.inventory = inv.split(',').map((s) => s.trim()).filter(Boolean).map(pathOf);
  const user = defaults.get('remote_user');
  if (user) cfg.remoteUser = user;
  const key = defaults.get('private_key_file');
  if (key) cfg.privateKeyFile = pathOf(key);
  const forks = defaults.get('forks');
  if (forks) cfg.forks = int(forks, path, 'forks');
  const timeout = defaults.get('timeout');
  if (timeout) cfg.timeout = int(timeout, path, 'timeout');
  const vpf = defaults.get('vault_password_file');
  if (vpf) cfg.vaultPasswordFile = pathOf(vpf);
  // become* keys live in [privilege_escalation]; Ansible reads nothing of them from [defaults]
  const become = privilege.get('become');
  if (become) cfg.become = bool(become, path, 'become');
  const becomeUser = privilege.get('become_user');
  if (becomeUser) cfg.becomeUser = becomeUser;
  const askPass = privilege.get('become_ask_pass');
  if (askPass) cfg.becomeAskPass = bool(askPass, path, 'become_ask_pass');
  const method = privilege.get('become_method');
  if (method) {
    const m = method.replace(/^ansible\.builtin\./, '');
    if (m !== 'sudo' && m !== 'su') throw new InputError(`${path}: become_method = ${method} is not supported: provision becomes with sudo, or su`);
    cfg.becomeMethod = m;
  }
  const sshArgs = ssh.get('ssh_args');
  if (sshArgs !== undefined) cfg.sshArgs = sshArgs;
  return cfg;
}
