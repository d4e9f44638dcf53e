// Gathers vault passwords as ansible does from --vault-id label@source, --vault-password-file and --ask-vault-pass.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { type VaultSecret } from '../inventory/vault.js';
import { askPassword } from './prompt.js';

export interface VaultFlags {
  vaultId: string[];
  vaultPasswordFile: string[];
  askVaultPass: boolean;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A password from a file: an executable file is run and its stdout is the password, as Ansible does. */
export function readVaultPasswordFile(path: string, label: string): string {
  let text: string;
  if (isExecutable(path)) {
    const r = spawnSync(path, [], { encoding: 'utf8', stdio: ['inherit', 'pipe', 'pipe'] });
    if (r.error) throw new InputError(`vault password script ${path}: ${r.error.message}`);
    if (r.status !== 0) {
      throw new InputError(`vault password script ${path} (vault id "${label}") exited with code ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    }
    text = r.stdout;
  } else {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InputError(`vault password file ${path}: ${(err as Error).message}`);
    }
  }
  const password = text.trim();
  if (!password) throw new InputError(`vault password file ${path} (vault id "${label}") holds an empty password`);
  return password;
}

/** The vault secrets the options name, in the order given; prompts read the terminal (or stdin when there is none). */
export async function gatherVaultSecrets(flags: VaultFlags, configPasswordFile?: string): Promise<VaultSecret[]> {
  const out: VaultSecret[] = [];
  for (const id of flags.vaultId) {
    const at = id.indexOf('@');
    const label = at >= 0 ? id.slice(0, at) : 'default';
    const source = at >= 0 ? id.slice(at + 1) : id;
    if (!label || !source) throw new InputError(`--vault-id ${id}: expected label@source, where source is a file, a script or "prompt"`);
    const password = source === 'prompt' ? await askPassword(`Vault password (${label}): `) : readVaultPasswordFile(source, label);
    out.push({ label, password });
  }
  for (const file of flags.vaultPasswordFile) out.push({ label: 'default', password: readVaultPasswordFile(file, 'default') });
  if (flags.askVaultPass) out.push({ label: 'default', password: await askPassword('Vault password: ') });
  if (out.length === 0 && configPasswordFile) out.push({ label: 'default', password: readVaultPasswordFile(configPasswordFile, 'default') });
  return out;
}
