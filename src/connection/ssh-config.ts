// Reads ~/.ssh/config as OpenSSH does (Host and Match blocks, Include, first value wins) so hosts reach the same place,
// through the same jump hosts, as with `ssh alias`; options given on the command line come first, as in ssh.
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, sep } from 'node:path';
import SSHConfig, { type Directive, type Line, type Match, type Section } from 'ssh-config';
import { InputError } from '../errors.js';
import { matchPattern } from './known-hosts.js';
import { quote } from './quote.js';
import { unsupportedOption, type SshOption } from './ssh-options.js';

export interface SshConfigValues {
  hostName?: string;
  user?: string;
  port?: number;
  /** IdentityFile entries in order, `~` expanded; `%d`/`%h`/`%r`/`%u` tokens expanded. */
  identityFiles: string[];
  /** ProxyJump hops in order (`[user@]host[:port]` or `ssh://…`), when the first of ProxyJump/ProxyCommand set is ProxyJump. */
  proxyJump?: string[];
  /** ProxyCommand with its tokens still in (they need the final port and user), when it came first. */
  proxyCommand?: string;
  identitiesOnly?: boolean;
  /** UserKnownHostsFile files, `~` and tokens expanded (`none`: an empty list). */
  userKnownHostsFiles?: string[];
  /** IdentityAgent: a socket path, or `none` for no agent (`SSH_AUTH_SOCK` and `$VAR` resolved). */
  identityAgent?: string;
  /** StrictHostKeyChecking accept-new: accept unknown keys as --accept-new-host-keys does. */
  acceptNewHostKeys?: boolean;
  passwordAuthentication?: boolean;
  pubkeyAuthentication?: boolean;
  connectTimeoutMs?: number;
}

export interface SshConfigEnv {
  home?: string;
  localUser?: string;
  /** The config file, for messages. */
  source?: string;
  /** Command-line options (`-o`, in order): read before the file, so they win, as in ssh. */
  options?: readonly SshOption[];
  /** Host name for messages (the inventory name). */
  host?: string;
}

/** Expands the tokens ssh_config allows in file names (the common ones) and a leading `~`. */
function expandPath(path: string, tokens: Record<'h' | 'r' | 'u' | 'd' | 'p' | 'n', string>): string {
  const expanded = path.replace(/%([%dhrupn])/g, (_, t: string) => (t === '%' ? '%' : tokens[t as 'd']));
  return expanded === '~' ? tokens.d : expanded.startsWith('~/') ? join(tokens.d, expanded.slice(2)) : expanded;
}

/** Canonical spellings: the parser recognises command directives and updates Match state only under these. */
const canonical = new Map(
  ['HostName', 'User', 'Port', 'IdentityFile', 'ProxyCommand', 'ProxyJump', 'Include', 'UserKnownHostsFile', 'IdentityAgent', 'Host', 'Match'].map(
    (k) => [k.toLowerCase(), k],
  ),
);

const knownCriteria = new Set(['all', 'host', 'originalhost', 'user', 'localuser', 'final', 'canonical']);

function isSection(line: Line): line is Section {
  return line.type === SSHConfig.DIRECTIVE && 'config' in line;
}

function values(d: Directive): string[] {
  return typeof d.value === 'string' ? [d.value] : d.value.map((v) => v.val);
}

/** Files an Include pattern names, sorted as glob(3) gives them; `*` and `?` may appear in any path component. */
function globFiles(pattern: string): string[] {
  const parts = pattern.split(sep).filter((p, i) => p !== '' || i === 0);
  let found = [parts[0] === '' ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (!n.startsWith('.') && matchPattern(n, part)) next.push(join(dir, n));
    }
    found = next;
  }
  return found;
}

/**
 * Splices the files `Include` names into the parsed config (relative names are under ~/.ssh, as for a user config;
 * a name that matches no file is skipped, as ssh does). An Include inside a Host or Match block whose files have
 * blocks of their own would need the two conditions together, which this parser cannot express: refused, by name.
 */
function expandIncludes(lines: SSHConfig, ctx: { home: string; source: string; depth: number }, inBlock: string | undefined): Line[] {
  const out: Line[] = [];
  for (const line of lines) {
    if (line.type !== SSHConfig.DIRECTIVE) {
      out.push(line);
      continue;
    }
    const key = line.param.toLowerCase();
    line.param = canonical.get(key) ?? key;
    if (isSection(line)) {
      if (line.param === 'Match') {
        const criteria = Object.keys((line as Match).criteria ?? {});
        const unknown = criteria.find((c) => !knownCriteria.has(c.toLowerCase()));
        if (unknown !== undefined) {
          const why = unknown.toLowerCase() === 'exec' ? ' (provision runs no command while reading the config)' : '';
          throw new InputError(`${ctx.source}: Match ${unknown} is not supported by provision${why}`);
        }
      }
      const block = `${line.param} ${values(line).join(' ')}`;
      const inner = expandIncludes(line.config, ctx, line.param === 'Host' && values(line).every((v) => v === '*') ? undefined : block);
      line.config.splice(0, line.config.length, ...inner);
      out.push(line);
      continue;
    }
    if (line.param !== 'Include') {
      out.push(line);
      continue;
    }
    if (ctx.depth >= 16) throw new InputError(`${ctx.source}: Include nested too deeply (a loop?)`);
    for (const pattern of values(line)) {
      const tilde = pattern === '~' || pattern.startsWith('~/') ? join(ctx.home, pattern.slice(1)) : pattern;
      const abs = isAbsolute(tilde) ? tilde : join(ctx.home, '.ssh', tilde);
      for (const file of globFiles(abs)) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EISDIR' || (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw new InputError(`${ctx.source}: Include ${pattern}: cannot read ${file}: ${(err as Error).message}`);
        }
        const included = parseConfig(text, file);
        const expanded = expandIncludes(included, { ...ctx, source: file, depth: ctx.depth + 1 }, inBlock);
        if (inBlock !== undefined && expanded.some(isSection)) {
          throw new InputError(
            `${ctx.source}: Include ${pattern} inside "${inBlock}" names ${file}, which has Host or Match blocks of its own: not supported by provision (move the Include before the first Host block)`,
          );
        }
        out.push(...expanded);
      }
    }
  }
  return out;
}

function parseConfig(text: string, source: string): SSHConfig {
  try {
    return SSHConfig.parse(text);
  } catch (err) {
    throw new InputError(`${source}: cannot parse: ${(err as Error).message}`);
  }
}

function yesNo(value: string | undefined, key: string, where: string): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw new InputError(`${where}: ${key} must be yes or no, got: ${value}`);
}

/**
 * What an ssh config says for `alias`, as OpenSSH evaluates it: command-line options first, then the file's lines in
 * order (Host and Match blocks by the parser's own evaluation, Include spliced in), the first value of each option
 * winning. Throws InputError naming the file (and the host) for what provision cannot follow.
 */
export function resolveSshConfig(alias: string, configText: string, env: SshConfigEnv = {}): SshConfigValues {
  const source = env.source ?? 'ssh config';
  const home = env.home ?? homedir();
  const who = `host ${env.host ?? alias}`;
  checkCommandLine(alias, env.options ?? [], who);
  const file = parseConfig(configText, source);
  const expanded = expandIncludes(file, { home, source, depth: 0 }, undefined);
  const prefix = parseConfig(
    (env.options ?? [])
      .map(([k, v]) => {
        if (/[\r\n]/.test(v)) throw new InputError(`${who}: ssh option ${k} has a line break in its value`);
        return `${canonical.get(k.toLowerCase()) ?? k.toLowerCase()} ${v}`;
      })
      .join('\n'),
    'ssh options',
  );
  const all = parseConfig('', source);
  all.push(...prefix, ...expanded);
  const computed = all.compute(alias);
  const lower = new Map<string, string | string[]>();
  for (const [k, v] of Object.entries(computed)) lower.set(k.toLowerCase(), v);
  const first = (key: string): string | undefined => {
    const v = lower.get(key);
    return Array.isArray(v) ? v[0] : v;
  };
  const list = (key: string): string[] => {
    const v = lower.get(key);
    return Array.isArray(v) ? v : v !== undefined ? [v] : [];
  };
  for (const [key, v] of lower) {
    if (key === 'host' || key === 'match' || key === 'include') continue;
    for (const value of Array.isArray(v) ? v : [v]) {
      const problem = unsupportedOption(key, value, false);
      if (problem) throw new InputError(`${who}: ${problem} (set in ${source} or the ssh args)`);
    }
  }

  const out: SshConfigValues = { identityFiles: [] };
  const hostName = first('hostname');
  if (hostName) out.hostName = hostName.replace(/%h/g, alias);
  const user = first('user');
  if (user) out.user = user;
  const port = first('port');
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new InputError(`${source}: Port for ${alias} is not a port number: ${port}`);
    }
    out.port = n;
  }
  const tokens = {
    h: out.hostName ?? alias,
    n: alias,
    p: String(out.port ?? 22),
    r: out.user ?? env.localUser ?? '',
    u: env.localUser ?? '',
    d: home,
  };
  out.identityFiles = list('identityfile')
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandPath(f, tokens));

  // ProxyJump and ProxyCommand exclude each other: the first one set wins (the parser keeps keys in the order set),
  // except that `ProxyJump none` leaves a later ProxyCommand in force, as OpenSSH (checked with `ssh -G`) does.
  const proxy = [...lower.keys()].find((k) => k === 'proxyjump' || k === 'proxycommand');
  const jump = first('proxyjump');
  const cmd = first('proxycommand');
  if (proxy === 'proxyjump' && jump!.toLowerCase() !== 'none') {
    out.proxyJump = jump!.split(',').map((h) => h.trim()).filter((h) => h !== '');
  } else if (cmd !== undefined && cmd.toLowerCase() !== 'none') {
    out.proxyCommand = cmd;
  }
  const identitiesOnly = yesNo(first('identitiesonly'), 'IdentitiesOnly', who);
  if (identitiesOnly !== undefined) out.identitiesOnly = identitiesOnly;
  const knownHosts = list('userknownhostsfile');
  if (knownHosts.length > 0) {
    out.userKnownHostsFiles = knownHosts[0]!.toLowerCase() === 'none' ? [] : knownHosts.map((f) => expandPath(f, tokens));
  }
  const agent = first('identityagent');
  if (agent !== undefined) {
    const envVar = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(agent)?.[1] ?? (agent === 'SSH_AUTH_SOCK' ? 'SSH_AUTH_SOCK' : undefined);
    out.identityAgent = agent.toLowerCase() === 'none' ? 'none' : envVar !== undefined ? (process.env[envVar] || 'none') : expandPath(agent, tokens);
  }
  const strict = first('stricthostkeychecking')?.toLowerCase();
  if (strict === 'no' || strict === 'off') {
    throw new InputError(
      `${who}: StrictHostKeyChecking ${strict} is refused: provision always verifies host keys. To trust a host's key on first use, use --accept-new-host-keys (or StrictHostKeyChecking accept-new)`,
    );
  }
  if (strict === 'accept-new') out.acceptNewHostKeys = true;
  const password = yesNo(first('passwordauthentication'), 'PasswordAuthentication', who);
  if (password !== undefined) out.passwordAuthentication = password;
  const pubkey = yesNo(first('pubkeyauthentication'), 'PubkeyAuthentication', who);
  if (pubkey !== undefined) out.pubkeyAuthentication = pubkey;
  const timeout = first('connecttimeout');
  if (timeout !== undefined) {
    const n = Number(timeout);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${who}: ConnectTimeout must be a number of seconds, got: ${timeout}`);
    out.connectTimeoutMs = n * 1000;
  }
  return out;
}

/** Reads the ssh config file (default ~/.ssh/config) and resolves `alias`; a missing default file means no settings. */
export async function loadSshConfig(
  alias: string,
  path?: string,
  localUser?: string,
  extra: { options?: readonly SshOption[]; host?: string } = {},
): Promise<SshConfigValues> {
  const file = path ?? join(homedir(), '.ssh', 'config');
  let text = '';
  if (path === 'none') return resolveSshConfig(alias, '', { localUser, source: 'ssh -F none', ...extra }); // as ssh -F none
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (!((err as NodeJS.ErrnoException).code === 'ENOENT' && path === undefined)) {
      throw new InputError(`${file}: cannot read the ssh config: ${(err as Error).message}`);
    }
  }
  return resolveSshConfig(alias, text, { localUser, source: file, ...extra });
}

/**
 * Expands ProxyCommand's tokens (%h %p %r %n %%), as ssh does before running it, each value shell-quoted: a name the
 * checks below let through (a `$` in a user name, a `*` in a HostName from the config) is still passed as one word.
 */
export function expandProxyCommand(command: string, t: { host: string; port: number; user: string; alias: string }): string {
  return command.replace(/%([%hprn])/g, (_, c: string) =>
    c === '%' ? '%' : quote(c === 'h' ? t.host : c === 'p' ? String(t.port) : c === 'r' ? t.user : t.alias),
  );
}

/**
 * OpenSSH's rule for a host name given on its command line (valid_hostname, from the fix of CVE-2023-51385): no leading
 * `-`, no shell metacharacter, comma, whitespace or control character.
 */
export function validHostname(name: string): boolean {
  return !name.startsWith('-') && !/[\x00-\x20\x7f'`"$\\;&<>|(){},]/.test(name);
}

/**
 * OpenSSH's rule for a user name given on its command line (valid_ruser): no leading `-`, no control character, none
 * of '`";&<>|(){}, no whitespace before a `-`, no `\` at the end.
 */
export function validRemoteUser(name: string): boolean {
  return !name.startsWith('-') && !/[\x00-\x1f\x7f'`";&<>|(){}]|[\t\n\v\f\r ]-|\\$/.test(name);
}

/**
 * Refuses, as ssh does before reading its config, a host or user from the command line (for provision: the inventory,
 * its ssh args, a ProxyJump hop) that could be shell syntax where a ProxyCommand's %h, %n or %r expands it.
 */
function checkCommandLine(alias: string, options: readonly SshOption[], who: string): void {
  if (!validHostname(alias)) throw new InputError(`${who}: hostname contains invalid characters: ${JSON.stringify(alias)}`);
  // The user that is used: the first one given wins, as ssh (`-o User=root -l 'a|b'` connects as root) checks it.
  const user = options.find(([k]) => k.toLowerCase() === 'user')?.[1];
  if (user !== undefined && !validRemoteUser(user)) {
    throw new InputError(`${who}: remote username contains invalid characters: ${JSON.stringify(user)}`);
  }
}
