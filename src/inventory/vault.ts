// Ansible Vault (format 1.1 and 1.2, AES256): decrypts inline `!vault` values and whole encrypted files with
// the passwords given by --vault-password-file, --ask-vault-pass or --vault-id; every plaintext is marked secret.

import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { InventoryError } from '../errors.js';
import { secret } from '../secret.js';

/** One vault password and the vault id label it was given with ('default' when none). */
export interface VaultSecret {
  label: string;
  password: string;
}

let secrets: VaultSecret[] = [];

/** Sets the vault passwords the inventory loader decrypts with (the CLI calls this before loading). */
export function setVaultSecrets(list: VaultSecret[]): void {
  secrets = list.map((s) => ({ label: s.label, password: secret(s.password) }));
}

/** True when a text is an Ansible Vault envelope. */
export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;');
}

interface Envelope {
  version: string;
  cipher: string;
  label: string | undefined;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

function parseEnvelope(text: string): Envelope | string {
  const lines = text.trim().split(/\r?\n/).map((l) => l.trim());
  const header = lines.shift()!.split(';');
  const [magic, version, cipher, label] = header;
  if (magic !== '$ANSIBLE_VAULT' || (version !== '1.1' && version !== '1.2')) return `unsupported vault format version "${version ?? ''}" (supported: 1.1, 1.2)`;
  if (cipher !== 'AES256') return `unsupported vault cipher "${cipher ?? ''}" (supported: AES256)`;
  const body = lines.join('');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(body)) return 'the vault payload is not hexadecimal: the file is damaged';
  const parts = Buffer.from(body, 'hex').toString('latin1').split('\n');
  if (parts.length !== 3 || parts.some((p) => !/^(?:[0-9a-fA-F]{2})+$/.test(p))) return 'the vault payload is not salt, HMAC and ciphertext: the file is damaged';
  const [salt, hmac, ciphertext] = parts.map((p) => Buffer.from(p, 'hex')) as [Buffer, Buffer, Buffer];
  return { version, cipher, label: version === '1.2' ? label : undefined, salt, hmac, ciphertext };
}

/** Decrypts with one password, or returns undefined when the HMAC says the password is not this one. */
function decryptWith(env: Envelope, password: string): string | undefined {
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), env.salt, 10000, 80, 'sha256');
  const cipherKey = derived.subarray(0, 32);
  const hmacKey = derived.subarray(32, 64);
  const iv = derived.subarray(64, 80);
  const mac = createHmac('sha256', hmacKey).update(env.ciphertext).digest();
  if (mac.length !== env.hmac.length || !timingSafeEqual(mac, env.hmac)) return undefined;
  const decipher = createDecipheriv('aes-256-ctr', cipherKey, iv);
  const padded = Buffer.concat([decipher.update(env.ciphertext), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  const plain = pad >= 1 && pad <= 16 ? padded.subarray(0, padded.length - pad) : padded;
  return plain.toString('utf8');
}

/**
 * Decrypts a vault envelope found in `file` (at `line`), trying first the passwords whose label matches the
 * envelope's vault id, then the others, as Ansible does. The plaintext is marked secret.
 * Throws InventoryError naming the file when no password opens it.
 */
export function decryptVault(text: string, file: string, line?: number): string {
  const env = parseEnvelope(text);
  if (typeof env === 'string') throw new InventoryError(file, line, env);
  if (secrets.length === 0) {
    throw new InventoryError(file, line, 'vault-encrypted content, but no vault password was given: use --ask-vault-pass, --vault-password-file FILE or --vault-id label@source');
  }
  const ordered = [...secrets.filter((s) => s.label === env.label), ...secrets.filter((s) => s.label !== env.label)];
  for (const s of ordered) {
    const plain = decryptWith(env, s.password);
    if (plain !== undefined) return secret(plain);
  }
  const tried = [...new Set(secrets.map((s) => s.label))].join(', ');
  throw new InventoryError(file, line, `vault decryption failed: none of the vault passwords given (${tried}) opens it${env.label ? ` (it is encrypted with vault id "${env.label}")` : ''}`);
}
