// What a run made one host do, counted from `strace -f -ttt -e trace=process` of that host's sshd: processes forked,
// programs exec'd (and which task caused each). Pure logic; bench/strace.ts runs strace.
import type { HostTrace, TraceEvent } from './trace.js';

/** One successful execve on the host. */
export interface ExecRecord {
  pid: number;
  /** Epoch milliseconds when the call started (strace -ttt). */
  time: number;
  path: string;
  argv: string[];
}

export interface HostCounts {
  /** New processes (fork, vfork, clone/clone3 without CLONE_THREAD), sshd's own per-connection ones included. */
  processes: number;
  /** Successful execve calls (a PATH search's failed tries are not counted). */
  execs: number;
  /** Exec'd programs by name (the path's last part), most first. */
  programs: Array<[string, number]>;
  execList: ExecRecord[];
}

/** Reads a C-style quoted string at `at` (which must be `"`); returns it and the index after its closing quote. */
function quoted(s: string, at: number): [string, number] {
  let out = '';
  let i = at + 1;
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f', '"': '"', '\\': '\\' };
  while (i < s.length && s[i] !== '"') {
    if (s[i] === '\\') {
      const c = s[i + 1] ?? '';
      if (c === 'x') {
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
        i += 4;
        continue;
      }
      const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1))?.[0];
      if (oct) {
        out += String.fromCharCode(parseInt(oct, 8));
        i += 1 + oct.length;
        continue;
      }
      out += simple[c] ?? c;
      i += 2;
      continue;
    }
    out += s[i];
    i++;
  }
  // strace marks a string cut at -s with `"..."`: keep the mark.
  let end = i + 1;
  if (s.startsWith('...', end)) {
    out += '…';
    end += 3;
  }
  return [out, end];
}

/** `execve("/usr/bin/stat", ["stat", "-c", "%a"], 0x… /* 9 vars *\/) = 0` → path and argv. */
export function parseExecve(call: string): { path: string; argv: string[] } | null {
  const open = call.indexOf('("');
  if (open < 0) return null;
  const [path, afterPath] = quoted(call, open + 1);
  const argv: string[] = [];
  let i = call.indexOf('[', afterPath);
  if (i < 0) return { path, argv };
  i++;
  while (i < call.length && call[i] !== ']') {
    if (call[i] === '"') {
      const [arg, next] = quoted(call, i);
      argv.push(arg);
      i = next;
    } else if (call.startsWith('...', i)) {
      argv.push('…');
      i += 3;
    } else {
      i++;
    }
  }
  return { path, argv };
}

const lineRe = /^(\d+)\s+(?:(\d+(?:\.\d+)?)\s+)?(.*)$/;
const resultRe = /\)\s+=\s+(-?\d+)(?:\s+\S.*)?$/;

/** Counts processes and execs in strace's -f output (with or without -ttt), joining `<unfinished ...>` calls. */
export function parseStrace(text: string): HostCounts {
  const pending = new Map<number, { time: number; text: string }>();
  let processes = 0;
  const execList: ExecRecord[] = [];
  for (const raw of text.split('\n')) {
    const m = lineRe.exec(raw.trimEnd());
    if (!m) continue;
    const pid = Number(m[1]);
    const time = m[2] === undefined ? 0 : Number(m[2]) * 1000;
    let rest = m[3] ?? '';
    let started = time;
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, { time, text: rest.slice(0, -'<unfinished ...>'.length) });
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>\s?(.*)$/.exec(rest);
    if (resumed) {
      const p = pending.get(pid);
      pending.delete(pid);
      if (!p) continue;
      rest = p.text + (resumed[2] ?? '');
      started = p.time;
    }
    const name = /^(\w+)\(/.exec(rest)?.[1];
    if (!name) continue; // signals, exits
    const result = Number(resultRe.exec(rest)?.[1] ?? NaN);
    if (name === 'fork' || name === 'vfork' || name === 'clone' || name === 'clone3') {
      if (result > 0 && !rest.includes('CLONE_THREAD')) processes++;
    } else if ((name === 'execve' || name === 'execveat') && result === 0) {
      const e = parseExecve(rest);
      if (e) execList.push({ pid, time: started, ...e });
    }
  }
  const byName = new Map<string, number>();
  for (const e of execList) {
    const prog = e.path.split('/').at(-1) ?? e.path;
    byName.set(prog, (byName.get(prog) ?? 0) + 1);
  }
  const programs = [...byName].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { processes, execs: execList.length, programs, execList };
}

const what = (e: TraceEvent) => `${e.handler ? 'handler' : e.kind} ${e.name}`;

/**
 * The task that caused a program run at `time` (epoch ms) on a host, from provision's task traces: the check or apply
 * running then. When several checks ran together (pipelined on one shell, which runs requests in the order sent), the
 * host works on the oldest unanswered one, so the one of them that ended first is named, marked `≈`; a task whose name
 * holds a path the program was given (`stat -- /srv/a`) is preferred, as answers reach the controller a little late.
 */
export function attribute(time: number, trace: HostTrace | undefined, argv: string[] = []): string {
  if (!trace) return '?';
  if (time < trace.tasksBuiltAt) return '(connect + facts)';
  const during = trace.events.filter((e) => e.start <= time && time <= e.end);
  if (during.length === 1) return what(during[0] as TraceEvent);
  if (during.length > 1) {
    const paths = argv.filter((a) => a.length > 1 && a.startsWith('/'));
    const named = during.filter((e) => paths.some((p) => e.name.endsWith(p) || e.name.includes(`${p} `)));
    const oldest = [...(named.length > 0 ? named : during)].sort((a, b) => a.end - b.end || a.index - b.index)[0] as TraceEvent;
    return `≈ ${what(oldest)} (${during.length} running together)`;
  }
  const before = trace.events.filter((e) => e.end < time).sort((a, b) => b.end - a.end)[0];
  if (!before) return '(before the first task)';
  return trace.events.some((e) => e.start > time) ? `(between tasks, after ${what(before)})` : '(after the last task: closing)';
}

const cut = (text: string, width: number) => {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
};

/** Replaces each `[from, to]` in text (the host's deploy root by ROOT: no machine paths in the listing). */
function shorten(text: string, names: Array<[string, string]>): string {
  return names.reduce((t, [from, to]) => (from === '' ? t : t.split(from).join(to)), text);
}

/** A program line for --explain: `name argv…` on one line of at most `width` characters. */
export function describeExec(e: ExecRecord, width = 100, names: Array<[string, string]> = []): string {
  return cut(shorten(e.argv.length > 0 ? e.argv.join(' ') : e.path, names), width);
}

/** --explain's listing: every exec in order, with its task (when traces are given); `names` shortens paths. */
export function explainLines(counts: HostCounts, trace: HostTrace | undefined, names: Array<[string, string]> = []): string[] {
  const t0 = counts.execList[0]?.time ?? 0;
  return counts.execList.map((e, i) => {
    const at = `+${((e.time - t0) / 1000).toFixed(3)}s`;
    const task = trace ? `  [${cut(shorten(attribute(e.time, trace, e.argv), names), 90)}]` : '';
    return `${String(i + 1).padStart(4)} ${at.padStart(9)}  ${describeExec(e, 100, names)}${task}`;
  });
}
