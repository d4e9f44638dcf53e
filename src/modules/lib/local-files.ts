// Reads controller-side files once per content, not once per host: bytes and sha256 memoized by path and stat signature.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../../errors.js';

export interface LocalFile {
  path: string;
  content: Buffer;
  sha256: string;
  /** Permission bits of the local file. */
  mode: number;
}

const maxEntries = 512;
const files = new Map<string, { sig: string; file: LocalFile }>();
const digests = new Map<string, string>();

/** sha256 of bytes, hex. */
export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** sha256 of a string, memoized (a `content:` parameter is hashed once, however many hosts use it). */
export function sha256OfText(text: string): string {
  let d = digests.get(text);
  if (d === undefined) {
    d = sha256(text);
    if (digests.size >= maxEntries) digests.clear();
    digests.set(text, d);
  }
  return d;
}

const bufferDigests = new WeakMap<Buffer, string>();

/** sha256 of a Buffer, memoized per Buffer object. */
export function sha256OfBuffer(b: Buffer): string {
  let d = bufferDigests.get(b);
  if (d === undefined) {
    d = sha256(b);
    bufferDigests.set(b, d);
  }
  return d;
}

/** Resolves a controller path against the playbook's directory. */
export function resolveLocal(baseDir: string, src: string): string {
  return isAbsolute(src) ? src : resolve(baseDir, src);
}

/** Reads a local regular file with its sha256; re-read only when its size, mtime or inode changes. */
export function readLocalFile(path: string, what: string): LocalFile {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${what}: local file not found: ${path}`);
  }
  if (st.isDirectory()) throw new InputError(`${what}: ${path} is a directory (use sync for a directory tree)`);
  const sig = `${st.size}:${st.mtimeMs}:${st.ino}:${st.mode}`;
  const hit = files.get(path);
  if (hit && hit.sig === sig) return hit.file;
  const content = readFileSync(path);
  const file: LocalFile = { path, content, sha256: sha256(content), mode: st.mode & 0o7777 };
  if (files.size >= maxEntries) files.clear();
  files.set(path, { sig, file });
  return file;
}
