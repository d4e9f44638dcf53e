// Ensures a cron job or variable is in a user's crontab or a cron file (or not), as Ansible's cron module does.
import { posix } from 'node:path';
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { quote } from '../connection/quote.js';
import { writeCommand } from '../connection/shell-ops.js';
import { CommandError, InputError, MissingOnHostError } from '../errors.js';
import { applyWith, change, defineTask, noChange, type ApplyResult, type ApplyScript, type FileDiff, type Footprint, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import type { ExecResult } from '../connection/types.js';
import { CronEditError, envPattern, planCronEdit, readCronFile, readCrontabOutput, renderCrontab, specialTimes, type ReadCrontab } from './lib/edit-cron.js';
import { buildFileDiff, isText } from './lib/file-diff.js';
import { checkFollow } from './lib/stat.js';
import { statPath } from './lib/path-reads.js';

/** A time field: a string as cron reads it (`'0,30'`, `'1-5'`, a step), or a number. */
const timeField = z.union([z.string(), z.number()]).optional();

const cronSchema = moduleSchema({
  /** The job's name, kept in the `#Ansible: NAME` line before it (with env: the variable's name). Required. */
  name: z.string(),
  /** The command to run (with env: the variable's value). Required with state present. */
  job: z.string().optional(),
  /** Another name for job (Ansible's alias), for variables: `env: true, value: '/opt/bin'`. */
  value: z.string().optional(),
  /** Minute field (default `'*'`). */
  minute: timeField,
  /** Hour field (default `'*'`). */
  hour: timeField,
  /** Day of the month field (default `'*'`). */
  day: timeField,
  /** Month field (default `'*'`). */
  month: timeField,
  /** Day of the week field (default `'*'`). */
  weekday: timeField,
  /** Instead of the time fields: `'reboot'`, `'yearly'`, `'annually'`, `'monthly'`, `'weekly'`, `'daily'` or `'hourly'` (the line gets `@reboot` …). */
  specialTime: z.enum(specialTimes).optional(),
  /** Whose crontab (default: the user the task runs as); with cronFile, the user field of the line (then required). */
  user: z.string().optional(),
  /** A file in /etc/cron.d (a relative name lands there) or an absolute path, instead of a user's crontab. */
  cronFile: z.string().optional(),
  /** `'present'` (default) or `'absent'`: removing the last job of a cronFile removes the file. */
  state: z.enum(['present', 'absent']).optional(),
  /** Write the job commented out (`#` before the line); only with state present. */
  disabled: z.boolean().optional(),
  /** Manage a `NAME="value"` variable line instead of a job. */
  env: z.boolean().optional(),
  /** With env: a new variable goes after the variable of this name (it must exist). */
  insertAfter: z.string().optional(),
  /** With env: a new variable goes before the variable of this name (it must exist). */
  insertBefore: z.string().optional(),
  /** Keep the crontab as it was in a new `/tmp/crontabXXXXXXXX` file when it changes (its name is in the summary). */
  backup: z.boolean().optional(),
});
export type CronParams = z.input<typeof cronSchema>;

/** Largest cron file read (a crontab is small; this is what one batched read carries). */
const maxFile = 4 * 1024 * 1024;

interface CronData {
  /** The cron file written (or removed); undefined: the user's crontab through `crontab`. */
  file?: string;
  user?: string;
  /** The new content; undefined with remove. */
  content?: string;
  remove: boolean;
  /** The crontab as read (cron.py's render), kept in a /tmp file first when backup is asked. */
  backupOf?: string;
  /** The cron file's mode when it is new (0644, cron.py's umask 022), or kept from the file replaced. */
  newFile: boolean;
}

/** Ensures a job (or with env, a variable) is in a crontab, or is not. */
export function cron(params: CronParams): Task {
  checkParams('cron', cronSchema, params);
  const what = `cron ${JSON.stringify(params.name)}`;
  if (params.job !== undefined && params.value !== undefined) throw new InputError(`${what}: job and value are the same parameter (value is job's alias): give one`);
  const job = params.job ?? params.value;
  const state = params.state ?? 'present';
  const fields = { minute: params.minute, hour: params.hour, day: params.day, month: params.month, weekday: params.weekday };
  const time = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v === undefined ? '*' : String(v)])) as Record<keyof typeof fields, string>;
  for (const [k, v] of Object.entries(time)) {
    // a field with a space or a newline would shift the line's other fields
    if (/[\s]/.test(v) || v === '') throw new InputError(`${what}: ${k} must be one cron field, without spaces (got ${JSON.stringify(v)})`);
  }
  if (params.insertAfter !== undefined && params.insertBefore !== undefined) throw new InputError(`${what}: insertAfter and insertBefore are mutually exclusive`);
  let file: string | undefined;
  if (params.cronFile !== undefined) {
    if (params.cronFile === '') throw new InputError(`${what}: cronFile must not be empty`);
    if (params.cronFile === '/etc/crontab') throw new InputError(`${what}: Will not manage /etc/crontab via cronFile, see documentation.`);
    file = posix.isAbsolute(params.cronFile) ? params.cronFile : posix.join('/etc/cron.d', params.cronFile);
  }
  if (params.specialTime && Object.values(time).some((v) => v !== '*')) throw new InputError(`${what}: You must specify time and date fields or specialTime.`);
  if (state === 'present') {
    if (file !== undefined && !params.user) throw new InputError(`${what}: To use cronFile=... parameter you must specify user=... as well`);
    if (job === undefined) throw new InputError(`${what}: You must specify 'job' to install a new cron job or variable`);
    if ((params.insertAfter || params.insertBefore) && !params.env) throw new InputError(`${what}: insertAfter and insertBefore parameters are valid only with env: true`);
  }
  if (params.env) {
    if (params.name.includes(' ')) throw new InputError(`${what}: Invalid name for environment variable`);
    for (const n of [params.name, params.insertAfter, params.insertBefore]) {
      if (n === undefined) continue;
      try {
        envPattern(n);
      } catch (err) {
        throw new InputError(`${what}: the variable name ${JSON.stringify(n)} is read as a Python regex by cron.py and is not one provision can read: ${(err as Error).message}`);
      }
    }
  }
  if (params.user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(params.user)) throw new InputError(`${what}: ${JSON.stringify(params.user)} is not a user name`);
  if (job !== undefined && /[\r\n]/.test(job.replace(/^[\r\n]+|[\r\n]+$/g, ''))) {
    // cron.py warns ('Job should not contain line breaks') and writes it anyway, which breaks the crontab's lines
    throw new InputError(`${what}: job should not contain line breaks`);
  }
  const edit = {
    name: params.name,
    job,
    ...time,
    specialTime: params.specialTime,
    user: params.user,
    cronFile: file !== undefined,
    state,
    disabled: params.disabled,
    env: params.env,
    insertAfter: params.insertAfter,
    insertBefore: params.insertBefore,
  };
  const where = file ?? `crontab:${params.user ?? ''}`;
  // the user's crontab also depends on the user existing (an earlier user task), read from /etc/passwd
  const footprint: Footprint = { reads: file ? [{ path: file }] : [{ path: where }, { path: '/etc/passwd' }], writes: [{ path: where }] };
  const task = defineTask('cron', `cron ${params.name} in ${file ?? (params.user ? `crontab of ${params.user}` : 'crontab')}`, { ...params, name: undefined }, {
    footprint,
    async check(ctx) {
      const read = file === undefined ? await readUserCrontab(ctx, params.user) : await readFile(ctx, file);
      let result;
      try {
        result = planCronEdit(read.crontab, edit);
      } catch (err) {
        if (err instanceof CronEditError) throw new InputError(`${what}: ${err.message}`);
        throw err;
      }
      if (!result.changed) return noChange(state === 'absent' ? 'not present' : 'already present');
      const label = file ?? (params.user ? `crontab for user "${params.user}"` : 'crontab');
      const before = Buffer.from(read.crontab.existing);
      const diff: FileDiff[] = params.secret
        ? [{ path: label, before: null, after: null, note: 'content hidden (secret)' }]
        : [buildFileDiff(label, read.exists ? before : null, result.removeFile ? null : Buffer.from(result.after))];
      const data: CronData = {
        // the file removed is the cron file's own name (a link itself, as os.unlink), the file written its target
        file: result.removeFile ? file : read.target,
        user: params.user,
        remove: result.removeFile,
        newFile: !read.exists,
        ...(result.removeFile ? {} : { content: result.after }),
        ...(params.backup ? { backupOf: renderCrontab(read.crontab.lines) } : {}),
      };
      return change(result.msg, { diff, data });
    },
    apply: (ctx, plan) => applyCron(ctx, plan),
    applyScript: (_ctx, plan) => {
      const a = cronApply(plan);
      return a.stdin ? undefined : a.script;
    },
  });
  return { ...task, params };
}

interface Read {
  crontab: ReadCrontab;
  exists: boolean;
  /** The cron file to write (a followed link's target). */
  target?: string;
}

/** A cron file, read with the other checks' reads. */
async function readFile(ctx: TaskContext, file: string): Promise<Read> {
  const st = await statPath(ctx, file, { follow: true, content: true, maxContent: maxFile });
  if (st === null) return { crontab: readCronFile(''), exists: false, target: file };
  if (st.type === 'directory') throw new InputError(`${file} is a directory`);
  if (st.type !== 'file') throw new InputError(`${file} is not a regular file (${st.type})`);
  if (st.content === undefined && st.size > 0) throw new InputError(`${file} is larger than ${maxFile} bytes; cron reads whole files`);
  const bytes = st.content ?? Buffer.alloc(0);
  if (!isText(bytes)) throw new InputError(`${file} is not UTF-8 text; cron edits only text crontabs`);
  return { crontab: readCronFile(bytes.toString('utf8')), exists: true, target: checkFollow(st, file) };
}

/** `crontab -l` for the user, or without -u when the task runs as that user (as cron.py reads it). */
function crontabCommand(user: string | undefined, args: string): string {
  if (user === undefined) return `crontab ${args}`;
  return `if [ "$(id -un)" = ${quote(user)} ]; then crontab ${args}; else crontab -u ${quote(user)} ${args}; fi`;
}

/** The exit code of the read when the host has no crontab program. */
const noCrontab = 127;

/** A user's crontab through `crontab -l` (one inline command, sent with the other checks' reads). */
async function readUserCrontab(ctx: TaskContext, user: string | undefined): Promise<Read> {
  const script = `command -v crontab >/dev/null 2>&1 || return ${noCrontab}\n${crontabCommand(user, '-l')}`;
  const r = await ctx.exec(script, { inline: true, maxOutput: maxFile });
  if (r.code === noCrontab) {
    throw new MissingOnHostError('Failed to find required executable "crontab" on the host (install cron)', [{ path: '/usr/bin/crontab' }]);
  }
  // 1 can mean that there are no jobs (cron.py's reading)
  if (r.code !== 0 && r.code !== 1) throw new CommandError(`Unable to read crontab${user ? ` of ${user}` : ''}`, r.code, r.stdout, r.stderr);
  if (r.truncated) throw new InputError(`the crontab${user ? ` of ${user}` : ''} is larger than ${maxFile} bytes`);
  return { crontab: readCrontabOutput(r.stdout), exists: r.code === 0 };
}

/** What the backup prints: the /tmp file holding the crontab as it was. */
const backupTag = 'provision:cron-backup=';

function backupSteps(d: CronData): string[] {
  if (d.backupOf === undefined) return [];
  return [
    'local b',
    // mkstemp's file, as cron.py's tempfile.mkstemp(prefix='crontab'): mode 0600 in /tmp
    `b=$(umask 077 && mktemp /tmp/crontabXXXXXXXX) || return 1`,
    `printf %s ${quote(d.backupOf)} > "$b" || return 1`,
    `printf '%s%s\\n' '${backupTag}' "$b"`,
  ];
}

/** The apply as one inline script: the backup, then the cron file's atomic write (or removal) or `crontab FILE`. */
function cronApply(plan: Plan): { script: ApplyScript; stdin?: Buffer } {
  const d = plan.data as CronData;
  const done = (command: string) => (r: ExecResult): ApplyResult | void => {
    if (r.code !== 0) throw new CommandError(command, r.code, r.stdout, r.stderr);
    const at = r.stdout.indexOf(backupTag);
    if (at >= 0) return { summary: `${plan.summary ?? ''} (backup ${r.stdout.slice(at + backupTag.length).split('\n')[0]})` };
    return undefined;
  };
  if (d.file !== undefined) {
    if (d.remove) {
      const script = [...backupSteps(d), `rm -f -- ${quote(d.file)}`].join('\n');
      return { script: { script, done: done(`rm ${d.file}`) } };
    }
    const content = Buffer.from(d.content ?? '');
    const w = writeCommand(d.file, content, d.newFile ? { mode: '0644' } : {});
    const script = [...backupSteps(d), w.script].join('\n');
    return { script: { script, done: done(`write ${d.file}`) }, stdin: w.stdin };
  }
  // the user's crontab: cron.py's tempfile (0644) given to `crontab [-u USER] FILE`, then removed
  const content = d.content ?? '';
  const inline = !content.includes('\0') && Buffer.byteLength(content) <= 64 * 1024;
  const script = [
    ...backupSteps(d),
    'local t rc',
    't=$(mktemp /tmp/crontabXXXXXXXX) || return 1',
    `{ ${inline ? `printf %s ${quote(content)}` : 'cat'} > "$t" && chmod 0644 "$t" && { ${crontabCommand(d.user, '"$t"')}; }; }; rc=$?`,
    'rm -f -- "$t"',
    'return "$rc"',
  ].join('\n');
  return { script: { script, done: done(`crontab${d.user ? ` -u ${d.user}` : ''}`) }, ...(inline ? {} : { stdin: Buffer.from(content) }) };
}

async function applyCron(ctx: TaskContext, plan: Plan): Promise<ApplyResult | void> {
  const a = cronApply(plan);
  return applyWith(ctx, a.script, a.stdin ? { stdin: a.stdin } : {});
}
