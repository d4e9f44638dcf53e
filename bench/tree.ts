// The hosts' deploy roots: emptied before a cold run, and snapshotted so the three tools are shown to do the same work.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Removes everything under a root, keeping the root itself. */
export function emptyRoot(root: string): void {
  for (const entry of readdirSync(root)) rmSync(join(root, entry), { recursive: true, force: true });
}

/** Path (relative, with the root written as ROOT inside contents) → `type mode group digest-or-target`. */
export type TreeSnapshot = Map<string, string>;

/** What a tool left under a root: types, modes, groups, contents (root path normalised) and link targets. */
export function snapshotTree(root: string, hostName: string): TreeSnapshot {
  const out: TreeSnapshot = new Map();
  const walk = (rel: string) => {
    const abs = rel === '' ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const path = join(root, relPath);
      const st = lstatSync(path);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isSymbolicLink()) {
        out.set(relPath, `link ${readlinkSync(path)}`);
      } else if (st.isDirectory()) {
        out.set(relPath, `dir ${mode} gid=${st.gid}`);
        walk(relPath);
      } else {
        const text = readFileSync(path, 'latin1').split(root).join('ROOT').split(hostName).join('HOST');
        const digest = createHash('sha256').update(text, 'latin1').digest('hex').slice(0, 12);
        out.set(relPath, `file ${mode} gid=${st.gid} ${digest}`);
      }
    }
  };
  walk('');
  return out;
}

/** Lines describing how `other` differs from `base`; empty when they match. */
export function diffSnapshots(base: TreeSnapshot, other: TreeSnapshot): string[] {
  const lines: string[] = [];
  for (const [path, desc] of base) {
    const o = other.get(path);
    if (o === undefined) lines.push(`missing ${path} (${desc})`);
    else if (o !== desc) lines.push(`${path}: ${desc} vs ${o}`);
  }
  for (const [path, desc] of other) if (!base.has(path)) lines.push(`extra ${path} (${desc})`);
  return lines;
}
