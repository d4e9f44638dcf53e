// Reads ~/.ssh/config (HostName, User, Port, IdentityFile) so hosts reach the same place as with `ssh alias`.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { InputError } from '../errors.js';

export interface SshConfigValues {
  hostName?: string;
  user?: string;
  port?: number;
  /** IdentityFile entries in order, `~` expanded; `%d`/`%h`/`%r`/`%u` tokens expanded. */
  identityFiles: string[];
}

/** Expands the tokens ssh_config allows in IdentityFile (the common ones) and a leading `~`. */
function expandPath(path: string, tokens: { h: string; r: string; u: string; d: string }): string {
  const expanded = path.replace(/%([%dhru])/g, (_, t: string) => (t === '%' ? '%' : tokens[t as 'd' | 'h' | 'r' | 'u']));
  return expanded === '~' ? tokens.d : expanded.startsWith('~/') ? join(tokens.d, expanded.slice(2)) : expanded;
}

/**
 * What an ssh config says for `alias` (first value wins, as in ssh). Pure: the caller reads the file.
 * `Match exec` sections are not evaluated (no command runs while resolving a host); `source` names the file in errors.
 */
export function resolveSshConfig(
  alias: string,
  configText: string,
  env: { home?: string; localUser?: string; source?: string } = {},
): SshConfigValues {
  let parsed: SSHConfig;
  try {
    parsed = SSHConfig.parse(configText);
  } catch (err) {
    throw new InputError(`${env.source ?? 'ssh config'}: cannot parse: ${(err as Error).message}`);
  }
  const computed = parsed.compute(alias, { ignoreCase: true, matchExec: false });
  const first = (key: string): string | undefined => {
    const v = computed[key];
    return Array.isArray(v) ? v[0] : v;
  };
  const out: SshConfigValues = { identityFiles: [] };
  const hostName = first('hostname');
  if (hostName) out.hostName = hostName.replace(/%h/g, alias);
  const user = first('user');
  if (user) out.user = user;
  const port = first('port');
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new InputError(`${env.source ?? 'ssh config'}: Port for ${alias} is not a port number: ${port}`);
    }
    out.port = n;
  }
  const ids = computed.identityfile;
  const list = Array.isArray(ids) ? ids : ids ? [ids] : [];
  const tokens = {
    h: out.hostName ?? alias,
    r: out.user ?? env.localUser ?? '',
    u: env.localUser ?? '',
    d: env.home ?? homedir(),
  };
  out.identityFiles = list.filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, tokens));
  return out;
}

/** Reads the ssh config file (default ~/.ssh/config) and resolves `alias`; a missing file means no settings. */
export async function loadSshConfig(alias: string, path?: string, localUser?: string): Promise<SshConfigValues> {
  const file = path ?? join(homedir(), '.ssh', 'config');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && path === undefined) return { identityFiles: [] };
    throw new InputError(`${file}: cannot read the ssh config: ${(err as Error).message}`);
  }
  return resolveSshConfig(alias, text, { localUser, source: file });
}
