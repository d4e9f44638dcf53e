// Tests of the benchmark's own logic (not of provision's speed): `npx mocha bench/lib.test.ts`.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ansibleRunsFor, parseBenchArgs } from './args.js';
import { attribute, explainLines, parseExecve, parseStrace } from './hostcount.js';
import { packageOf, sourceOf, summarizeCpuProfile } from './cpu-profile.js';
import { emptyShardReport, growth, simInventory } from './engine-sim.js';
import { startLatencyProxy } from './latency-proxy.js';
import { hostSteps, median, overlapGroups, splitBusyTime } from './phases.js';
import { checkCostTargets, checkCountTargets, checkTargets, failedTools, type SizeResult } from './results.js';
import { formatCounts } from './table.js';
import { benchDir, parseAnsibleRecap, parseGnuTime } from './tools.js';
import type { TraceEvent } from './trace.js';
import { diffSnapshots, emptyRoot, snapshotTree } from './tree.js';

function ev(index: number, kind: 'check' | 'apply', start: number, end: number, rt: [number, number]): TraceEvent {
  return { index, name: `task ${index + 1}`, handler: false, kind, start, end, roundTrips: rt, channels: rt };
}

describe('bench: phases and steps', () => {
  it('takes medians of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('splits busy time between apply and check, each moment once', () => {
    const events = [ev(0, 'check', 0, 10, [0, 0]), ev(1, 'check', 0, 20, [0, 0]), ev(0, 'apply', 12, 30, [0, 0])];
    assert.deepEqual(splitBusyTime(events), { check: 12, apply: 18, handlers: 0 });
  });

  it('groups checks that ran together and keeps sequential ones apart', () => {
    const events = [ev(0, 'check', 0, 10, [1, 2]), ev(1, 'check', 1, 9, [1, 2]), ev(0, 'apply', 11, 15, [2, 3]), ev(1, 'apply', 16, 20, [3, 4])];
    const groups = overlapGroups(events);
    assert.deepEqual(groups.map((g) => g.length), [2, 1, 1]);
    const steps = hostSteps({ host: 'h', tasksBuiltAt: 1000, events }, 900, undefined);
    assert.deepEqual(
      steps.map((s) => [s.name, s.roundTrips]),
      [
        ['(connect + facts)', 1],
        ['2 checks at once (tasks 1–2)', 1],
        ['apply task 1', 1],
        ['apply task 2', 1],
      ],
    );
    assert.equal(steps[0]?.ms, 100);
  });
});

describe('bench: targets', () => {
  const size = (hosts: number, warm: number, cold: number, rtWarm: number): SizeResult => ({
    hosts,
    latency_ms: 0,
    provision: {
      cold_s: 1,
      warm_s: 1,
      cold_runs_s: [1],
      warm_runs_s: [1],
      warm_changed: 0,
      peak_rss_mb: 120,
      round_trips: { cold: { median: 10, min: 10, max: 10 }, warm: { median: rtWarm, min: rtWarm, max: rtWarm } },
      channels: { cold: null, warm: null },
      requests: { cold: { median: 30, min: 30, max: 30 }, warm: { median: 25, min: 25, max: 25 } },
      cold_changed_per_host: 22,
      steps: { cold: [], warm: [] },
      phases_ms: { cold: null, warm: null },
    },
    floor: { cold_s: 1, warm_s: 1, cold_runs_s: [1], warm_runs_s: [1], warm_changed: 0 },
    ansible: { cold_s: null, warm_s: null, cold_runs_s: [], warm_runs_s: [], warm_changed: null, skipped: 'x' },
    ratios: { provision_floor_cold: cold, provision_floor_warm: warm, ansible_provision_cold: null, ansible_provision_warm: null },
    same_work: { floor: [], ansible: null },
  });

  it('checks the issue targets for the sizes measured', () => {
    const t = checkTargets([size(50, 0.9, 1.6, 2), size(1, 1.2, 2, 4)]);
    const byName = (s: string) => t.find((x) => x.target.startsWith(s));
    assert.equal(byName('warm, 50 hosts')?.met, true);
    assert.equal(byName('cold, 50 hosts')?.met, false);
    assert.equal(byName('warm, 1 host')?.met, true);
    assert.equal(byName('warm round trips per host ≤ 3 (1 hosts)')?.met, false);
    assert.equal(byName('cold round trips per host ≤ 1 + changed tasks = 23 (50 hosts)')?.met, true);
    assert.equal(t.some((x) => x.target.includes('RSS')), false, 'no RSS target below 200 hosts');
  });

  it("checks issue 12's count targets and prints counts beside the wall ratios", () => {
    const s = size(1, 2.2, 2.6, 2);
    const host = (processes: number) => ({ processes, execs: processes - 1, programs: [['sh', 3]] as Array<[string, number]> });
    const bytes = (sent: number) => ({ sent, received: 2 * sent });
    s.provision.counts = { controller_cpu_ms: { cold: 1200, warm: 460 }, host: { cold: host(190), warm: host(10) }, host_cpu_ms: { cold: 130, warm: 20 }, bytes: { cold: bytes(30720), warm: bytes(10240) } };
    s.floor.counts = { controller_cpu_ms: { cold: 20, warm: 20 }, host: { cold: host(55), warm: host(40) }, host_cpu_ms: { cold: 60, warm: 40 }, bytes: { cold: null, warm: null } };
    const t = checkCountTargets([s], { version_cpu_ms: 250, npx_version_cpu_ms: 1900 });
    const met = (prefix: string) => t.find((x) => x.target.startsWith(prefix))?.met;
    assert.equal(met('warm: processes on the host ≤ 10'), true, '10 is within the target');
    assert.equal(met("cold: processes on the host ≤ the floor's"), false);
    assert.equal(met('controller CPU of a warm run ≤ 0.45 s'), false, '0.46 s is not');
    assert.equal(met('warm round trips per host ≤ 2'), true);
    assert.equal(met('`provision --version` ≤ 0.25 s CPU'), true);
    assert.equal(t.find((x) => x.target.startsWith('cold:'))?.figure, '190 (floor 55)');
    const lines = formatCounts([s]).split('\n');
    assert.match(lines[0] ?? '', /^N +tool +host procs c\/w +host exec'd c\/w +host CPU ms c\/w +KB sent c\/w +ctrl CPU s c\/w +requests c\/w +RT c\/w +wall s c\/w +÷ floor c\/w$/);
    assert.match(lines[2] ?? '', /^1 +provision +190 \/ 10 +189 \/ 9 +130 \/ 20 +30\.0 \/ 10\.0 +1\.20 \/ 0\.46 +30 \/ 25 +10 \/ 2 +1\.00 \/ 1\.00 +1\.00 \/ 1\.00$/);
    assert.match(lines[3] ?? '', /^1 +floor +55 \/ 40 +54 \/ 39 +60 \/ 40 +- \/ - /);
    assert.equal(lines.length, 4, 'a skipped Ansible has no row');
    assert.deepEqual(failedTools([s]), []);
    s.ansible = { ...s.ansible, skipped: undefined, error: 'cold run 1: no PLAY RECAP\nmore' } as typeof s.ansible;
    assert.deepEqual(failedTools([s]), ['ansible at 1 host: cold run 1: no PLAY RECAP']);
  });

  it("checks issue 23's targets: one host's controller CPU, a cold host's processes, per host CPU and RSS at the largest fleet", () => {
    const host = (processes: number) => ({ processes, execs: processes, programs: [] as Array<[string, number]> });
    const one = size(1, 1, 1, 2);
    one.provision.counts = { controller_cpu_ms: { cold: 290, warm: 210 }, host: { cold: host(45), warm: host(7) }, host_cpu_ms: { cold: null, warm: null }, bytes: { cold: null, warm: null } };
    const fifty = size(50, 1, 1, 2);
    fifty.provision.peak_rss_mb = 100;
    fifty.provision.counts = { controller_cpu_ms: { cold: 900, warm: 240 }, host: { cold: null, warm: null }, host_cpu_ms: { cold: null, warm: null }, bytes: { cold: null, warm: null } };
    const t = checkCostTargets([one, fifty], { version_cpu_ms: 80, npx_version_cpu_ms: null });
    const find = (prefix: string) => t.find((x) => x.target.startsWith(prefix));
    assert.equal(find('controller CPU of a warm one-host run ≤ 0.20 s')?.met, false, '0.21 s is not');
    assert.equal(find('controller CPU of a warm one-host run')?.figure, '0.21 s');
    assert.equal(find('controller CPU of a cold one-host run ≤ 0.30 s')?.met, true);
    assert.equal(find('cold: processes on the host ≤ 25 (1 host)')?.met, false);
    assert.equal(find('warm: processes on the host ≤ 10 (1 host)')?.met, true);
    assert.deepEqual(find('controller CPU per host of a warm run ≤ 5 ms (50 hosts)'), { target: 'controller CPU per host of a warm run ≤ 5 ms (50 hosts)', figure: '4.8 ms', met: true });
    assert.equal(find('controller peak RSS per host ≤ 1 MB (50 hosts)')?.figure, '2.00 MB (100 MB in all)');
    assert.equal(find('controller peak RSS per host')?.met, false);
    assert.equal(find('controller peak RSS ≤ 300 MB'), undefined, 'only measured from 200 hosts');
    assert.equal(find('scale: 1,000 loopback hosts')?.met, false, 'a run without 1,000 hosts says so');
    assert.equal(find('the Django role')?.met, false, 'not measured here, never counted as met');
    assert.equal(find('`provision --version`')?.met, true);
  });

  it("puts a real 1,000-host measurement in issue 23's scale line, met only when CPU and RSS a host both are", () => {
    const big = (warmMs: number, rssMb: number) => {
      const s = size(1000, 1, 1, 2);
      s.provision.peak_rss_mb = rssMb;
      s.provision.counts = { controller_cpu_ms: { cold: 9000, warm: warmMs }, host: { cold: null, warm: null }, host_cpu_ms: { cold: null, warm: null }, bytes: { cold: null, warm: null } };
      return s;
    };
    const scale = (s: SizeResult) => checkCostTargets([s], { version_cpu_ms: null, npx_version_cpu_ms: null }).find((x) => x.target.startsWith('scale: 1,000 loopback hosts'));
    assert.deepEqual(scale(big(4000, 900)), { target: 'scale: 1,000 loopback hosts on one controller, ≤ 1 MB RSS and ≤ 5 ms CPU a host, warm', figure: '1000 hosts: 4.0 ms and 0.90 MB a host, warm', met: true });
    assert.equal(scale(big(6000, 900))?.met, false, '6 ms a host is over');
    assert.equal(scale(big(4000, 1100))?.met, false, '1.1 MB a host is over');
    const failed = big(4000, 900);
    failed.provision.error = 'warm run 1: host0012 unreachable\nmore';
    assert.deepEqual([scale(failed)?.met, scale(failed)?.figure], [false, '1000 hosts: provision failed: warm run 1: host0012 unreachable']);
  });

  it('reads GNU time figures, also after a non-zero exit line', () => {
    assert.deepEqual(parseGnuTime('Command exited with non-zero status 1\n92160 0.41 0.07\n'), { rssMb: 90, cpuMs: 480 });
    assert.equal(parseGnuTime(''), null);
  });
});

describe('bench: arguments and profiles', () => {
  it('has bounded defaults and rejects nonsense', () => {
    const o = parseBenchArgs([]);
    assert.deepEqual(o.hosts, [1, 10, 50]);
    assert.equal(o.runs, 3);
    assert.equal(ansibleRunsFor(o, 1), 3);
    assert.equal(ansibleRunsFor(o, 50), 1);
    assert.equal(ansibleRunsFor(parseBenchArgs(['--ansible-runs', '3']), 50), 3);
    assert.equal(parseBenchArgs(['--hosts', '200', '--latency', '20', '--no-ansible']).ansible, false);
    assert.throws(() => parseBenchArgs(['--hosts', '0']), /--hosts must be a whole number above 0/);
    assert.throws(() => parseBenchArgs(['--runs', 'x']), /--runs/);
    assert.equal(o.basePort, undefined, 'random ports unless asked');
    assert.equal(parseBenchArgs(['--base-port', '20000', '--hosts', '1,50']).basePort, 20000);
    assert.throws(() => parseBenchArgs(['--base-port', '65500', '--hosts', '50']), /--base-port must leave ports 65500\.\.65599/);
    assert.throws(() => parseBenchArgs(['--base-port', '80']), /--base-port/);
    assert.equal(parseBenchArgs(['--explain']).explain, true);
    assert.equal(o.connectTimeoutS, undefined, "the tools' own connect timeouts unless asked");
    assert.equal(parseBenchArgs(['--connect-timeout', '120']).connectTimeoutS, 120);
    assert.throws(() => parseBenchArgs(['--connect-timeout', '0']), /--connect-timeout must be a whole number above 0/);
  });

  it('names the package a profiled frame belongs to', () => {
    assert.equal(packageOf('file:///p/node_modules/ssh2/lib/client.js'), 'ssh2');
    assert.equal(packageOf('file:///p/node_modules/@scope/pkg/x.js'), '@scope/pkg');
    assert.equal(packageOf('file:///p/dist/runner/run.js'), 'dist/runner');
    assert.equal(packageOf('node:net'), 'node internals');
  });

  it('charges a frame of a bundled file to the source its source map names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpu-profile-'));
    try {
      mkdirSync(join(dir, 'dist', 'chunks'), { recursive: true });
      const chunk = join(dir, 'dist', 'chunks', 'c.js');
      writeFileSync(chunk, 'run();\nconnect();\n');
      // line 1 from src/runner/run.ts line 1; line 2 from ssh2's client.js line 5
      writeFileSync(`${chunk}.map`, JSON.stringify({ version: 3, sources: ['../../src/runner/run.ts', '../../node_modules/ssh2/lib/client.js'], names: [], mappings: 'AAAA;ACIA' }));
      const url = `file://${chunk}`;
      assert.equal(packageOf(sourceOf(url, 0, 0).url), 'src/runner');
      assert.deepEqual(sourceOf(url, 1, 3), { url: `file://${join(dir, 'node_modules', 'ssh2', 'lib', 'client.js')}`, line: 4 });
      assert.equal(packageOf(sourceOf(url, 1, 3).url), 'ssh2');
      assert.deepEqual(sourceOf('file:///p/dist/nomap.js', 2, 0), { url: 'file:///p/dist/nomap.js', line: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("charges node's own work to the package whose code asked for it, where one is on the stack", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpu-profile-'));
    try {
      const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
      const path = join(dir, 'p.cpuprofile');
      writeFileSync(
        path,
        JSON.stringify({
          nodes: [
            { id: 1, callFrame: frame('(root)', ''), children: [2, 4, 5] },
            { id: 2, callFrame: frame('', 'file:///p/node_modules/ssh2/lib/client.js'), children: [3] },
            { id: 3, callFrame: frame('wrapSafe', 'node:internal/modules/cjs/loader'), children: [] },
            { id: 4, callFrame: frame('(garbage collector)', ''), children: [] },
            { id: 5, callFrame: frame('compileSourceTextModule', 'node:internal/modules/esm/utils'), children: [] },
          ],
          startTime: 0,
          endTime: 6000,
          samples: [3, 3, 4, 5, 2],
          timeDeltas: [1000, 1000, 500, 2000, 1500],
        }),
      );
      const s = summarizeCpuProfile(path);
      assert.deepEqual(s.byPackage, [{ name: 'node internals', ms: 4 }, { name: 'ssh2', ms: 1.5 }, { name: '(garbage collector)', ms: 0.5 }]);
      assert.deepEqual(s.byCaller, [{ name: 'ssh2', ms: 3.5 }, { name: 'node internals', ms: 2 }, { name: '(garbage collector)', ms: 0.5 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench: the coordinator with shards that do nothing', () => {
  it('generates an inventory of hosts that are never contacted', () => {
    assert.equal(simInventory(3), '[sim]\nsim1 ansible_connection=local root=/nonexistent\nsim2 ansible_connection=local root=/nonexistent\nsim3 ansible_connection=local root=/nonexistent\n');
    assert.match(simInventory(10_000).split('\n')[1] ?? '', /^sim00001 /);
    assert.equal(simInventory(10_000).trim().split('\n').length, 10_001);
  });

  it("answers a shard with the worker's report shape: every host ok, named, no task", () => {
    const r = emptyShardReport({ playbook: 'bench/workload.ts', hosts: ['a', 'b'], options: { check: true, diff: false, extraVars: [], forks: 5, anyErrorsFatal: false } }, 'sim', new Date(0));
    assert.deepEqual(Object.keys(r.hosts), ['a', 'b']);
    assert.deepEqual(r.hosts.a, { status: 'ok', stats: { ok: 0, changed: 0, failed: 0, skipped: 0, left_out: 0 }, tasks: [], started: '1970-01-01T00:00:00.000Z', duration_ms: 0, round_trips: 0, requests: 0, channels: 0, worker: 'sim' });
    assert.equal(r.check, true);
    assert.deepEqual(r.batches, [['a', 'b']]);
    assert.equal(r.summary.hosts, 2);
  });

  it('says where a cost grows faster than linear, from the marginal cost of each step', () => {
    const linear = growth([{ hosts: 10, value: 1 }, { hosts: 1000, value: 100 }, { hosts: 3000, value: 300 }]);
    assert.deepEqual(linear.map((s) => s.faster), [false, false]);
    assert.equal(linear[1]?.ratio?.toFixed(2), '1.00');
    const square = growth([{ hosts: 3000, value: 9 }, { hosts: 1000, value: 1 }, { hosts: 10_000, value: 100 }]);
    assert.deepEqual(square.map((s) => [s.from, s.to, s.faster]), [[1000, 3000, false], [3000, 10_000, true]]);
    assert.equal(square[0]?.ratio, null, 'the first step has nothing to compare with');
  });
});

describe('bench: deploy roots', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'bench-tree-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('snapshots trees with the root and host names normalised, and lists differences', () => {
    const a = join(dir, 'host01');
    const b = join(dir, 'host02');
    for (const [root, host] of [
      [a, 'host01'],
      [b, 'host02'],
    ] as const) {
      mkdirSync(join(root, 'etc'), { recursive: true });
      writeFileSync(join(root, 'etc', 'conf'), `root=${root} name=${host}\n`, { mode: 0o644 });
      symlinkSync('conf', join(root, 'etc', 'link'));
    }
    assert.deepEqual(diffSnapshots(snapshotTree(a, 'host01'), snapshotTree(b, 'host02')), []);
    writeFileSync(join(b, 'extra'), '');
    assert.deepEqual(diffSnapshots(snapshotTree(a, 'host01'), snapshotTree(b, 'host02')), [`extra extra (file 0644 gid=${process.getgid?.() ?? 0} e3b0c44298fc)`]);
    emptyRoot(b);
    assert.equal(snapshotTree(b, 'host02').size, 0);
  });

  it('runs the floor script idempotently: a second run changes nothing', () => {
    const run = () =>
      execFileSync('sh', [join(benchDir, 'floor.sh')], { env: { ...process.env, ROOT: dir, SERVER_NAME: 'h.bench.test' }, encoding: 'utf8' });
    assert.match(run(), /changed=22\s*$/);
    assert.match(run(), /changed=0\s*$/);
  });
});

describe('bench: latency proxy', () => {
  let echo: Server;
  let port: number;
  before(async () => {
    echo = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    port = (echo.address() as { port: number }).port;
  });
  after(() => echo.close());

  it('delays each direction and keeps the bytes in order', async () => {
    const proxy = await startLatencyProxy(port, 25);
    try {
      const sock = connect({ host: '127.0.0.1', port: proxy.port });
      await once(sock, 'connect');
      const payload = Buffer.alloc(256 * 1024, 0);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
      const t0 = performance.now();
      const chunks: Buffer[] = [];
      let got = 0;
      const done = new Promise<void>((resolve) =>
        sock.on('data', (d: Buffer) => {
          chunks.push(d);
          got += d.length;
          if (got >= payload.length) resolve();
        }),
      );
      sock.write(payload);
      await done;
      const ms = performance.now() - t0;
      sock.destroy();
      assert.ok(ms >= 45, `a round trip took ${ms.toFixed(1)} ms, expected ≥ 50 ms`);
      assert.ok(Buffer.concat(chunks).equals(payload), 'bytes arrive whole and in order');
    } finally {
      await proxy.close();
    }
  });
});

describe('bench: Ansible recap and failures', () => {
  it('reads the default callback recap, not a json callback core does not ship', () => {
    const out = [
      'TASK [x] ***',
      'changed: [host01]',
      '',
      'PLAY RECAP *********************************************************************',
      'host01                     : ok=20   changed=18   unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   ',
      'host02                     : ok=3    changed=0    unreachable=1    failed=2    skipped=0    rescued=0    ignored=0',
      '',
    ].join('\n');
    const recap = parseAnsibleRecap(out);
    assert.deepEqual(recap.get('host01'), { ok: 20, changed: 18, unreachable: 0, failed: 0 });
    assert.deepEqual(recap.get('host02'), { ok: 3, changed: 0, unreachable: 1, failed: 2 });
    assert.equal(parseAnsibleRecap('ERROR! Invalid callback for stdout specified: json\n').size, 0);
  });
});

describe('bench: host counts from strace', () => {
  const trace = [
    '100 1700000000.000000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101',
    '101 1700000000.001000 execve("/usr/sbin/sshd", ["/usr/sbin/sshd", "-D", "-R"], 0x55 /* 68 vars */) = 0',
    '101 1700000000.010000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102',
    '102 1700000000.020000 execve("/bin/sh", ["sh", "-c", "echo \\"a b\\"\\n\\t\\\\x"], 0x55 /* 9 vars */) = 0',
    '102 1700000000.030000 vfork( <unfinished ...>',
    '103 1700000000.031000 execve("/usr/local/bin/stat", ["stat", "/srv"], 0x55 /* 9 vars */) = -1 ENOENT (No such file or directory)',
    '103 1700000000.032000 execve("/usr/bin/stat", ["stat", "/srv"], 0x55 /* 9 vars */ <unfinished ...>',
    '102 1700000000.033000 <... vfork resumed>) = 103',
    '103 1700000000.034000 <... execve resumed>) = 0',
    '103 1700000000.035000 +++ exited with 0 +++',
    '102 1700000000.036000 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=103} ---',
    '102 1700000000.040000 clone3({flags=CLONE_VM|CLONE_FS|CLONE_THREAD|CLONE_SETTLS, exit_signal=0} => {parent_tid=[104]}, 88) = 104',
    '102 1700000000.050000 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f} => {parent_tid=[0]}, 88) = 105',
    '105 1700000000.051000 execve("/usr/bin/sha256sum", ["sha256sum", "/srv/a"...], 0x55 /* 9 vars */) = 0',
    '102 1700000000.060000 clone(child_stack=NULL, flags=SIGCHLD) = -1 EAGAIN (Resource temporarily unavailable)',
    '102 1700000000.070000 exit_group(0) = ?',
  ].join('\n');

  it('counts new processes (not threads, not failures) and successful execs, joining unfinished calls', () => {
    const c = parseStrace(trace);
    assert.equal(c.processes, 4, 'sshd session, its shell, the vfork, the clone3 vfork; the thread and EAGAIN are not');
    assert.equal(c.execs, 4, "the PATH search's ENOENT is not an exec");
    assert.deepEqual(c.programs, [['sh', 1], ['sha256sum', 1], ['sshd', 1], ['stat', 1]]);
    assert.deepEqual(c.execList[1]?.argv, ['sh', '-c', 'echo "a b"\n\t\\x']);
    assert.equal(c.execList[2]?.time, 1700000000032, 'an unfinished call keeps the time it started');
    assert.deepEqual(c.execList[3]?.argv, ['sha256sum', '/srv/a…']);
  });

  it('reads execve arguments with octal and hex escapes', () => {
    assert.deepEqual(parseExecve('execve("/bin/x", ["x", "\\303\\251", "\\x41"], 0x1) = 0'), { path: '/bin/x', argv: ['x', '\xc3\xa9', 'A'] });
  });

  it('names the task running when a program ran, or the checks running together', () => {
    const t0 = 1_700_000_000_000;
    const host = {
      host: 'host01',
      tasksBuiltAt: t0 + 100,
      events: [ev(0, 'check', t0 + 110, t0 + 150, [0, 0]), ev(1, 'check', t0 + 110, t0 + 160, [0, 0]), ev(0, 'apply', t0 + 200, t0 + 250, [0, 0])],
    };
    assert.equal(attribute(t0 + 50, host), '(connect + facts)');
    assert.equal(attribute(t0 + 155, host), 'check task 2');
    assert.equal(attribute(t0 + 120, host), '≈ check task 1 (2 running together)', 'the oldest unanswered of pipelined checks');
    assert.equal(attribute(t0 + 120, host, ['stat', '--', '/x']), '≈ check task 1 (2 running together)');
    const named = { ...host, events: host.events.map((e, i) => ({ ...e, name: `directory /srv/d${i}` })) };
    assert.equal(attribute(t0 + 120, named, ['stat', '--', '/srv/d1']), '≈ check directory /srv/d1 (2 running together)', 'the task naming the path');
    assert.equal(attribute(t0 + 180, host), '(between tasks, after check task 2)');
    assert.equal(attribute(t0 + 210, host), 'apply task 1');
    assert.equal(attribute(t0 + 300, host), '(after the last task: closing)');
    assert.equal(attribute(t0, undefined), '?');
    const lines = explainLines(parseStrace(trace), undefined, [['/srv', 'ROOT']]);
    assert.equal(lines.length, 4);
    assert.match(lines[1] ?? '', /^ {3}2 +\+0\.019s {2}sh -c echo "a b" \\x$/);
    assert.match(lines[2] ?? '', /stat ROOT$/);
  });
});
