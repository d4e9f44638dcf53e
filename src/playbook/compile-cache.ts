// The compiled playbook, kept between runs: a playbook that has not changed since the last run is not compiled again,
// so that run loads neither esbuild's JavaScript nor its compiler process (~50 ms of CPU on a 2-core machine, a
// tenth of a 1-host run). An entry is used only when everything the compiled text was made from is as it was:
// the content of every file esbuild read, the names in their folders (a new `web.js` beside `web.ts`, or `lib.ts` beside
// `lib/`, changes what an import resolves to), the tsconfig.json, jsconfig.json and package.json files above them
// (they steer esbuild), where each package import resolves now, this library's own entry and esbuild's version.
// Not followed: a tsconfig.json's `extends` (a change there alone is not seen; PROVISION_CACHE_DIR= turns the cache off).
// An entry is code that runs: it is read only from a file and a folder of the current user that nobody else may write,
// and it must name the playbook's own content, so a planted entry (a shared cache folder, another user's) never runs.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bumped whenever the compile options or this file's format change: older entries are then never read. */
const format = 2;

/** Entries not written for this long are removed when another is written (a playbook compiled once, elsewhere). */
const keepMs = 30 * 24 * 3600 * 1000;

/** A package import of the playbook and the file it resolved to when it was compiled. */
export interface ResolvedPackage {
  specifier: string;
  href: string;
}

interface Entry {
  format: number;
  playbook: string;
  self: string;
  esbuild: string;
  /** Every file the compiled text depends on (absolute path), with the sha256 of its content, or null if missing. */
  files: Record<string, string | null>;
  /** The folders of the files esbuild read, with the sha256 of their sorted entry names. */
  folders: Record<string, string | null>;
  packages: ResolvedPackage[];
  code: string;
}

/**
 * The folder of the cache: $PROVISION_CACHE_DIR, else $XDG_CACHE_HOME/provision, else ~/.cache/provision;
 * undefined (no cache) when PROVISION_CACHE_DIR is set to the empty string.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PROVISION_CACHE_DIR !== undefined) return env.PROVISION_CACHE_DIR === '' ? undefined : resolve(env.PROVISION_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'provision');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function hashOf(path: string): string | null {
  try {
    return sha256(readFileSync(path));
  } catch {
    return null;
  }
}

function listingOf(dir: string): string | null {
  try {
    return sha256(readdirSync(dir).sort().join('\n'));
  } catch {
    return null;
  }
}

/** The config files esbuild may read for these source files: each folder's tsconfig/jsconfig/package.json, up to /. */
function configFiles(sources: string[]): string[] {
  const seen = new Set<string>();
  const files: string[] = [];
  for (const source of sources) {
    for (let dir = dirname(source); !seen.has(dir); dir = dirname(dir)) {
      seen.add(dir);
      for (const name of ['tsconfig.json', 'jsconfig.json', 'package.json']) files.push(join(dir, name));
      if (dirname(dir) === dir) break;
    }
  }
  return files;
}

function entryPath(dir: string, playbook: string, self: string): string {
  return join(dir, 'playbooks', `${sha256(`${playbook}\n${self}`).slice(0, 32)}.json`);
}

/**
 * The compiled text of `playbook` from the cache, when it is still what compiling it now would give; undefined
 * otherwise (never cached, changed, or the cache unreadable: the caller compiles).
 */
export function readCompiled(playbook: string, self: string, esbuildVersion: () => string): string | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  const path = entryPath(dir, playbook, self);
  const text = readOwnFile(path);
  if (text === undefined) return undefined;
  let entry: Entry;
  try {
    entry = JSON.parse(text) as Entry;
  } catch {
    return undefined;
  }
  if (!isEntry(entry) || entry.format !== format || entry.playbook !== playbook || entry.self !== self) return undefined;
  // The playbook's own content is always among what it was compiled from: an entry without it vouches for nothing.
  if (typeof entry.files[playbook] !== 'string') return undefined;
  for (const [file, hash] of Object.entries(entry.files)) if (hashOf(file) !== hash) return undefined;
  for (const [folder, hash] of Object.entries(entry.folders)) if (listingOf(folder) !== hash) return undefined;
  const require = createRequire(playbook);
  for (const p of entry.packages) {
    try {
      if (pathToFileURL(require.resolve(p.specifier)).href !== p.href) return undefined;
    } catch {
      return undefined;
    }
  }
  // Checked last, since it means loading esbuild's JavaScript (not its process): a reinstalled esbuild recompiles.
  if (entry.esbuild !== esbuildVersion()) return undefined;
  return entry.code;
}

/**
 * Keeps a compiled playbook for the next run: `sources` are the files esbuild read. A cache that cannot be written
 * costs only the next run's compile, so a failure here is not an error of the run.
 */
export function writeCompiled(playbook: string, self: string, esbuildVersion: string, sources: string[], packages: ResolvedPackage[], code: string): void {
  const dir = cacheDir();
  if (!dir) return;
  const files: Record<string, string | null> = {};
  for (const file of [...sources, ...configFiles(sources)]) files[file] = hashOf(file);
  const folders: Record<string, string | null> = {};
  for (const source of sources) folders[dirname(source)] ??= listingOf(dirname(source));
  const entry: Entry = { format, playbook, self, esbuild: esbuildVersion, files, folders, packages, code };
  const path = entryPath(dir, playbook, self);
  // A name nobody can guess, created here (wx: O_EXCL, so never through a link or into a file planted at the name).
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let created = false;
  try {
    // Owner-only: the compiled text holds the playbook's source, and whatever literal values it has.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!isOwnSafe(lstatSync(dirname(path)))) return; // an entry there would never be read: keep the code out of it
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
    created = true;
    renameSync(tmp, path);
  } catch {
    if (created) rmSync(tmp, { force: true });
    return;
  }
  prune(dirname(path));
}

/** Owned by the user running provision, and writable by nobody else (no group or world write bit). */
function isOwnSafe(st: Stats): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/**
 * The text of `path` when it and its folder are the current user's own and nobody else's to write: the folder a real
 * folder (not a link), the file opened without following a link and checked on the open descriptor (no swap between
 * the check and the read); undefined otherwise.
 */
function readOwnFile(path: string): string | undefined {
  try {
    const folder = lstatSync(dirname(path));
    if (!folder.isDirectory() || !isOwnSafe(folder)) return undefined;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      return st.isFile() && isOwnSafe(st) ? readFileSync(fd, 'utf8') : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The shape of an entry, checked before any of it is used (an entry is data from disk until it is proven). */
function isEntry(e: unknown): e is Entry {
  const isMap = (m: unknown) =>
    typeof m === 'object' && m !== null && !Array.isArray(m) && Object.values(m).every((v) => v === null || typeof v === 'string');
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return (
    typeof x.code === 'string' &&
    typeof x.esbuild === 'string' &&
    isMap(x.files) &&
    isMap(x.folders) &&
    Array.isArray(x.packages) &&
    x.packages.every((p) => typeof p === 'object' && p !== null && typeof (p as ResolvedPackage).specifier === 'string' && typeof (p as ResolvedPackage).href === 'string')
  );
}

/** Removes the entries (and left-over temporary files) older than keepMs: the cache does not grow without end. */
function prune(folder: string): void {
  const now = Date.now();
  try {
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      try {
        if (now - statSync(file).mtimeMs > keepMs) rmSync(file, { force: true });
      } catch {
        // gone already (another run pruned it)
      }
    }
  } catch {
    // an unreadable folder: nothing to prune
  }
}
