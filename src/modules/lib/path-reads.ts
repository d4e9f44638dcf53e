// A host's path reads as data: the stat requests its checks make together go out as one script (one `find` for every
// path, one `sha256sum` for every file, one `find` for the contents), and answers stay known for the run until
// anything else is asked of the host.
import { createHash } from 'node:crypto';
import { quote } from '../../connection/quote.js';
import type { Connection, ExecResult } from '../../connection/types.js';
import { CommandError } from '../../errors.js';
import type { TaskContext } from '../../playbook/types.js';
import { parseStat, statScript, type PathStat, type StatOptions } from './stat.js';

/** What one read asks of a path. */
interface Want {
  /** Follow a symbolic link: a link is then read on its own (statScript), everything else as when not followed. */
  follow: boolean;
  checksum: boolean;
  /** Always send a regular file's bytes (up to maxContent). */
  content: boolean;
  /** Send the bytes only when the file's sha256 is not this one. */
  contentUnless?: string;
  maxContent: number;
}

interface Entry {
  /** null: the path does not exist. */
  st: PathStat | null;
  /** A regular file's bytes, when they were read. */
  content?: Buffer;
}

interface Request {
  path: string;
  become: boolean;
  want: Want;
  resolve(st: PathStat | null): void;
  reject(err: unknown): void;
}

const defaultMaxContent = 256 * 1024;

/** Over what a record can need: the longest link target (PATH_MAX), two names, the numbers, the separators. */
const recordBytes = 5 * 1024;
/** Room for a shell's noise on top of the answer's own bound. */
const answerSlack = 1024 * 1024;

/**
 * The most a batch's answer can hold, from what it asks: a find record a path, a checksum line a summed file, the
 * base64 of a file's bytes up to `max` a content. A longer answer is not a batch's (a hostile `find`): it is cut
 * there, so a host holds no more controller memory than it was asked for, and the reads are redone one by one.
 */
export function batchAnswerBound(paths: readonly string[], sums: readonly string[], contents: readonly string[], max: number): number {
  const bytes = (p: string) => Buffer.byteLength(p) + 1;
  const sum = (ps: readonly string[], each: (p: string) => number) => ps.reduce((n, p) => n + each(p), 0);
  return (
    answerSlack +
    sum(paths, (p) => bytes(p) + recordBytes) +
    sum(sums, (p) => bytes(p) + 66) +
    sum(contents, (p) => bytes(p) + 4 * Math.ceil(max / 3) + 1)
  );
}

function wantOf(opts: StatOptions): Want {
  return {
    follow: opts.follow === true,
    checksum: opts.checksum === true || opts.contentUnless !== undefined || opts.content === true,
    content: opts.content === true,
    contentUnless: opts.contentUnless,
    maxContent: opts.maxContent ?? defaultMaxContent,
  };
}

/** The answer an entry gives a read, or undefined when the entry lacks what the read needs. */
function answer(entry: Entry, want: Want): PathStat | null | undefined {
  const st = entry.st;
  if (st === null) return null;
  if (st.type === 'link' && want.follow) return undefined;
  if (st.type !== 'file') return { ...st };
  if (want.checksum && st.sha256 === null) return undefined;
  const needsBytes = (want.content || (want.contentUnless !== undefined && st.sha256 !== want.contentUnless)) && st.size <= want.maxContent;
  if (!needsBytes) return { ...st, content: undefined };
  if (entry.content === undefined) return undefined;
  return { ...st, content: entry.content };
}

const typeOf: Record<string, PathStat['type']> = { f: 'file', d: 'directory', l: 'link' };

/**
 * The batch script (an inline script): `S` then, for every path that exists, find's record of it (path, type, mode,
 * uid, user, gid, group, size, link target; fields NUL-ended); `H` then sha256sum's `hash  path` of each regular
 * file in `sums`; `C` then, for each regular file of `contents` up to `max` bytes, its path NUL-ended and its bytes
 * in base64 on one line; `E` last. Paths are absolute, so none is taken for a marker or an option.
 */
export function batchScript(paths: readonly string[], sums: readonly string[], contents: readonly string[], max: number): string {
  const list = (ps: readonly string[]) => ps.map(quote).join(' ');
  const gather = (ps: readonly string[], test: string) =>
    ps.length === 0 ? 'set --' : `set --; for p in ${list(ps)}; do if ${test}; then set -- "$@" "$p"; fi; done`;
  const exists = '[ -e "$p" ] || [ -L "$p" ]';
  const regular = '[ -f "$p" ] && [ ! -L "$p" ]';
  return [
    'local p',
    gather(paths, exists),
    "printf 'S\\0'",
    `[ $# -eq 0 ] || find "$@" -maxdepth 0 -printf '%p\\0%y\\0%m\\0%U\\0%u\\0%G\\0%g\\0%s\\0%l\\0' || return 1`,
    gather(sums, regular),
    "printf 'H\\0'",
    '[ $# -eq 0 ] || sha256sum -z -- "$@" || return 1',
    gather(contents, regular),
    "printf 'C\\0'",
    `[ $# -eq 0 ] || find "$@" -maxdepth 0 -type f -size -${max + 1}c -printf '%p\\0' -exec base64 -w0 -- {} ';' -printf '\\n' || return 1`,
    "printf 'E\\0'",
  ].join('\n');
}

const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');

/** Parses batchScript's output (stdout as latin1) into entries by path; throws on anything unexpected. */
export function parseBatch(out: string, paths: readonly string[]): Map<string, Entry> {
  let at = 0;
  const field = (end = '\0'): string => {
    const i = out.indexOf(end, at);
    if (i < 0) throw new Error('the batch read ended early');
    const f = out.slice(at, i);
    at = i + 1;
    return f;
  };
  const entries = new Map<string, Entry>(paths.map((p) => [p, { st: null }]));
  if (field() !== 'S') throw new Error('the batch read did not start');
  let f = field();
  while (f !== 'H') {
    const [y, m, uid, owner, gid, group, size, link] = Array.from({ length: 8 }, () => field());
    const path = utf8(f);
    const entry = entries.get(path);
    if (!entry) throw new Error(`the batch read named a path it was not given: ${JSON.stringify(path)}`);
    const type = typeOf[y as string] ?? 'other';
    entry.st = {
      type,
      mode: parseInt(m as string, 8),
      uid: Number(uid),
      owner: utf8(owner as string),
      gid: Number(gid),
      group: utf8(group as string),
      size: Number(size),
      sha256: null,
      ...(type === 'link' ? { linkTarget: utf8(link as string) } : {}),
    };
    f = field();
  }
  for (f = field(); f !== 'C'; f = field()) {
    const entry = entries.get(utf8(f.slice(66)));
    if (!entry?.st || !/^[0-9a-f]{64}$/.test(f.slice(0, 64))) throw new Error(`the batch read gave an unexpected checksum line: ${JSON.stringify(f.slice(0, 200))}`);
    entry.st.sha256 = f.slice(0, 64);
  }
  for (f = field(); f !== 'E'; f = field()) {
    const entry = entries.get(utf8(f));
    if (!entry?.st) throw new Error(`the batch read sent the content of a path it was not given: ${JSON.stringify(f)}`);
    entry.content = Buffer.from(field('\n'), 'base64');
  }
  return entries;
}

/**
 * A host's path reads. Reads asked for in the same turn of the event loop (the checks of all a host's tasks start at
 * once) go out as one command. Answers are kept while nothing else is asked of the connection: any other command
 * (an apply, a probe) may have changed what they say, so it empties the cache; only a write whose result is known
 * whole puts its file back (`wrote`), so the checks an apply made stale are checked again without asking the host.
 */
export class PathReads {
  private pending: Request[] = [];
  private readonly cache = new Map<string, Entry>();
  /** Commands this asked of the connection; the others are counted by `conn.stats.asked - own`. */
  private own = 0;
  /** The count of other commands the cache was filled after. */
  private seen = 0;
  private remembering = false;

  constructor(private readonly conn: Connection) {}

  /** Commands asked of the connection by others than these reads. */
  private others(): number {
    return this.conn.stats.asked - this.own;
  }

  /**
   * Keeps answers between batches, for a run that owns the host (the runner: nothing else changes it behind the run's
   * back, as its early plans assume too). Otherwise (a module called on its own) each batch reads afresh.
   */
  remember(): void {
    this.remembering = true;
  }

  /** The cache, emptied first when another command was asked for since it was filled. */
  private current(): Map<string, Entry> {
    if (!this.remembering || this.others() !== this.seen) {
      this.cache.clear();
      this.seen = this.others();
    }
    return this.cache;
  }

  /** Stats `path` (absolute) as the user `become` says, batched with the reads of the same turn. */
  stat(path: string, become: boolean, opts: StatOptions): Promise<PathStat | null> {
    const want = wantOf(opts);
    const cached = this.current().get(key(path, become));
    const hit = cached && answer(cached, want);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ path, become, want, resolve, reject });
    });
  }

  /**
   * Right after a write whose result is known whole (the bytes, and the attributes kept or set): what later checks of
   * the path read, without asking the host again.
   */
  wrote(path: string, become: boolean, st: PathStat, content: Buffer): void {
    this.current().set(key(path, become), { st: { ...st, content: undefined }, content });
  }

  private exec(script: string, become: boolean, maxOutput: number): Promise<ExecResult> {
    this.own++;
    return this.conn.exec(script, { become, inline: true, raw: true, maxOutput });
  }

  private async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    // one batch per become setting, sent together
    await Promise.all(
      [false, true].map((become) => {
        const group = all.filter((r) => r.become === become);
        return group.length > 0 ? this.readGroup(group, become) : undefined;
      }),
    );
  }

  /** One batch for the reads of one become setting; a second one for files whose bytes turned out to be needed. */
  private async readGroup(group: Request[], become: boolean): Promise<void> {
    const before = this.others();
    const unique = (ps: string[]) => [...new Set(ps)];
    try {
      const paths = unique(group.map((r) => r.path));
      const max = Math.max(...group.map((r) => r.want.maxContent));
      const entries = await this.batch(
        paths,
        unique(group.filter((r) => r.want.checksum).map((r) => r.path)),
        unique(group.filter((r) => r.want.content).map((r) => r.path)),
        max,
        become,
      );
      // Files whose checksum differs from the one expected: their bytes, for the diff, in a second batch.
      const late = unique(group.filter((r) => entries.get(r.path)?.st?.type === 'file' && answer(entries.get(r.path) as Entry, r.want) === undefined).map((r) => r.path));
      if (late.length > 0) {
        const more = await this.batch(late, [], late, max, become);
        for (const p of late) {
          const entry = entries.get(p) as Entry;
          const again = more.get(p);
          // the file changed between the two reads: take the second read whole (its checksum from its bytes)
          if (again?.content !== undefined && entry.st?.sha256 !== sha256(again.content)) {
            entries.set(p, { st: again.st && { ...again.st, sha256: sha256(again.content) }, content: again.content });
          } else entry.content = again?.content;
        }
      }
      // cached only when no other command was asked for while they were out (it may have run before them)
      if (this.others() === before) for (const [p, e] of entries) this.current().set(key(p, become), e);
      for (const r of group) {
        const a = answer(entries.get(r.path) as Entry, r.want);
        if (a !== undefined) r.resolve(a);
        else this.single(r, become);
      }
    } catch {
      // Not GNU find/coreutils, or a path changed under the batch: each read on its own, with its own error.
      for (const r of group) this.single(r, become);
    }
  }

  private async batch(paths: string[], sums: string[], contents: string[], max: number, become: boolean): Promise<Map<string, Entry>> {
    const r = await this.exec(batchScript(paths, sums, contents, max), become, batchAnswerBound(paths, sums, contents, max));
    if (r.code !== 0 || r.truncated) throw new CommandError('read paths', r.code, '', r.stderr);
    return parseBatch(r.stdout, paths);
  }

  /** One read alone, by statScript (the way every read went before batching). */
  private single(r: Request, become: boolean): void {
    const opts: StatOptions = { follow: r.want.follow, checksum: r.want.checksum, content: r.want.content, contentUnless: r.want.contentUnless, maxContent: r.want.maxContent };
    // bounded as a batch of this one path: its record (and a followed link's target), its checksum, its bytes
    this.exec(statScript(r.path, opts), become, batchAnswerBound([r.path], [r.path], [r.path], r.want.maxContent))
      .then((res) => {
        if (res.truncated) throw new CommandError(statScript(r.path, opts), res.code, '', `the answer is longer than a read of ${r.path} can be`);
        if (res.code !== 0) throw new CommandError(statScript(r.path, opts), res.code, res.stdout, res.stderr);
        r.resolve(parseStat(Buffer.from(res.stdout, 'latin1').toString('utf8')));
      })
      .catch(r.reject);
  }
}

const key = (path: string, become: boolean) => `${become ? 1 : 0}\0${path}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const perConnection = new WeakMap<Connection, PathReads>();

/** The path reads of a host's connection (one per connection, made on first use). */
export function pathReads(conn: Connection): PathReads {
  let reads = perConnection.get(conn);
  if (!reads) {
    reads = new PathReads(conn);
    perConnection.set(conn, reads);
  }
  return reads;
}

/**
 * Stats a path on the host; null when it does not exist. An absolute path is read with the other reads of the same
 * turn, in one command for all (see PathReads); a link to follow, and a relative path, by a command of its own.
 */
export async function statPath(ctx: TaskContext, path: string, opts: StatOptions = {}): Promise<PathStat | null> {
  if (path.startsWith('/')) return pathReads(ctx.conn).stat(path, ctx.become, opts);
  const r = await ctx.run(statScript(path, opts), { maxOutput: 64 * 1024 * 1024, inline: true });
  return parseStat(r.stdout);
}
