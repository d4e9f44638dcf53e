// Walks a directory tree on the controller: each entry's type, mode and (memoized) sha256, for sync to compare.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import type { Exclude } from './glob.js';

export interface LocalEntry {
  /** Path relative to the root with '/' separators; '' for the root itself. */
  path: string;
  abs: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  sha256?: string;
  linkTarget?: string;
}

const hashes = new Map<string, { sig: string; sha256: string }>();

function signature(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

/** sha256 of a local file, recomputed only when its size, mtime or inode changes. */
export function hashLocalFile(abs: string, st: Stats = lstatSync(abs)): string {
  const sig = signature(st);
  const hit = hashes.get(abs);
  if (hit && hit.sig === sig) return hit.sha256;
  const sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
  if (hashes.size > 100_000) hashes.clear();
  hashes.set(abs, { sig, sha256 });
  return sha256;
}

/** Lists a local tree (root first, then depth-first, sorted by name); excluded entries and sockets/fifos are left out. */
export function walkLocalTree(root: string, exclude: Exclude, what: string): LocalEntry[] {
  let rootStat;
  try {
    rootStat = lstatSync(root);
  } catch {
    throw new InputError(`${what}: local directory not found: ${root}`);
  }
  if (!rootStat.isDirectory()) throw new InputError(`${what}: ${root} is not a directory`);
  const out: LocalEntry[] = [entryOf('', root, rootStat)];
  const walk = (dir: string, rel: string): void => {
    const names = readdirSync(dir).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(abs);
      if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) continue;
      if (exclude.test(path, st.isDirectory())) continue;
      out.push(entryOf(path, abs, st));
      if (st.isDirectory()) walk(abs, path);
    }
  };
  walk(root, '');
  return out;
}

function entryOf(path: string, abs: string, st: Stats): LocalEntry {
  const base = { path, abs, mode: st.mode & 0o7777, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkTarget: readlinkSync(abs) };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  return { ...base, type: 'file', sha256: hashLocalFile(abs, st) };
}
