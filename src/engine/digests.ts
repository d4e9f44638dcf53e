// What a worker checks before it runs a shard: that its checkout holds the coordinator's playbook and inventory
// byte for byte. A digest is sha256 over a tree's files (relative name and content), node_modules and dot-folders
// left out: the playbook's folder (its roles, templates and files), and each inventory file or folder.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function treeDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) hash.update(`${relative(root, path)}\0${st.size}\0`).update(readFileSync(path));
    }
  };
  if (statSync(root).isDirectory()) walk(root);
  else hash.update(readFileSync(root));
  return hash.digest('hex');
}

/** The digests of a run's inputs, keyed by their paths relative to the working directory (the project's root). */
export function inputDigests(playbook: string, inventories: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of [dirname(resolve(playbook)), ...inventories.map((i) => resolve(i))]) {
    const key = relative('.', path) || '.';
    out[key] = treeDigest(path);
  }
  return out;
}

/** The first input whose digest differs from this checkout's, said in words; undefined when all agree. */
export function digestDifference(expected: Record<string, string>): string | undefined {
  for (const [path, digest] of Object.entries(expected)) {
    let mine: string;
    try {
      mine = treeDigest(resolve(path));
    } catch {
      return `${path} is missing here`;
    }
    if (mine !== digest) return `${path} differs (coordinator sha256 ${digest.slice(0, 12)}…, here ${mine.slice(0, 12)}…)`;
  }
  return undefined;
}
