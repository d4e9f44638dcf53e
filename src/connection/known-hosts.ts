// Host key verification against OpenSSH known_hosts files (hashed entries, markers, patterns): pure, so it is unit-tested.
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written: a comma-separated pattern list, or a hashed `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The key blob in base64, as written. */
  key: string;
}

/** Parses one known_hosts file; lines that cannot be entries (comments, blanks, garbage) are skipped, as ssh does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: ssh ignores the line
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return;
    entries.push({ file, line: i + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** The name a host is recorded under: `host` on port 22, `[host]:port` otherwise (as OpenSSH writes it). */
export function knownHostName(address: string, port = 22): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** OpenSSH's pattern match: `*` any run of characters, `?` one character, the rest literal (case-insensitive). */
export function matchPattern(name: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function matchHashed(name: string, field: string): boolean {
  const parts = field.split('|'); // '', '1', salt, hash
  if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  return createHmac('sha1', salt).update(name).digest('base64') === parts[3];
}

/**
 * Whether an entry's host field names `name`: a hashed entry compares HMAC-SHA1(salt, name); a pattern list matches
 * when some pattern matches and no negated (`!pattern`) one does.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return matchHashed(name, field);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (matchPattern(name, pattern.slice(1))) return false;
    } else if (matchPattern(name, pattern)) {
      matched = true;
    }
  }
  return matched;
}

/** Reads the key type from an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:…` fingerprint of a key blob, as ssh prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  | { status: 'changed'; entry: KnownHostEntry }
  /**
   * Not recorded; `otherTypes` lists key types recorded for this host under other algorithms; `certAuthority` is a
   * `@cert-authority` line naming the host (its keys are meant to be trusted through certificates).
   */
  | { status: 'unknown'; otherTypes: string[]; certAuthority?: KnownHostEntry };

/** Decides what a host's key means given the recorded entries: revoked, known, changed or unknown. */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(blob);
  const key = blob.toString('base64');
  // A revoked key is refused for any host the line names, even when another line accepts it.
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key === key && hostFieldMatches(e.hosts, name));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name));
  const known = forHost.find((e) => e.key === key);
  if (known) return { status: 'known', entry: known };
  const changed = forHost.find((e) => e.keyType === keyType);
  if (changed) return { status: 'changed', entry: changed };
  const otherTypes = [...new Set(forHost.map((e) => e.keyType))];
  const certAuthority = entries.find((e) => e.marker === 'cert-authority' && hostFieldMatches(e.hosts, name));
  return certAuthority ? { status: 'unknown', otherTypes, certAuthority } : { status: 'unknown', otherTypes };
}

const defaultHostKeyAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms to offer, those of keys already recorded for the host first: like OpenSSH, so a host with
 * several keys shows the one we know rather than a "changed" one of another type.
 */
export function hostKeyAlgorithmsFor(entries: readonly KnownHostEntry[], name: string): string[] {
  const preferred: string[] = [];
  for (const e of entries) {
    if (e.marker !== undefined || !hostFieldMatches(e.hosts, name)) continue;
    const algs = e.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.keyType];
    for (const a of algs) if (defaultHostKeyAlgorithms.includes(a) && !preferred.includes(a)) preferred.push(a);
  }
  return [...preferred, ...defaultHostKeyAlgorithms.filter((a) => !preferred.includes(a))];
}

/** The line appended for an accepted key. */
export function formatKnownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
}

/** The refusal of an unknown key, saying how to accept it. */
export function unknownHostKeyMessage(name: string, blob: Buffer, files: readonly string[], otherTypes: readonly string[] = []): string {
  const where = files.length > 0 ? files.join(', ') : '~/.ssh/known_hosts';
  const also = otherTypes.length > 0 ? ` (keys of other types are known for it: ${otherTypes.join(', ')})` : '';
  return (
    `the authenticity of host ${name} can't be established: its ${keyTypeOf(blob)} key ${fingerprintOf(blob)} ` +
    `is not in ${where}${also}. If you trust it, run again with --accept-new-host-keys to add it to ${files[0] ?? '~/.ssh/known_hosts'}.`
  );
}

/** The loud refusal of a changed key, in OpenSSH's words, naming the file and line of the recorded key. */
export function changedHostKeyMessage(name: string, blob: Buffer, entry: KnownHostEntry): string {
  return [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
    `The ${keyTypeOf(blob)} key sent by ${name} has fingerprint ${fingerprintOf(blob)}.`,
    `Offending key in ${entry.file}:${entry.line}`,
    `Host key verification failed: remove that line if the change is expected (ssh-keygen -R '${name}' -f ${entry.file}).`,
  ].join('\n');
}

/** The refusal of a key marked @revoked. */
export function revokedHostKeyMessage(name: string, blob: Buffer, entry: KnownHostEntry): string {
  return `the ${keyTypeOf(blob)} key ${fingerprintOf(blob)} of host ${name} is marked @revoked in ${entry.file}:${entry.line}: refused`;
}

/**
 * The refusal of a host whose keys known_hosts trusts through a certificate authority: provision does not check host
 * certificates, and accepting the bare key would pin it and bypass the CA, so no --accept-new-host-keys advice.
 */
export function certAuthorityMessage(name: string, blob: Buffer, entry: KnownHostEntry): string {
  return (
    `host ${name} is trusted through a @cert-authority line (${entry.file}:${entry.line}): host certificates are not ` +
    `supported by provision, and its ${keyTypeOf(blob)} key ${fingerprintOf(blob)} is not recorded on its own. ` +
    `Reach it with ssh, or record the host's key itself after checking it out of band.`
  );
}
