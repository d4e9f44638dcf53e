// Lists a directory tree on the host in one command: every entry's type, mode, owner, size and each file's sha256.
import { quote } from '../../connection/quote.js';

export interface RemoteEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  owner: string;
  uid: number;
  group: string;
  gid: number;
  size: number;
  sha256?: string;
  linkTarget?: string;
}

/** null when the directory does not exist. */
export type RemoteTree = Map<string, RemoteEntry> | null;

const sumsMarker = 'SUMS';

/** The listing script: NUL-separated find records (so any name survives), then sha256sum's lines. */
export function remoteTreeScript(dest: string): string {
  return [
    `d=${quote(dest)}`,
    'if [ ! -e "$d" ]; then echo absent; exit 0; fi',
    '[ -d "$d" ] || { echo "$d exists and is not a directory" >&2; exit 3; }',
    'cd -- "$d" || exit 1',
    'echo present',
    `find . -printf '%y\\t%m\\t%u\\t%U\\t%g\\t%G\\t%s\\t%P\\0%l\\0'`,
    `printf '${sumsMarker}\\0'`,
    'find . -type f -print0 | xargs -0 -r sha256sum --',
  ].join('\n');
}

/** Parses remoteTreeScript's output. */
export function parseRemoteTree(stdout: string): RemoteTree {
  if (stdout.startsWith('absent')) return null;
  if (!stdout.startsWith('present\n')) throw new Error(`unexpected listing output: ${JSON.stringify(stdout.slice(0, 80))}`);
  const tree = new Map<string, RemoteEntry>();
  let pos = 'present\n'.length;
  const field = (): string => {
    const end = stdout.indexOf('\0', pos);
    if (end < 0) throw new Error('truncated listing output');
    const s = stdout.slice(pos, end);
    pos = end + 1;
    return s;
  };
  for (;;) {
    const head = field();
    if (head === sumsMarker) break;
    const link = field();
    const parts = head.split('\t');
    const [y, m, owner, uid, group, gid, size] = parts;
    const path = parts.slice(7).join('\t');
    const type = y === 'f' ? 'file' : y === 'd' ? 'directory' : y === 'l' ? 'symlink' : 'other';
    const e: RemoteEntry = {
      path,
      type,
      mode: parseInt(m ?? '0', 8),
      owner: owner ?? '',
      uid: Number(uid),
      group: group ?? '',
      gid: Number(gid),
      size: Number(size),
    };
    if (type === 'symlink') e.linkTarget = link;
    tree.set(path, e);
  }
  for (const [path, sha] of parseSha256Sums(stdout.slice(pos))) {
    const e = tree.get(path);
    if (e) e.sha256 = sha;
  }
  return tree;
}

/** Parses `sha256sum` lines of `./name` paths, undoing GNU's escaping of names with '\\' or newlines. */
export function parseSha256Sums(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const escaped = raw.startsWith('\\');
    const line = escaped ? raw.slice(1) : raw;
    const sha = line.slice(0, 64);
    let name = line.slice(66);
    if (escaped) name = name.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
    out.push([name.startsWith('./') ? name.slice(2) : name, sha]);
  }
  return out;
}
