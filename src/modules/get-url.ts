// Downloads a URL to a file on the host, as Ansible's get_url does: fetched by the host, checked, then renamed into place.
import { posix } from 'node:path';
import { z } from './lib/zod.js';
import { absolutePath, attrsShape, checkParams, moduleSchema } from './lib/schema.js';
import { quote } from '../connection/quote.js';
import { InputError, ProvisionError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { attrsScript, chownArg, describeNewAttrs, planAttrs } from './lib/attrs.js';
import { fetchFunction } from './lib/fetch.js';
import { validateAttrs } from './lib/params.js';
import { type PathStat } from './lib/stat.js';
import { statPath } from './lib/path-reads.js';

const getUrlSchema = moduleSchema({
  /** http, https, ftp or file URL to fetch (the host fetches it). */
  url: z.string(),
  /** Absolute path of the file, or of an existing directory (the file is then named after the URL's last segment). */
  dest: absolutePath,
  /** `algorithm:hex` (md5, sha1, sha224, sha256, sha384, sha512) or `algorithm:URL` of a checksum file; a dest that has it is not fetched. */
  checksum: z.string().optional(),
  /** Fetch even when dest exists (default false: dest is kept when its checksum matches, or the server says not modified). */
  force: z.boolean().optional(),
  /** Request headers. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Seconds a request may take (default 10); as every module's `timeout`, it also bounds the task. */
  timeout: z.number().positive().optional(),
  ...attrsShape,
});
export type GetUrlParams = z.input<typeof getUrlSchema>;

const algorithms = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
type Algorithm = (typeof algorithms)[number];
const hexLength: Record<Algorithm, number> = { md5: 32, sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };

/** A parsed `checksum`: the algorithm and either the hex digest or the URL of a checksum file. */
export interface Checksum {
  alg: Algorithm;
  hex?: string;
  url?: string;
}

/** Parses `algorithm:hex` or `algorithm:URL`; throws an InputError naming what is wrong. */
export function parseChecksum(value: string): Checksum {
  const i = value.indexOf(':');
  const alg = value.slice(0, i).toLowerCase() as Algorithm;
  const rest = value.slice(i + 1).trim();
  if (i < 0 || !algorithms.includes(alg)) throw new InputError(`getUrl: checksum must be 'algorithm:hex' or 'algorithm:URL' with an algorithm of ${algorithms.join(', ')} (got ${JSON.stringify(value)})`);
  if (/^(https?|ftp|file):\/\//i.test(rest)) return { alg, url: rest };
  if (!new RegExp(`^[0-9a-fA-F]{${hexLength[alg]}}$`).test(rest)) throw new InputError(`getUrl: checksum ${JSON.stringify(value)} is not ${hexLength[alg]} hex digits of ${alg}`);
  return { alg, hex: rest.toLowerCase() };
}

/** The last segment of a URL's path, as Ansible's url_filename (`index.html` when there is none). */
export function urlFilename(url: string): string {
  const name = posix.basename(new URL(url).pathname);
  return name === '' ? 'index.html' : decodeURIComponent(name);
}

/**
 * The digest for `url` in a checksum file (`hex  name` or `hex *name` lines, or one line holding only a digest), as
 * Ansible's get_url reads one; undefined when the file names no such file.
 */
export function digestFromFile(text: string, url: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 1 && lines[0]!.split(/\s+/).length === 1) return lines[0]!.toLowerCase();
  const name = urlFilename(url);
  for (const line of lines) {
    const m = /^(\S+)\s+\*?(.+)$/.exec(line);
    if (m && m[2]!.replace(/^\.\//, '') === name) return m[1]!.toLowerCase();
  }
  return undefined;
}

interface FetchData {
  kind: 'fetch';
  url: string;
  dest: string;
  /** Digest the download must have. */
  want?: { alg: Algorithm; hex: string };
  /** The file it replaces, as the check read it (its mode and owner are kept unless given). */
  replaces: PathStat | null;
}
interface AttrsData {
  kind: 'attrs';
  dest: string;
  chmod?: string;
  chown?: string;
}

/** Downloads `url` to `dest` on the host. */
export function getUrl(params: GetUrlParams): Task {
  checkParams('getUrl', getUrlSchema, params);
  const what = `getUrl ${params.dest}`;
  let protocol: string;
  try {
    protocol = new URL(params.url).protocol;
  } catch {
    throw new InputError(`${what}: url ${JSON.stringify(params.url)} is not a URL`);
  }
  if (!['http:', 'https:', 'ftp:', 'file:'].includes(protocol)) throw new InputError(`${what}: url must be http, https, ftp or file (got ${protocol})`);
  const sum = params.checksum === undefined ? undefined : parseChecksum(params.checksum);
  validateAttrs(params, what);
  // With a digest given, the check is a read of dest (and of dest/<name> when dest is a directory): read ahead with the others.
  const name = urlFilename(params.url);
  const paths = [{ path: params.dest }, { path: posix.join(params.dest, name) }];
  return defineTask('getUrl', `get ${params.url}`, params, {
    ...(sum?.alg === 'sha256' && sum.hex !== undefined && !params.force ? { footprint: { reads: paths, writes: paths } } : {}),
    check: (ctx) => planGetUrl(ctx, params, sum),
    async apply(ctx, plan) {
      const data = plan.data as FetchData | AttrsData;
      if (data.kind === 'attrs') {
        await ctx.run(['p=' + quote(data.dest), ...attrsScript(data)].join('\n'));
        return;
      }
      const r = await ctx.run(fetchScript(params, data), { timeoutMs: timeoutOf(params) * 2000 + 5000 });
      // the server sent the bytes dest already has: nothing replaced
      if (r.stdout.trim() === 'same') return { changed: false, summary: `${data.dest} already has the bytes ${params.url} sends` };
    },
  });
}

const timeoutOf = (p: GetUrlParams) => p.timeout ?? 10;

async function planGetUrl(ctx: TaskContext, p: GetUrlParams, sum: Checksum | undefined): Promise<Plan> {
  let dest = p.dest;
  let st = await statPath(ctx, dest, { checksum: true });
  if (st?.type === 'directory') {
    dest = posix.join(dest, urlFilename(p.url));
    st = await statPath(ctx, dest, { checksum: true });
  }
  if (st !== null && st.type !== 'file') throw new InputError(`${dest} exists and is not a regular file (${st.type})`);
  const want = sum && { alg: sum.alg, hex: sum.hex ?? (await digestFromUrl(ctx, p, sum)) };
  const fetch = (why: string): Plan =>
    change([`would fetch ${p.url} → ${dest} (${why})`, ...(st === null ? describeNewAttrs(p) : planAttrs(st, p).changes)].join(', '), {
      data: { kind: 'fetch', url: p.url, dest, want, replaces: st } satisfies FetchData,
    });
  if (st === null) return fetch('absent');
  const kept = (why: string): Plan => {
    const attrs = planAttrs(st, p);
    if (attrs.changes.length === 0) return noChange(why);
    return change(attrs.changes.join(', '), { data: { kind: 'attrs', dest, chmod: attrs.chmod, chown: attrs.chown } satisfies AttrsData });
  };
  if (want && !p.force) {
    const have = want.alg === 'sha256' ? st.sha256 : await digestOnHost(ctx, dest, want.alg);
    return have === want.hex ? kept(`${dest} has ${want.alg} ${want.hex}`) : fetch(`checksum differs: ${want.alg} ${have} → ${want.hex}`);
  }
  // No digest to compare with (or force): ask the server, If-Modified-Since dest's mtime unless forced, and compare bytes.
  const probe = await probeUrl(ctx, p, p.force ? '' : dest);
  if (probe.status === 304) return kept(`${p.url} not modified since ${dest} was written`);
  return probe.sha256 === st.sha256 ? kept(`${dest} already has the bytes ${p.url} sends`) : fetch('content differs');
}

/** `ALGsum` of a file on the host. */
async function digestOnHost(ctx: TaskContext, path: string, alg: Algorithm): Promise<string> {
  const r = await ctx.run(`${alg}sum < ${quote(path)}`);
  return r.stdout.split(' ')[0]!.trim();
}

const statusCheck = (url: string) => `case $s in 2??) ;; *) echo ${quote(`${url}: HTTP status`)} "$s" >&2; exit 1 ;; esac`;

/** Fetches to a temporary file outside dest and prints the status and the body's sha256: what a fetch would bring. */
async function probeUrl(ctx: TaskContext, p: GetUrlParams, ims: string): Promise<{ status: number; sha256?: string }> {
  const script = [
    fetchFunction({ timeout: timeoutOf(p), headers: p.headers }),
    't=$(mktemp) || exit 1',
    "trap 'rm -f -- \"$t\"' EXIT",
    `s=$(fetch ${quote(p.url)} "$t" ${quote(ims)}) || exit 1`,
    'if [ "$s" = 304 ]; then echo 304; exit 0; fi',
    statusCheck(p.url),
    'echo "$s"; sha256sum < "$t"',
  ].join('\n');
  const r = await ctx.run(script, { timeoutMs: timeoutOf(p) * 1000 + 5000 });
  const [status, sum] = r.stdout.split('\n');
  return { status: Number(status), sha256: sum?.split(' ')[0] };
}

async function digestFromUrl(ctx: TaskContext, p: GetUrlParams, sum: Checksum): Promise<string> {
  const script = [
    fetchFunction({ timeout: timeoutOf(p), headers: p.headers }),
    't=$(mktemp) || exit 1',
    "trap 'rm -f -- \"$t\"' EXIT",
    `s=$(fetch ${quote(sum.url!)} "$t" '') || exit 1`,
    statusCheck(sum.url!),
    'head -c 1048576 "$t"',
  ].join('\n');
  const r = await ctx.run(script, { timeoutMs: timeoutOf(p) * 1000 + 5000 });
  const hex = digestFromFile(r.stdout, p.url);
  if (hex === undefined) throw new ProvisionError(`getUrl: unable to find a checksum for file '${urlFilename(p.url)}' in '${sum.url}'`);
  if (!new RegExp(`^[0-9a-f]{${hexLength[sum.alg]}}$`).test(hex)) throw new ProvisionError(`getUrl: the checksum for '${urlFilename(p.url)}' in '${sum.url}' is not ${sum.alg} (${hex})`);
  return hex;
}

/**
 * Fetches into a temporary file beside dest, checks its digest, and renames it over dest unless dest has the same
 * bytes (prints `same`). The new file keeps the replaced one's mode and owner, or gets the umask's mode, then `mode`.
 */
function fetchScript(p: GetUrlParams, d: FetchData): string {
  const dir = posix.dirname(d.dest);
  const lines = [
    fetchFunction({ timeout: timeoutOf(p), headers: p.headers }),
    `d=${quote(d.dest)}`,
    `t=$(mktemp ${quote(`${dir}/.${posix.basename(d.dest)}.XXXXXX.tmp`)}) || exit 1`,
    "trap 'rm -f -- \"$t\"' EXIT",
    `s=$(fetch ${quote(d.url)} "$t" '') || exit 1`,
    statusCheck(d.url),
  ];
  if (d.want) {
    lines.push(
      `h=$(${d.want.alg}sum < "$t") || exit 1; h=\${h%% *}`,
      `[ "$h" = ${quote(d.want.hex)} ] || { echo "The checksum for $d did not match ${d.want.hex}; it was $h." >&2; exit 1; }`,
    );
  }
  lines.push(
    'if [ -f "$d" ] && [ ! -L "$d" ] && [ "$(sha256sum < "$d")" = "$(sha256sum < "$t")" ]; then echo same; exit 0; fi',
    d.replaces ? 'chmod --reference="$d" -- "$t" && { chown --reference="$d" -- "$t" 2>/dev/null || true; }' : `chmod "$(printf '%o' $(( 0666 & ~0$(umask) )))" -- "$t"`,
  );
  const chown = chownArg(p.owner, p.group);
  const attrs = attrsScript({ chmod: p.mode, chown }).filter((l) => !l.includes('symbolic link now'));
  lines.push('p=$t', ...attrs.map((l) => `${l} || exit 1`), 'mv -f -- "$t" "$d" || exit 1', 'echo new');
  return lines.join('\n');
}
