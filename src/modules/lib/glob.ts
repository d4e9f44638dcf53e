// Exclude patterns for sync, rsync-like: 'name' anywhere, 'dir/sub' from the root, '*', '**', '?', '[…]', 'dir/' for directories.

export interface Exclude {
  test(relPath: string, isDirectory: boolean): boolean;
}

/** Translates one glob to a regular expression over a whole relative path (or a single name). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/**
 * Builds the exclude test. A pattern without '/' matches an entry's name at any depth; one with '/' matches the
 * path from the root (a leading '/' is allowed); a trailing '/' limits it to directories. An excluded directory
 * excludes everything below it.
 */
export function compileExcludes(patterns: readonly string[]): Exclude {
  const rules = patterns.map((raw) => {
    const dirOnly = raw.endsWith('/');
    let p = dirOnly ? raw.slice(0, -1) : raw;
    const anchored = p.includes('/');
    if (p.startsWith('/')) p = p.slice(1);
    return { re: globToRegExp(p), dirOnly, anchored };
  });
  const matchOne = (rel: string, isDir: boolean): boolean =>
    rules.some((r) => {
      if (r.dirOnly && !isDir) return false;
      const subject = r.anchored ? rel : rel.slice(rel.lastIndexOf('/') + 1);
      return r.re.test(subject);
    });
  return {
    test(relPath, isDirectory) {
      if (rules.length === 0) return false;
      if (matchOne(relPath, isDirectory)) return true;
      // Any ancestor directory excluded excludes this entry too.
      for (let i = relPath.indexOf('/'); i >= 0; i = relPath.indexOf('/', i + 1)) {
        if (matchOne(relPath.slice(0, i), true)) return true;
      }
      return false;
    },
  };
}
