// Files the CLI writes on the controller (reports, retry files, plans): checked writable before the run, then
// written atomically, so a run never ends unable to say what it did, and never leaves half a file.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

/**
 * Writes a file atomically on the controller (a report, a retry file): temp file beside it, then rename. `mode` is
 * the new file's (0600 for a plan), set when the temporary file is created, never after.
 */
export function writeAtomic(path: string, text: string, mode = 0o666): void {
  // Its folder exists: checkOutputPath made it before the run (a recursive mkdir would loop forever under /proc).
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    rmSync(tmp, { force: true });
    writeFileSync(tmp, text, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Checks before the first connection that a file can be written at `path` (a report, a retry file): not a directory,
 * its folders made one by one (a recursive mkdir loops forever under /proc), and a probe file created and removed
 * beside it. Throws an InputError naming the flag and the path.
 */
export function checkOutputPath(path: string, flag: string): void {
  const full = resolve(path);
  const fail = (why: string) => new InputError(`${flag} ${path}: ${why}`);
  const statOf = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined; // missing, or below something that is not a folder: the walk up says which
    }
  };
  if (path.endsWith('/') || statOf(full)?.isDirectory()) throw fail('is a directory; name a file');
  const missing: string[] = [];
  for (let dir = dirname(full); ; dir = dirname(dir)) {
    const st = statOf(dir);
    if (st) {
      if (!st.isDirectory()) throw fail(`${dir} is not a directory`);
      break;
    }
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      throw fail(`cannot create the folder ${dir}: ${(err as Error).message}`);
    }
  }
  const probe = `${full}.${process.pid}.probe`;
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    throw fail(`cannot write there: ${(err as Error).message}`);
  }
}
