// One round trip learns what a path is: type, mode, owner, group, size, sha256, link target, and optionally its bytes.
import { quote } from '../../connection/quote.js';
import { InputError } from '../../errors.js';

export type PathType = 'file' | 'directory' | 'link' | 'other';

export interface PathStat {
  type: PathType;
  /** Permission bits (12 bits). */
  mode: number;
  uid: number;
  owner: string;
  gid: number;
  group: string;
  size: number;
  /** sha256 of a regular file's content; null for other types. */
  sha256: string | null;
  /** Target of a symbolic link (when not followed). */
  linkTarget?: string;
  /** Where a followed symbolic link leads (absolute, resolved); writes go there so the link stays a link. */
  realPath?: string;
  /** The file's bytes, when asked for and its checksum differs from the expected one. */
  content?: Buffer;
  /** For a followed link: the uid owning the link itself, and the uid the command ran as (the become user). */
  linkUid?: number;
  selfUid?: number;
}

export interface StatOptions {
  /** Follow a symbolic link to what it points at (a dangling link stays a link). */
  follow?: boolean;
  /** Compute the sha256 of a regular file. */
  checksum?: boolean;
  /** Also send the file's bytes when its sha256 differs from this one and it is at most `maxContent` bytes. */
  contentUnless?: string;
  /** Always send a regular file's bytes when it is at most `maxContent` bytes. */
  content?: boolean;
  maxContent?: number;
}

/** The inline script behind a single statPath() (a followed link, or a batch that failed); exported for tests. */
export function statScript(path: string, opts: StatOptions = {}): string {
  const lines = [
    'local p t L i h r lu me',
    `p=${quote(path)}`,
    'if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; return 0; fi',
    't=; L=',
    `if [ -L "$p" ]; then if ${opts.follow ? 'true' : 'false'} && [ -e "$p" ]; then L=-L; else t=link; fi; fi`,
    'if [ -z "$t" ]; then if [ -d "$p" ]; then t=directory; elif [ -f "$p" ]; then t=file; else t=other; fi; fi',
    `i=$(stat $L -c '%a\t%u\t%U\t%g\t%G\t%s' -- "$p") || return 1`,
    'h=-',
  ];
  if (opts.checksum || opts.contentUnless !== undefined || opts.content) {
    lines.push('if [ "$t" = file ]; then h=$(sha256sum < "$p") || return 1; h=${h%% *}; fi');
  }
  // A followed link's resolved path, base64 so any byte survives the line format.
  // With the uid owning the link and our own: whether the link may be trusted (see checkFollow).
  lines.push('r=-; lu=-; me=-; if [ -n "$L" ]; then r=$(printf %s "$(readlink -f -- "$p")" | base64 -w0); lu=$(stat -c %u -- "$p"); me=$(id -u); fi');
  lines.push(`printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$t" "$i" "$h" "$r" "$lu" "$me"`);
  lines.push('if [ "$t" = link ]; then readlink -- "$p"; fi');
  if (opts.contentUnless !== undefined || opts.content) {
    const max = opts.maxContent ?? 256 * 1024;
    const unless = opts.content ? '' : ` && [ "$h" != ${quote(opts.contentUnless ?? '')} ]`;
    lines.push(`if [ "$t" = file ]${unless} && [ "$(wc -c < "$p")" -le ${max} ]; then base64 -w0 < "$p"; fi`);
  }
  return lines.join('\n');
}

/** Parses statScript's output; null when the path does not exist. */
export function parseStat(stdout: string): PathStat | null {
  const nl = stdout.indexOf('\n');
  const head = nl < 0 ? stdout : stdout.slice(0, nl);
  if (head.trim() === 'absent') return null;
  const [type, mode, uid, owner, gid, group, size, sha, real, linkUid, selfUid] = head.split('\t');
  if (!type || !mode || sha === undefined) throw new Error(`cannot parse stat output: ${JSON.stringify(head)}`);
  const st: PathStat = {
    type: type as PathType,
    mode: parseInt(mode, 8),
    uid: Number(uid),
    owner: owner ?? '',
    gid: Number(gid),
    group: group ?? '',
    size: Number(size),
    sha256: sha === '-' ? null : sha,
  };
  if (real && real !== '-') st.realPath = Buffer.from(real, 'base64').toString('utf8');
  if (linkUid && /^\d+$/.test(linkUid)) st.linkUid = Number(linkUid);
  if (selfUid && /^\d+$/.test(selfUid)) st.selfUid = Number(selfUid);
  const rest = nl < 0 ? '' : stdout.slice(nl + 1);
  if (type === 'link') st.linkTarget = rest.replace(/\n$/, '');
  else if (type === 'file' && rest.length > 0) st.content = Buffer.from(rest, 'base64');
  return st;
}


/** Whether `wanted` (a user or group name, or a numeric id) names the current `name`/`id`. */
export function sameIdentity(wanted: string, name: string, id: number): boolean {
  return wanted === name || (/^\d+$/.test(wanted) && Number(wanted) === id);
}

/**
 * Refuses to act through a followed symbolic link that someone else planted: the link must belong to the user the
 * task runs as (the become user), or to the owner of what it points at (who could change that file anyway). This is
 * the reasoning of the kernel's `protected_symlinks`. Returns the path to act on (the link's resolved target).
 */
export function checkFollow(st: PathStat, path: string): string {
  if (st.realPath === undefined) return path;
  const trusted = st.linkUid !== undefined && (st.linkUid === st.selfUid || st.linkUid === st.uid);
  if (!trusted) {
    throw new InputError(
      `${path} is a symbolic link owned by uid ${st.linkUid ?? '?'} to ${st.realPath} owned by ${st.owner} (uid ${st.uid}); ` +
        `refusing to follow it: a link is followed only when it belongs to the user the task runs as (uid ${st.selfUid ?? '?'}) or to its target's owner`,
    );
  }
  return st.realPath;
}
