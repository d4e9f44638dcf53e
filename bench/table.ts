// Prints the benchmark's figures as plain-text tables: the summary, targets, and with --profile phases and tasks.
import { phases } from './phases.js';
import type { BenchResults, SizeResult, Spread } from './results.js';

const num = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));
const spread = (s: Spread | null) => (s === null ? '-' : s.min === s.max ? String(s.median) : `${s.min}..${s.max}`);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The summary: seconds per tool (cold/warm), ratios, provision's round trips, channels and peak RSS. */
export function formatSummary(sizes: SizeResult[]): string {
  const head = ['N', 'lat ms', 'provision c/w s', 'floor c/w s', 'ansible c/w s', 'prov/floor c/w', 'ansible/prov c/w', 'RT/host c/w', 'chan/host c/w', 'RSS MB'];
  const rows = sizes.map((s) => [
    String(s.hosts),
    String(s.latency_ms),
    `${num(s.provision.cold_s)} / ${num(s.provision.warm_s)}`,
    `${num(s.floor.cold_s)} / ${num(s.floor.warm_s)}`,
    s.ansible.skipped ? 'skipped' : `${num(s.ansible.cold_s)} / ${num(s.ansible.warm_s)}`,
    `${num(s.ratios.provision_floor_cold)} / ${num(s.ratios.provision_floor_warm)}`,
    `${num(s.ratios.ansible_provision_cold, 1)} / ${num(s.ratios.ansible_provision_warm, 1)}`,
    `${spread(s.provision.round_trips.cold)} / ${spread(s.provision.round_trips.warm)}`,
    `${spread(s.provision.channels.cold)} / ${spread(s.provision.channels.warm)}`,
    num(s.provision.peak_rss_mb, 0),
  ]);
  return table(head, rows);
}

const pair = (a: number | null | undefined, b: number | null | undefined, f: (x: number) => string = String) =>
  `${a === null || a === undefined ? '-' : f(a)} / ${b === null || b === undefined ? '-' : f(b)}`;

/**
 * Counts, not seconds (cold / warm): processes forked and programs exec'd on one host (strace of the first host's
 * sshd), controller CPU, provision's requests and round trips per host; wall seconds and ratios beside, for context.
 */
export function formatCounts(sizes: SizeResult[]): string {
  const head = ['N', 'tool', 'host procs c/w', "host exec'd c/w", 'host CPU ms c/w', 'KB sent c/w', 'ctrl CPU s c/w', 'requests c/w', 'RT c/w', 'wall s c/w', '÷ floor c/w'];
  const rows: string[][] = [];
  for (const s of sizes) {
    const tools = [
      ['provision', s.provision],
      ['floor', s.floor],
      ['ansible', s.ansible],
    ] as const;
    for (const [name, f] of tools) {
      if (f.skipped) continue;
      const host = f.counts?.host;
      const cpu = f.counts?.controller_cpu_ms;
      const wallRatio =
        name === 'floor' ? '1 / 1' : pair(f.cold_s !== null && s.floor.cold_s ? f.cold_s / s.floor.cold_s : null, f.warm_s !== null && s.floor.warm_s ? f.warm_s / s.floor.warm_s : null, (x) => x.toFixed(2));
      rows.push([
        String(s.hosts),
        f.error ? `${name} (FAILED)` : name,
        pair(host?.cold?.processes, host?.warm?.processes),
        pair(host?.cold?.execs, host?.warm?.execs),
        pair(f.counts?.host_cpu_ms.cold, f.counts?.host_cpu_ms.warm, (ms) => ms.toFixed(0)),
        pair(f.counts?.bytes.cold?.sent, f.counts?.bytes.warm?.sent, (b) => (b / 1024).toFixed(1)),
        pair(cpu?.cold, cpu?.warm, (ms) => (ms / 1000).toFixed(2)),
        name === 'provision' ? `${spread(s.provision.requests.cold)} / ${spread(s.provision.requests.warm)}` : '-',
        name === 'provision' ? `${spread(s.provision.round_trips.cold)} / ${spread(s.provision.round_trips.warm)}` : name === 'floor' ? '1 / 1' : '-',
        pair(f.cold_s, f.warm_s, (x) => x.toFixed(2)),
        wallRatio,
      ]);
    }
  }
  return table(head, rows);
}

/** The programs a warm and a cold run exec'd on the first host, by name, per tool. */
export function formatPrograms(s: SizeResult, top = 10): string[] {
  const out: string[] = [];
  for (const [name, f] of [['provision', s.provision], ['floor', s.floor], ['ansible', s.ansible]] as const) {
    for (const kind of ['cold', 'warm'] as const) {
      const h = f.counts?.host[kind];
      if (!h) continue;
      const list = h.programs.slice(0, top).map(([p, n]) => `${p}×${n}`).join(' ');
      out.push(`  ${name} ${kind}: ${list}${h.programs.length > top ? ' …' : ''}`);
    }
  }
  return out;
}

/** Per phase, milliseconds per host (median over hosts); startup is the controller process's own. */
export function formatPhases(s: SizeResult): string {
  const { cold, warm } = s.provision.phases_ms;
  if (!cold && !warm) return '';
  const rows = phases.map((p) => [p, num(cold?.[p], 0), num(warm?.[p], 0)]);
  return table([`phase (${s.hosts} hosts)`, 'cold ms', 'warm ms'], rows);
}

/** One run's steps (median over hosts): round trips, channels and milliseconds. */
export function formatSteps(s: SizeResult, kind: 'cold' | 'warm'): string {
  const rows = s.provision.steps[kind].map((x) => [x.name.slice(0, 70), num(x.roundTrips, 0), num(x.channels, 0), num(x.ms, 1)]);
  return rows.length === 0 ? '' : table([`${kind} run, ${s.hosts} hosts: step`, 'RT', 'chan', 'ms'], rows);
}

/** Everything printed at the end of a run. */
export function formatResults(results: BenchResults, profile: boolean): string {
  const mark = (t: { met: boolean; target: string; figure: string }) => `  ${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.figure}`;
  const parts = ['', 'counts per host (host processes and programs: strace of the first host; host CPU: what its sshd reaped; KB sent: through a counting proxy; controller CPU: GNU time), cold / warm:', formatCounts(results.sizes)];
  const { version_cpu_ms: v, npx_version_cpu_ms: npx } = results.startup;
  parts.push(`\`provision --version\` controller CPU: ${v === null ? '-' : `${(v / 1000).toFixed(2)} s`} (node bin/provision.js), ${npx === null ? '-' : `${(npx / 1000).toFixed(2)} s`} (npx provision)`);
  const help = results.startup.help_cpu_ms;
  if (help !== undefined && help !== null) parts.push(`\`provision --help\` controller CPU (the whole command line loaded, no host): ${(help / 1000).toFixed(2)} s`);
  const cost = results.cost_targets ?? [];
  if (cost.length > 0) parts.push('', 'targets (issue 23, the controller as cheap as the hosts):', ...cost.map(mark));
  if (results.count_targets.length > 0) parts.push('', 'targets (issue 12, counts):', ...results.count_targets.map(mark));
  for (const s of results.sizes) {
    const programs = formatPrograms(s);
    if (programs.length > 0) parts.push('', `programs exec'd on the first host, ${s.hosts} host${s.hosts === 1 ? '' : 's'}:`, ...programs);
  }
  parts.push('', 'wall seconds:', formatSummary(results.sizes));
  if (results.targets.length > 0) parts.push('', 'targets (issue 4, wall time and round trips):', ...results.targets.map(mark));
  for (const s of results.sizes) {
    const errors = [
      s.provision.error && `provision: ${s.provision.error}`,
      s.floor.error && `floor: ${s.floor.error}`,
      s.ansible.error && `ansible: ${s.ansible.error}`,
    ].filter(Boolean);
    if (errors.length > 0) parts.push('', `errors at ${s.hosts} hosts:`, ...errors.map((e) => `  ${String(e)}`));
    const diffs = [...s.same_work.floor.map((d) => `floor: ${d}`), ...(s.same_work.ansible ?? []).map((d) => `ansible: ${d}`)];
    if (diffs.length > 0) parts.push('', `work differs from provision's at ${s.hosts} hosts:`, ...diffs.map((d) => `  ${d}`));
    if (s.explain) {
      for (const kind of ['cold', 'warm'] as const) {
        parts.push('', `--explain: every program provision's ${kind} run exec'd on ${s.explain.host} (${s.hosts} hosts), in order, [the task running then]:`, ...s.explain[kind]);
      }
    }
    if (profile) {
      parts.push('', formatPhases(s), '', formatSteps(s, 'cold'), '', formatSteps(s, 'warm'));
      for (const [kind, cpu] of Object.entries(s.provision.cpu ?? {})) {
        if (!cpu) continue;
        parts.push(
          '',
          `controller CPU, ${kind} run at ${s.hosts} hosts (${num(cpu.totalMs, 0)} ms profiled), self time by package:`,
          ...cpu.byPackage.map((p) => `  ${num(p.ms, 0).padStart(7)} ms  ${p.name}`),
          "by package, node's own work (loading a required file, native calls) charged to the package that asked for it:",
          ...cpu.byCaller.map((p) => `  ${num(p.ms, 0).padStart(7)} ms  ${p.name}`),
          'by function:',
          ...cpu.byFunction.map((p) => `  ${num(p.ms, 0).padStart(7)} ms  ${p.name}`),
        );
      }
    }
  }
  if (results.notes.length > 0) parts.push('', 'notes:', ...results.notes.map((n) => `  - ${n}`));
  return `${parts.join('\n')}\n`;
}
