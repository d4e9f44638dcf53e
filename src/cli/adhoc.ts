// `provision adhoc PATTERN -m MODULE -a ARGS`: one task over the hosts of a pattern, as `ansible` runs one, through
// the same machinery as `run` (inventory, connection, become, forks, --check, --diff, recap, JSON report), printed
// per host as Ansible's minimal callback prints it.
import { InputError } from '../errors.js';
import * as modules from '../modules/index.js';
import { callWithTextParams } from '../modules/lib/schema.js';
import { importModuleFile } from '../playbook/load.js';
import type { Playbook, Task, TaskResult } from '../playbook/types.js';
import { formatDiff } from '../report/diff.js';
import type { Progress, ProgressOptions } from '../report/progress.js';
import { terminalSafe as safe } from '../report/terminal-safe.js';
import { isTask } from '../runner/task-list.js';
import type { AdhocRun } from './main.js';

/** Ansible's modules whose output is printed as a command's (`h1 | CHANGED | rc=0 >>`), among provision's. */
const commandModules = new Set(['command', 'shell']);
/** What a command module's free-form text may carry as key=value, as Ansible's command and shell take them. */
const commandKeys = new Set(['creates', 'removes', 'chdir', 'executable', 'stdin']);

/** Splits text into words as a shell would (quotes group, backslash escapes), each with its raw text. */
export function splitWords(text: string): Array<{ raw: string; value: string }> {
  const words: Array<{ raw: string; value: string }> = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    const from = i;
    let value = '';
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i] as string;
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === '\\' && quote === '"' && i + 1 < text.length) value += text[++i];
        else value += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < text.length) value += text[++i];
      else if (/\s/.test(c)) break;
      else value += c;
    }
    if (quote) throw new InputError(`-a: unbalanced ${quote} in ${JSON.stringify(text)}`);
    words.push({ raw: text.slice(from, i), value });
  }
  return words;
}

/**
 * A module's parameters from `-a`: a JSON object as it is; else `key=value` words (values are text, typed by the
 * module's schema). A command module takes the rest of its text as `cmd`, as Ansible's free form.
 */
export function parseModuleArgs(module: string, args: string | undefined): Record<string, unknown> {
  const text = (args ?? '').trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new InputError(`-a: not a JSON object: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputError('-a: JSON arguments must be an object');
    return parsed as Record<string, unknown>;
  }
  const params: Record<string, unknown> = {};
  const free: string[] = [];
  for (const w of splitWords(text)) {
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(w.raw);
    const key = kv?.[1];
    if (key !== undefined && (!commandModules.has(module) || commandKeys.has(key) || key === 'cmd')) {
      params[key] = w.value.slice(key.length + 1);
    } else if (commandModules.has(module)) {
      free.push(w.raw);
    } else {
      throw new InputError(`-a: the ${module} module takes key=value arguments (or a JSON object); got ${JSON.stringify(w.raw)}`);
    }
  }
  if (free.length > 0) {
    if (params.cmd !== undefined) throw new InputError(`-a: give the command either as cmd=… or as free text, not both`);
    params.cmd = free.join(' ');
  }
  if (commandModules.has(module) && params.cmd === undefined) throw new InputError(`-a: the ${module} module needs a command (-m ${module} -a 'uptime')`);
  return params;
}

/** A module function (`(params) => Task`) by name: provision's own, Ansible's `ansible.builtin.` names, or a file's. */
async function findModule(name: string): Promise<{ module: string; fn: (params: Record<string, unknown>) => unknown }> {
  // a path names a module file of the user's: `./mod.ts` (its default export) or `./mod.ts#export`
  if (name.includes('/') || /\.[cm]?[jt]s(#|$)/.test(name)) {
    const [file, exportName = 'default'] = name.split('#') as [string, string?];
    const exports = await importModuleFile(file);
    const fn = exports[exportName];
    if (typeof fn !== 'function') {
      const named = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
      throw new InputError(`-m ${name}: ${file} has no function exported as ${exportName}${named.length ? ` (it exports: ${named.join(', ')}; name one with -m ${file}#NAME)` : ''}`);
    }
    return { module: name, fn: fn as (params: Record<string, unknown>) => unknown };
  }
  const own = name.replace(/^ansible\.(builtin|legacy)\./, '');
  const fn = (modules as Record<string, unknown>)[own];
  if (own === 'ping') return { module: 'ping', fn: () => modules.debug({ name: 'ping', msg: 'pong' }) };
  if (typeof fn !== 'function') {
    throw new InputError(`-m ${name}: no such module; provision's are ${[...Object.keys(modules), 'ping'].sort().join(', ')}, or a module file (-m ./my-module.ts)`);
  }
  return { module: own, fn: fn as (params: Record<string, unknown>) => unknown };
}

/** The play var that carries templated arguments: the inventory renders it with each host's variables. */
const argsVar = 'provision_adhoc_args';

/**
 * The play of an ad-hoc command: one task, over the pattern's hosts. Arguments holding `{{ }}` or `{% %}` are rendered
 * per host with its variables, as Ansible renders them (through the play's vars); others are checked once, up front.
 */
export async function adhocPlay(pattern: string, moduleName: string, args: string | undefined): Promise<{ play: Playbook; module: string }> {
  const { module, fn } = await findModule(moduleName);
  const build = (text: string | undefined): Task => {
    const params = parseModuleArgs(module, text);
    let task: unknown;
    try {
      task = callWithTextParams(fn, params);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`-m ${moduleName} -a: ${err.message}`);
      throw new InputError(`-m ${moduleName}: the module threw: ${(err as Error).message}`);
    }
    if (!isTask(task)) throw new InputError(`-m ${moduleName}: the module function did not return a task (use defineTask)`);
    return task;
  };
  const templated = args !== undefined && /\{\{|\{%/.test(args);
  // as `ansible`, no facts are gathered for the command modules; the others may read them (package manager, init)
  const play: Playbook = {
    name: 'Ansible Ad-Hoc',
    hosts: pattern,
    gatherFacts: !['command', 'shell', 'debug', 'ping'].includes(module),
    ...(templated ? { vars: { [argsVar]: args } } : {}),
    tasks: templated ? ({ vars }) => [build(String(vars[argsVar]))] : [build(args)],
  };
  return { play, module };
}

/** Python's json.dumps(indent=4, sort_keys=True), as Ansible's callbacks print a result. */
function dumpResult(value: Record<string, unknown>): string {
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
      : Array.isArray(v)
        ? v.map(sorted)
        : v;
  return JSON.stringify(sorted(value), null, 4);
}

const strip = (s: string | undefined) => (s ?? '').replace(/\r?\n$/, '');

/** One host's result as Ansible's minimal callback prints it. */
export function formatAdhocResult(host: string, module: string, r: TaskResult): string {
  if (r.status === 'skipped') return `${host} | SKIPPED`;
  const state = r.status === 'failed' ? 'FAILED' : r.changed ? 'CHANGED' : 'SUCCESS';
  if (commandModules.has(module) && r.rc !== undefined) {
    const msg = r.status === 'failed' ? (r.rc !== 0 ? 'non-zero return code' : (r.error ?? '')) : '';
    return `${host} | ${state} | rc=${r.rc} >>\n${strip(r.stdout)}${strip(r.stderr)}${msg}`;
  }
  const result: Record<string, unknown> =
    module === 'debug' ? { msg: r.summary ?? '' } : module === 'ping' ? { changed: false, ping: 'pong' } : { changed: r.changed };
  if (module !== 'debug' && module !== 'ping') {
    const msg = r.status === 'failed' ? r.error : r.summary;
    if (msg !== undefined) result.msg = msg;
    if (r.stdout !== undefined) result.stdout = r.stdout;
    if (r.stderr !== undefined) result.stderr = r.stderr;
    if (r.rc !== undefined) result.rc = r.rc;
    if (r.predicted) result.predicted = true;
  }
  return `${host} | ${state}${r.status === 'failed' ? '!' : ''} => ${dumpResult(result)}`;
}

/** The output of an ad-hoc command: per host, when it ends, its result (diffs first with --diff), as `ansible`. */
export function createAdhocOutput(module: string, o: ProgressOptions): Progress {
  const write = (text: string) => o.stream.write(`${safe(text)}\n`);
  return {
    onEvent(e) {
      if (e.type !== 'host-end') return;
      const r = e.report;
      const task = r.tasks.find((t) => t.id === 'task 1');
      if (task) {
        if (o.diff && task.status === 'changed') for (const d of task.diff ?? []) write(formatDiff(d, o.color));
        write(formatAdhocResult(e.host, module, task));
      } else if (r.status === 'unreachable') {
        write(`${e.host} | UNREACHABLE! => ${dumpResult({ changed: false, msg: r.error ?? 'unreachable', unreachable: true })}`);
      } else if (r.status === 'failed') {
        write(`${e.host} | FAILED! => ${dumpResult({ changed: false, msg: r.error ?? 'failed' })}`);
      }
    },
    notice: (line) => process.stderr.write(`${line}\n`),
    done: async () => {},
  };
}

/** What `run`'s machinery needs for an ad-hoc command. */
export async function adhocRun(pattern: string, moduleName: string, args: string | undefined, listHostsOnly = false): Promise<AdhocRun> {
  const { play, module } = listHostsOnly
    ? { play: { name: 'Ansible Ad-Hoc', hosts: pattern, tasks: [] }, module: moduleName }
    : await adhocPlay(pattern, moduleName, args);
  return { plays: [play], progress: (o) => createAdhocOutput(module, o) };
}
