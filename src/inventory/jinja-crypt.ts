// SHA-512 crypt ("$6$…", Ulrich Drepper's specification): what Ansible's password_hash('sha512') gives through
// Python's crypt module, computed here with node's sha512 so the controller needs no passlib.

import { createHash, randomInt } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const sha512 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `n` bytes of `block` repeated. */
function repeatTo(block: Buffer, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = block[i % block.length]!;
  return out;
}

/** A random 16-character salt of crypt's alphabet (what Ansible makes when no salt is given). */
export function randomSalt(): string {
  return Array.from({ length: 16 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

/** sha512_crypt of a password: `$6$salt$hash`, or `$6$rounds=N$salt$hash` when rounds are given. */
export function sha512Crypt(password: string, salt = randomSalt(), rounds?: number): string {
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  if (/[$:\n]/.test(S.toString())) throw new Error('password_hash: a salt may not hold "$", ":" or a newline');
  const n = rounds === undefined ? 5000 : Math.min(999_999_999, Math.max(1000, Math.trunc(rounds)));
  const B = sha512(P, S, P);
  const aParts = [P, S, repeatTo(B, P.length)];
  for (let len = P.length; len > 0; len >>= 1) aParts.push(len & 1 ? B : P);
  const A = sha512(...aParts);
  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const Pp = repeatTo(DP, P.length);
  const DS = sha512(...Array.from({ length: 16 + A[0]! }, () => S));
  const Sp = repeatTo(DS, S.length);
  let C = A;
  for (let i = 0; i < n; i++) {
    const parts: Buffer[] = [i & 1 ? Pp : C];
    if (i % 3) parts.push(Sp);
    if (i % 7) parts.push(Pp);
    parts.push(i & 1 ? C : Pp);
    C = sha512(...parts);
  }
  const order = [
    [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
    [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
  ];
  let out = '';
  const emit = (w: number, chars: number) => {
    for (let i = 0; i < chars; i++) {
      out += ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  for (const [a, b, c] of order) emit((C[a!]! << 16) | (C[b!]! << 8) | C[c!]!, 4);
  emit(C[63]!, 2);
  return `$6$${rounds === undefined ? '' : `rounds=${n}$`}${S.toString()}$${out}`;
}
