// Summarises a V8 .cpuprofile (node --cpu-prof) into self time per function and per package: where the CPU goes.
// A frame in a bundled file (dist/cli/main.js, dist/chunks/*.js: scripts/bundle.mjs) is charged to the source it was
// bundled from, read from the file's source map: src/runner, node-ssh, ssh2, … rather than one "dist/chunks".
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface CpuSummary {
  totalMs: number;
  /** Self time by package (node_modules/<name>, dist/<folder>, node internals, idle, gc). */
  byPackage: Array<{ name: string; ms: number }>;
  /** Self time by function, the heaviest first. */
  byFunction: Array<{ name: string; ms: number }>;
  /**
   * Self time by package, node's own work (compiling a required file, reading it, native calls) charged to the
   * nearest caller in a package or the project: what loading each package costs. Work with no such caller on its
   * stack (bootstrap, ES module linking, which runs off the importer's stack) stays node's.
   */
  byCaller: Array<{ name: string; ms: number }>;
}

/** Where a script's URL belongs: its npm package, the project's folder, or node itself. */
export function packageOf(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node internals';
  const m = /\/(dist|src|bench)\/([^/]+)/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  return url.replace(/^file:\/\//, '');
}

const maps = new Map<string, SourceMap | null>();

/** The source map beside a bundled file of the project (`file.js.map`), or null. */
function mapOf(url: string): SourceMap | null {
  let map = maps.get(url);
  if (map === undefined) {
    map = null;
    if (url.startsWith('file:') && /\/dist\//.test(url)) {
      const path = `${fileURLToPath(url)}.map`;
      if (existsSync(path)) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
    }
    maps.set(url, map);
  }
  return map;
}

/**
 * Where a frame's code was written: for a bundled file with a source map, the original source's URL and line
 * (0-based); otherwise the frame's own.
 */
export function sourceOf(url: string, line: number, column: number): { url: string; line: number } {
  const map = mapOf(url);
  if (!map) return { url, line };
  const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number };
  if (!entry.originalSource) return { url, line };
  const source = entry.originalSource;
  const original = /^[a-z]+:/.test(source) ? source : pathToFileURL(resolve(dirname(fileURLToPath(url)), source)).href;
  return { url: original, line: entry.originalLine ?? line };
}

function top(map: Map<string, number>, n: number): Array<{ name: string; ms: number }> {
  return [...map.entries()]
    .map(([name, us]) => ({ name, ms: us / 1000 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}

/** Reads a .cpuprofile and sums each sample's interval onto the function it was in. */
export function summarizeCpuProfile(path: string, n = 12): CpuSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of prof.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  const caller = new Map<string, number>();
  const isNode = (p: string) => p === 'node internals' || p.startsWith('(native ');
  /** The package of the nearest frame above `id` that is not node's own, if any. */
  const callerOf = (id: number): string | undefined => {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      const url = frame ? sourceOf(frame.url, frame.lineNumber, frame.columnNumber ?? 0).url : '';
      if (url !== '' && !isNode(packageOf(url))) return packageOf(url);
    }
    return undefined;
  };
  prof.samples.forEach((id, i) => {
    const us = prof.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName } = node.callFrame;
    const { url, line: lineNumber } = sourceOf(node.callFrame.url, node.callFrame.lineNumber, node.callFrame.columnNumber ?? 0);
    const special = functionName.startsWith('(') ? functionName : undefined; // (idle), (garbage collector), (program)
    // Native frames have no URL: name them, since socket writes (writeBuffer) can be a large share.
    const p = special ?? (url === '' ? `(native ${functionName})` : packageOf(url));
    const f = special ?? `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${lineNumber + 1}`;
    pkg.set(p, (pkg.get(p) ?? 0) + us);
    fn.set(f, (fn.get(f) ?? 0) + us);
    const c = isNode(p) ? (callerOf(id) ?? p) : p;
    caller.set(c, (caller.get(c) ?? 0) + us);
  });
  return { totalMs: (prof.endTime - prof.startTime) / 1000, byPackage: top(pkg, n), byFunction: top(fn, n), byCaller: top(caller, n) };
}
