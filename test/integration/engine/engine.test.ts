// Rollouts over worker processes (run --engine, provision worker) on both engines, each started on loopback by the
// test: 3 real workers (2 in region east, 1 in west) against 6 loopback sshd hosts, the coordinator a child process.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath, parseReport, repoRoot, runCli } from '../../helpers/cli.js';
import { startPostgres, startRedis, type Engine } from '../../helpers/engines.js';
import { findTmpFiles, spawnCli, waitFor, waitForFile, type SpawnedCli } from '../rollout/support.js';
import type { RunReport } from '../../../src/runner/events.js';

const playbook = 'test/fixtures/rollout/rollout.ts';
type EngineReport = RunReport & { shards: Array<{ batch: number; region: string; worker?: string; hosts: string[]; outcome: string; error?: string }> };

for (const [kind, start] of [['Redis', startRedis], ['PostgreSQL', startPostgres]] as const) {
  describe(`rollouts over 3 worker processes on ${kind} (6 sshd hosts, 2 regions)`, function () {
    this.timeout(180_000);
    let engine: Engine;
    let fleet: Fleet;
    let work: string;
    let names: string[];
    const workers = new Map<string, SpawnedCli>();
    const spawned: SpawnedCli[] = [];
    // east: hosts 1, 2, 4, 5; west: 3 and 6 (batches of 3: one west host each)
    const regionOf = (i: number) => (i % 3 === 2 ? 'west' : 'east');

    const startWorker = async (name: string, region: string, cwd = repoRoot) => {
      const w = spawnCli(cliPath, ['worker', '--engine', engine.url, '--region', region, '--name', name, '--lock-duration', '3', '--known-hosts', fleet.knownHostsPath], cwd);
      spawned.push(w);
      workers.set(name, w);
      await waitFor(`worker ${name} ready`, () => w.stdout().includes(`worker ${name} ready`) || w.stderr().includes('error'), 60_000);
      assert.match(w.stdout(), new RegExp(`worker ${name} ready`), w.stderr());
      return w;
    };
    const inventory = (file: string, extra: (i: number) => string = () => '') =>
      fleet.writeInventory(join(work, file), (h) => {
        const i = fleet.hosts.indexOf(h);
        return `root=${h.root} provision_region=${regionOf(i)}${extra(i)}`;
      });
    const coordinator = (inv: string, args: string[]) => {
      const c = spawnCli(cliPath, ['run', playbook, '-i', inv, '--engine', engine.url, '--serial', '3', '--shard-size', '1', '--json', '--retry-file', join(work, 'retry'), ...args], repoRoot);
      spawned.push(c);
      return c;
    };

    before(async function () {
      engine = await start();
      fleet = await startFleet(6);
      names = fleet.hosts.map((h) => h.name);
      work = mkdtempSync(join(tmpdir(), 'provision-engine-'));
      for (const [name, region] of [['e1', 'east'], ['e2', 'east'], ['w1', 'west']]) await startWorker(name as string, region as string);
    });
    after(async () => {
      await Promise.all(spawned.map((s) => s.stop()));
      await fleet?.stop();
      await engine?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("runs one controller's batches, each after the last ended, its shards on the region's workers", async () => {
      const inv = inventory('clean.ini');
      const one = parseReport((await runCli(['run', playbook, '-i', inv, '--serial', '3', '--check', '--json', '--known-hosts', fleet.knownHostsPath])).stdout);
      const c = coordinator(inv, []);
      const code = await c.exited;
      assert.equal(code, 0, c.stderr());
      const report = parseReport(c.stdout()) as EngineReport;
      assert.deepEqual(report.batches, one.batches);
      for (const [i, n] of names.entries()) {
        assert.equal(report.hosts[n]?.status, 'changed', n);
        const worker = (report.hosts[n] as { worker?: string }).worker;
        assert.ok(regionOf(i) === 'west' ? worker === 'w1' : ['e1', 'e2'].includes(worker ?? ''), `${n} ran on ${worker}`);
      }
      // every host of batch 2 started after every host of batch 1 had ended
      const ends1 = report.batches[0]!.map((n) => Date.parse(report.hosts[n]!.started!) + report.hosts[n]!.duration_ms);
      const starts2 = report.batches[1]!.map((n) => Date.parse(report.hosts[n]!.started!));
      assert.ok(Math.min(...starts2) >= Math.max(...ends1), `batch 2 started at ${Math.min(...starts2)}, batch 1 ended at ${Math.max(...ends1)}`);
      assert.equal(report.shards.length, 6);
      assert.deepEqual(report.shards.map((s) => s.region), ['east', 'east', 'west', 'east', 'east', 'west']);
      assert.equal(report.summary.changed, one.summary.changed);
    });

    it('halts hosts on the other workers mid-batch when failures on two workers cross max-fail (exit 8, no next batch)', async () => {
      // hosts 1 and 2 fail (east, each its own shard) once host 3 (west) is running: all three hold until let go
      const inv = inventory('failing.ini', (i) => (i < 2 ? ' fail=yes' : '') + (i < 3 ? ` hold_on=${names[i]}` : ''));
      for (const h of fleet.hosts) for (const f of ['holding', 'go', 'done.txt']) rmSync(join(h.root, f), { force: true });
      const c = coordinator(inv, ['--max-fail-percentage', '50', '-e', 'version=2']);
      for (const h of fleet.hosts.slice(0, 3)) await waitForFile(join(h.root, 'holding'), 60_000);
      for (const h of fleet.hosts.slice(0, 2)) writeFileSync(join(h.root, 'go'), '');
      // the west worker (host 3's) has heard the halt the coordinator published
      await waitFor('the halt on w1', () => workers.get('w1')!.stderr().includes('halted: 2 of 3 hosts of batch 1 failed'), 60_000);
      writeFileSync(join(fleet.hosts[2]!.root, 'go'), '');
      assert.equal(await c.exited, 8, c.stderr());
      const report = parseReport(c.stdout()) as EngineReport;
      assert.deepEqual([0, 1].map((i) => report.hosts[names[i]!]?.status), ['failed', 'failed']);
      assert.equal(report.hosts[names[2]!]?.status, 'halted');
      // as one controller says it: the host, how much of its play did not run; the rollout, why it halted
      assert.match(report.hosts[names[2]!]?.reason ?? '', /^halted: \d+ of \d+ tasks not run$/);
      assert.equal(report.halted, '2 of 3 hosts of batch 1 failed, over the maximum of 50%');
      assert.equal(existsSync(join(fleet.hosts[2]!.root, 'done.txt')), false, 'the held host ran no task after the halt');
      for (const n of report.batches[1]!) assert.equal(report.hosts[n]?.status, 'not run', n);
      for (const h of fleet.hosts.slice(3)) assert.equal(existsSync(join(h.root, 'done.txt')), false, h.name);
      assert.equal(new Set([0, 1].map((i) => (report.hosts[names[i]!] as { worker?: string }).worker)).size, 2, 'the two failures were on two workers');
    });

    it("counts a kill -9'd worker's hosts unreachable (worker lost), never re-runs them, and goes on", async () => {
      const inv = inventory('lost.ini', (i) => (i === 2 ? ` hold_on=${names[2]}` : ''));
      for (const h of fleet.hosts) for (const f of ['holding', 'go']) rmSync(join(h.root, f), { force: true });
      const c = coordinator(inv, ['-e', 'version=3']);
      await waitForFile(join(fleet.hosts[2]!.root, 'holding'), 60_000);
      const w1 = workers.get('w1')!;
      process.kill(w1.pid, 'SIGKILL');
      await w1.exited;
      // the west region needs a worker for batch 2: a new one (the lost shard must not run on it)
      const w2 = await startWorker('w2', 'west');
      assert.equal(await c.exited, 4, c.stderr());
      const report = parseReport(c.stdout()) as EngineReport;
      assert.equal(report.hosts[names[2]!]?.status, 'unreachable');
      assert.equal(report.hosts[names[2]!]?.error, 'worker lost');
      assert.equal(report.hosts[names[5]!]?.status, 'changed');
      assert.equal((report.hosts[names[5]!] as { worker?: string }).worker, 'w2');
      assert.ok(!w2.stdout().includes(names[2]!), `w2 ran ${names[2]}:\n${w2.stdout()}`);
      assert.equal(report.shards.find((s) => s.hosts.includes(names[2]!))?.error, 'worker lost');
    });

    it('refuses a shard whose playbook differs from the worker\'s checkout, before any connection, naming it', async () => {
      // a checkout whose fixtures differ by one line, with a worker of its own region
      const other = join(work, 'other-checkout');
      mkdirSync(join(other, 'test/fixtures'), { recursive: true });
      cpSync(join(repoRoot, 'test/fixtures/rollout'), join(other, 'test/fixtures/rollout'), { recursive: true });
      writeFileSync(join(other, playbook), `${readFileSync(join(repoRoot, playbook), 'utf8')}// changed\n`);
      await startWorker('odd1', 'odd', other);
      const inv = fleet.writeInventory(join(work, 'odd.ini'), (h) => `root=${h.root} provision_region=${h === fleet.hosts[0] ? 'odd' : regionOf(fleet.hosts.indexOf(h))}`);
      const c = coordinator(inv, ['--limit', `${names[0]},${names[1]}`, '-e', 'version=odd']);
      assert.equal(await c.exited, 4, c.stderr());
      const report = parseReport(c.stdout()) as EngineReport;
      assert.equal(report.hosts[names[0]!]?.status, 'unreachable');
      assert.match(report.hosts[names[0]!]?.error ?? '', /^refused by worker odd1: shard 1\.\d of run \w+: test\/fixtures\/rollout differs \(coordinator sha256 \w+…, here \w+…\); run the same project commit on every worker$/);
      assert.notEqual(readFileSync(join(fleet.hosts[0]!.root, 'release.txt'), 'utf8'), `release odd on ${names[0]}\n`);
      assert.equal(report.hosts[names[1]!]?.status, 'changed');
    });

    it('fails the hosts of a region no worker serves after --region-timeout, and goes on', async () => {
      const inv = fleet.writeInventory(join(work, 'nowhere.ini'), (h) => `root=${h.root} provision_region=${h === fleet.hosts[1] ? 'nowhere' : regionOf(fleet.hosts.indexOf(h))}`);
      const c = coordinator(inv, ['--limit', `${names[0]},${names[1]}`, '--region-timeout', '2', '-e', 'version=nowhere']);
      assert.equal(await c.exited, 4, c.stderr());
      const report = parseReport(c.stdout()) as EngineReport;
      assert.equal(report.hosts[names[1]!]?.status, 'unreachable');
      assert.equal(report.hosts[names[1]!]?.error, 'no worker in region nowhere');
      assert.equal(report.hosts[names[0]!]?.status, 'changed');
    });

    it('on Ctrl-C starts no new batch, stops running shards after their task, writes the report, exits 99, leaves no temporary file', async () => {
      const inv = inventory('interrupt.ini', (i) => (i === 0 ? ` hold_on=${names[0]}` : ''));
      for (const h of fleet.hosts) for (const f of ['holding', 'go', 'done.txt']) rmSync(join(h.root, f), { force: true });
      const c = coordinator(inv, ['-e', 'version=int']);
      await waitForFile(join(fleet.hosts[0]!.root, 'holding'), 60_000);
      process.kill(c.pid, 'SIGINT');
      await waitFor('the halt on a worker', () => [...workers.values()].some((w) => w.stderr().includes('halted: interrupted')), 60_000);
      writeFileSync(join(fleet.hosts[0]!.root, 'go'), '');
      assert.equal(await c.exited, 99, c.stderr());
      const report = parseReport(c.stdout()) as EngineReport;
      assert.equal(report.interrupted, true);
      assert.equal(report.hosts[names[0]!]?.status, 'halted');
      assert.equal(existsSync(join(fleet.hosts[0]!.root, 'done.txt')), false);
      for (const n of report.batches[1]!) assert.equal(report.hosts[n]?.status, 'not run', n);
      for (const h of fleet.hosts) assert.deepEqual(findTmpFiles(h.root), [], h.name);
    });
  });
}
