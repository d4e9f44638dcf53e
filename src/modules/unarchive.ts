// Unpacks a tar or zip archive into a directory on the host, as Ansible's unarchive: converged when its listing matches dest.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from './lib/zod.js';
import { absolutePath, attrsShape, checkParams, moduleSchema } from './lib/schema.js';
import { quote, quoteArgv } from '../connection/quote.js';
import { InputError, MissingOnHostError } from '../errors.js';
import { change, defineTask, noChange, skip, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { chownArg } from './lib/attrs.js';
import { requireAbsolute, validateAttrs } from './lib/params.js';
import { statPath } from './lib/path-reads.js';

const unarchiveSchema = moduleSchema({
  /** The archive: a file on the controller (relative to the playbook), or on the host with `remoteSrc`. */
  src: z.string(),
  /** Absolute path of an existing directory to unpack into. */
  dest: absolutePath,
  /** `src` is a path on the host (default false: on the controller, sent to the host). */
  remoteSrc: z.boolean().optional(),
  /** An absolute path: when it exists, the task is skipped. */
  creates: absolutePath.optional(),
  /** Only these members (exclusive with `exclude`). */
  include: z.array(z.string()).optional(),
  /** Members left out (exclusive with `include`). */
  exclude: z.array(z.string()).optional(),
  /** Files in dest newer than the archive's are kept. */
  keepNewer: z.boolean().optional(),
  /** Report the archive's members (the result's stdout, one a line). */
  listFiles: z.boolean().optional(),
  /** More arguments for tar or unzip. */
  extraOpts: z.array(z.string()).optional(),
  ...attrsShape,
});
export type UnarchiveParams = z.input<typeof unarchiveSchema>;

/** A line of `tar --diff` that means dest is not what the archive holds (as Ansible's unarchive reads them). */
export function differs(line: string, o: { root: boolean; owner?: string; group?: string; mode?: string }): boolean {
  if (/: : Warning: Cannot stat: No such file or directory$/.test(line)) return false;
  if (/: Warning: Cannot stat: No such file or directory$/.test(line)) return true;
  if (/: (Mod time|Size|Contents|Symlink|File type) differs?$/.test(line)) return true;
  if (/: Invalid (owner|group)/.test(line)) return true;
  if (/: Mode differs$/.test(line)) return o.mode === undefined;
  if (/: Uid differs$/.test(line)) return o.root && o.owner === undefined;
  if (/: Gid differs$/.test(line)) return o.root && o.group === undefined;
  return false;
}

/** The member a `tar --diff` or zip comparison line is about. */
export function memberOf(line: string): string {
  const m = /^(?:tar: )?(.*?): (?:Warning: Cannot stat|[A-Z][a-z]+ (?:time |type )?differs?|Invalid)/.exec(line);
  return m?.[1] ?? line;
}

// zip: each member compared by type, size and CRC-32 (and mode, unless mode is given), as Ansible's ZipArchive does
// by zipinfo; lines in tar --diff's words so one reader serves both.
const zipDiff = `import fnmatch, json, os, stat, sys, zipfile, zlib
z = zipfile.ZipFile(sys.argv[1]); dest = sys.argv[2]; check_mode = sys.argv[3] == '1'; o = json.loads(sys.argv[4])
only = set(o['include'])
for i in z.infolist():
    n = i.filename
    if only and n not in only and n.rstrip('/') not in only:
        continue
    if any(fnmatch.fnmatch(n, x) for x in o['exclude']):
        continue
    p = os.path.join(dest, n)
    if not os.path.lexists(p):
        print('%s: Warning: Cannot stat: No such file or directory' % n); continue
    st = os.lstat(p)
    perm = (i.external_attr >> 16) & 0o7777
    if i.is_dir():
        if not stat.S_ISDIR(st.st_mode): print('%s: File type differs' % n)
        continue
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
        print('%s: File type differs' % n); continue
    if st.st_size != i.file_size and not stat.S_ISLNK(st.st_mode):
        print('%s: Size differs' % n); continue
    if stat.S_ISREG(st.st_mode):
        c = 0
        with open(p, 'rb') as f:
            for b in iter(lambda: f.read(65536), b''): c = zlib.crc32(b, c)
        if c & 0xffffffff != i.CRC: print('%s: Contents differ' % n); continue
    if check_mode and perm and stat.S_IMODE(st.st_mode) != perm: print('%s: Mode differs' % n)`;

/** Unpacks `src` into `dest`. */
export function unarchive(params: UnarchiveParams): Task {
  checkParams('unarchive', unarchiveSchema, params);
  const what = `unarchive ${params.src}`;
  if (params.include !== undefined && params.exclude !== undefined) throw new InputError(`${what}: parameters are mutually exclusive: include|exclude`);
  if (/^[a-z]+:\/\//i.test(params.src)) throw new InputError(`${what}: a URL as src is not supported; fetch it with getUrl first`);
  if (params.remoteSrc) requireAbsolute(params.src, 'src', 'unarchive');
  validateAttrs(params, what);
  return defineTask('unarchive', `unarchive ${params.src} → ${params.dest}`, params, {
    check: (ctx) => planUnarchive(ctx, params),
    async apply(ctx) {
      const r = await ctx.run(archiveScript(params, 'extract'), stdinOf(ctx, params));
      const listed = r.stdout.split('\n').filter((l) => l !== '');
      return params.listFiles ? { stdout: listed.join('\n') } : undefined;
    },
  });
}

/** The controller's archive, read once per task and host (the bytes go as the command's stdin). */
function stdinOf(ctx: TaskContext, p: UnarchiveParams): { stdin?: Buffer; maxOutput: number } {
  if (p.remoteSrc) return { maxOutput: 64 * 1024 * 1024 };
  const path = isAbsolute(p.src) ? p.src : resolve(ctx.baseDir, p.src);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`unarchive: cannot read src ${path}: ${(err as Error).message}`);
  }
  return { stdin: bytes, maxOutput: 64 * 1024 * 1024 };
}

async function planUnarchive(ctx: TaskContext, p: UnarchiveParams): Promise<Plan> {
  if (p.creates !== undefined && (await statPath(ctx, p.creates)) !== null) return skip(`skipped, since ${p.creates} exists`);
  // a src on the host is read with dest: missing, it may be what an earlier planned task (a getUrl) makes
  const [st, src] = await Promise.all([statPath(ctx, p.dest), p.remoteSrc ? statPath(ctx, p.src) : undefined]);
  if (st === null) throw new MissingOnHostError(`dest '${p.dest}' must be an existing dir`, [{ path: p.dest }]);
  if (src === null) throw new MissingOnHostError(`Source '${p.src}' does not exist`, [{ path: p.src }]);
  if (st.type !== 'directory') throw new InputError(`dest '${p.dest}' must be an existing dir`);
  const r = await ctx.run(archiveScript(p, 'diff'), stdinOf(ctx, p));
  const root = ctx.become || ctx.facts.uid === 0;
  const [listing = '', diff = ''] = r.stdout.split('\0--diff--\n');
  const members = listing.split('\n').filter((l) => l !== '');
  const changed = [...new Set(diff.split('\n').filter((l) => differs(l, { root, owner: p.owner, group: p.group, mode: p.mode })).map(memberOf))];
  if (changed.length === 0) return noChange(`${p.dest} already holds the ${members.length} members of ${p.src}`);
  const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? `, … (${changed.length - 5} more)` : '');
  return change(`would unpack ${p.src} → ${p.dest}: ${changed.length} of ${members.length} members differ (${shown})`);
}

/**
 * The host's script: the archive (stdin, or src on the host) in a temporary file whose format decides zip or tar
 * (tar itself recognizes gzip, bzip2, xz and zstd); `diff` prints the member list, a marker, then tar --diff's lines;
 * `extract` unpacks, sets owner, group and mode on every member, and prints the member list.
 */
function archiveScript(p: UnarchiveParams, step: 'diff' | 'extract'): string {
  const dest = quote(p.dest);
  const include = quoteArgv(p.include ?? []);
  const extra = quoteArgv(p.extraOpts ?? []);
  const tarOpts = [
    ...(p.keepNewer ? ['--keep-newer-files'] : []),
    ...(p.exclude ?? []).map((e) => `--exclude=${e}`),
    ...(step === 'diff' && p.owner !== undefined ? [`--owner=${p.owner}`] : []),
    ...(step === 'diff' && p.group !== undefined ? [`--group=${p.group}`] : []),
  ];
  const unzipExclude = p.exclude && p.exclude.length > 0 ? `-x ${quoteArgv(p.exclude)}` : '';
  const lines = [
    'export LC_ALL=C',
    p.remoteSrc
      ? `t=${quote(p.src)}; [ -f "$t" ] || { echo ${quote(`src ${p.src} is not a file on this host`)} >&2; exit 1; }`
      : 't=$(mktemp) || exit 1; trap \'rm -f -- "$t"\' EXIT; cat > "$t" || exit 1',
    // zip: PK\\003\\004 at the start (unzip -Z would also take a self-extracting file, as Ansible's handler does)
    'if [ "$(head -c 4 "$t" | od -An -c | tr -d \' \')" = PK003004 ]; then kind=zip; else kind=tar; fi',
    `list() { if [ $kind = zip ]; then command -v unzip >/dev/null || { echo "unzip is not on this host (a zip archive needs it)" >&2; exit 1; }; unzip -Z1 "$t" ${include}; else tar -t ${extra} ${quoteArgv(tarOpts.filter((o) => o.startsWith('--exclude')))} -f "$t" ${include}; fi; }`,
    'm=$(list) || exit 1',
  ];
  if (step === 'diff') {
    lines.push(
      'printf \'%s\\n\' "$m"',
      "printf '\\0--diff--\\n'",
      `if [ $kind = zip ]; then python3 -c ${quote(zipDiff)} "$t" ${dest} ${p.mode === undefined ? '1' : '0'} ${quote(JSON.stringify({ include: p.include ?? [], exclude: p.exclude ?? [] }))} || exit 1`,
      `else tar --diff -C ${dest} ${extra} ${quoteArgv(tarOpts)} -f "$t" ${include} 2>&1; [ $? -le 1 ] || exit 1; fi`,
    );
  } else {
    lines.push(
      `if [ $kind = zip ]; then unzip -q -o ${extra} "$t" ${include} ${unzipExclude} -d ${dest} || exit 1`,
      `else tar --extract -C ${dest} ${extra} ${quoteArgv(tarOpts)} -f "$t" ${include} || exit 1; fi`,
    );
    const chown = chownArg(p.owner, p.group);
    const fix = [chown ? `chown -h ${quote(chown)} -- "$f"` : '', p.mode ? `{ [ -L "$f" ] || chmod ${quote(p.mode)} -- "$f"; }` : ''].filter(Boolean).join(' && ');
    if (fix) lines.push(`printf '%s\\n' "$m" | while IFS= read -r f; do [ -n "$f" ] || continue; f=${dest}/$f; { [ -e "$f" ] || [ -L "$f" ]; } || continue; ${fix} || exit 1; done || exit 1`);
    lines.push('printf \'%s\\n\' "$m"');
  }
  return lines.join('\n');
}
