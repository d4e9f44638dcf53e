// A minimal tar writer (ustar, with pax headers for long names): sync sends exactly the files that changed in one stream.

export interface TarEntry {
  /** Relative path with '/' separators; a directory's without a trailing slash. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (12 bits). */
  mode: number;
  /** Modification time in seconds since the epoch. */
  mtime: number;
  content?: Buffer;
  linkTarget?: string;
}

const block = 512;

function octal(value: number, width: number): string {
  const s = Math.floor(value).toString(8);
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit in ${width} bytes`);
  return `${s.padStart(width - 1, '0')}\0`;
}

function header(name: string, type: string, size: number, mode: number, mtime: number, linkname = ''): Buffer {
  const h = Buffer.alloc(block);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A pax record "LEN key=value\n", where LEN counts the whole record including its own digits. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

function padded(b: Buffer): Buffer[] {
  const rest = b.length % block;
  return rest === 0 ? [b] : [b, Buffer.alloc(block - rest)];
}

/** Builds a tar archive of the entries, in order; GNU tar and bsdtar extract it. */
export function createTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const name = e.type === 'directory' ? `${e.path}/` : e.path;
    const link = e.type === 'symlink' ? (e.linkTarget ?? '') : '';
    const content = e.type === 'file' ? (e.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    let pax = '';
    if (Buffer.byteLength(name) > 100) pax += paxRecord('path', name);
    if (Buffer.byteLength(link) > 100) pax += paxRecord('linkpath', link);
    if (pax) {
      const body = Buffer.from(pax, 'utf8');
      parts.push(header(truncateName(`PaxHeaders/${e.path}`), 'x', body.length, 0o644, e.mtime), ...padded(body));
    }
    const type = e.type === 'file' ? '0' : e.type === 'directory' ? '5' : '2';
    parts.push(header(truncateName(name), type, content.length, e.mode, e.mtime, truncateName(link)));
    if (content.length > 0) parts.push(...padded(content));
  }
  parts.push(Buffer.alloc(block * 2));
  return Buffer.concat(parts);
}

/** The first 100 bytes of a name, cut on a character boundary (the pax header carries the full one). */
function truncateName(s: string): string {
  let out = s;
  while (Buffer.byteLength(out) > 100) out = out.slice(0, -1);
  return out;
}
