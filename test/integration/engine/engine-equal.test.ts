// The rollout suite's cases that apply to one play, each run once by one controller and once by a coordinator with
// 2 worker processes (one a region, every shard one host): the reports must be equal field by field, once what must
// differ is left out (times, durations, `worker`, `run_id`, `shards`, `version`, the retry file's path); the retry
// files' contents are compared. A case whose outcome rests on a moment (a halt while a host is on a task) holds that host on its
// task until the halt is known: printed by one controller, heard by the worker that runs the held host.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath, repoRoot } from '../../helpers/cli.js';
import { startPostgres, startRedis, type Engine } from '../../helpers/engines.js';
import { spawnCli, startHealthServer, waitFor, waitForFile, type HealthServer, type SpawnedCli } from '../rollout/support.js';
import type { RunReport } from '../../../src/runner/events.js';
import { comparable } from './comparable.js';

const playbook = 'test/fixtures/rollout/rollout.ts';
const gated = 'test/fixtures/rollout/gated.ts';

for (const [kind, start] of [['Redis', startRedis], ['PostgreSQL', startPostgres]] as const) {
  describe(`equal reports with and without --engine on ${kind} (the rollout suite's one-play cases, 6 sshd hosts)`, function () {
    this.timeout(120_000);
    let engine: Engine;
    let fleet: Fleet;
    let work: string;
    let names: string[];
    const spawned: SpawnedCli[] = [];
    const servers: HealthServer[] = [];
    const workers = new Map<string, SpawnedCli>();
    // hosts 1, 3, 5 in east, 2, 4, 6 in west
    const regionOf = (i: number) => (i % 2 === 0 ? 'east' : 'west');
    const workerOf = (host: string) => workers.get(regionOf(names.indexOf(host)))!;

    before(async function () {
      this.timeout(180_000);
      engine = await start();
      fleet = await startFleet(6);
      names = fleet.hosts.map((h) => h.name);
      work = mkdtempSync(join(tmpdir(), 'provision-engine-equal-'));
      for (const region of ['east', 'west']) {
        const w = spawnCli(cliPath, ['worker', '--engine', engine.url, '--region', region, '--name', region, '--concurrency', '6', '--lock-duration', '30', '--known-hosts', fleet.knownHostsPath], repoRoot);
        spawned.push(w);
        workers.set(region, w);
        await waitFor(`worker ${region} ready`, () => w.stdout().includes(`worker ${region} ready`) || w.stderr().includes('error'), 60_000);
        assert.match(w.stdout(), new RegExp(`worker ${region} ready`), w.stderr());
      }
    });
    after(async () => {
      await Promise.all(spawned.map((s) => s.stop()));
      await Promise.all(servers.map((s) => s.close()));
      await fleet?.stop();
      await engine?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const inventory = (file: string, extra: (i: number) => string = () => '') =>
      fleet.writeInventory(join(work, file), (h) => {
        const i = fleet.hosts.indexOf(h);
        return `root=${h.root} provision_region=${regionOf(i)}${extra(i)}`;
      });
    /** Each run starts from the same hosts: the files the playbooks write are removed. */
    const resetHosts = () => {
      for (const h of fleet.hosts) for (const f of readdirSync(h.root)) rmSync(join(h.root, f), { recursive: true, force: true });
    };
    const release = (hosts: string[]) => {
      for (const n of hosts) writeFileSync(join(fleet.hosts[names.indexOf(n)]!.root, 'go'), '');
    };

    interface Case {
      book?: string;
      inv: string;
      args: string[];
      /** Hosts held on their `hold` task: the failing ones let go first, the others once the halt is known. */
      held?: string[];
      /** The held hosts whose failure halts the rollout (one controller prints each `[host] FAILED`). */
      failing?: string[];
    }
    /** Runs a case with one controller, then with --engine; returns both reports and exit codes. */
    const runBoth = async (c: Case) => {
      const out: Record<'one' | 'engine', { code: number | null; report: RunReport; cli: SpawnedCli }> = {} as never;
      for (const mode of ['one', 'engine'] as const) {
        resetHosts();
        const reportPath = join(work, `${mode}.json`);
        rmSync(reportPath, { force: true });
        rmSync(join(work, `${mode}.retry`), { force: true });
        const args = mode === 'one'
          ? ['run', c.book ?? playbook, '-i', c.inv, '--known-hosts', fleet.knownHostsPath, '--retry-file', join(work, 'one.retry'), '--report', reportPath, ...c.args]
          : ['run', c.book ?? playbook, '-i', c.inv, '--engine', engine.url, '--shard-size', '1', '--retry-file', join(work, 'engine.retry'), '--report', reportPath, ...c.args];
        const before = new Map([...workers].map(([r, w]) => [r, w.stderr().length]));
        const cli = spawnCli(cliPath, args, repoRoot);
        spawned.push(cli);
        if (c.held?.length) {
          // every held host on its task; the failing ones let go first; the others once the halt is known
          for (const n of c.held) await waitForFile(join(fleet.hosts[names.indexOf(n)]!.root, 'holding'), 60_000);
          const failing = c.failing ?? [];
          release(failing);
          const rest = c.held.filter((n) => !failing.includes(n));
          if (mode === 'one') {
            for (const n of failing) await waitFor(`${n} to fail`, () => cli.stdout().includes(`[${n}] FAILED`), 60_000);
          } else {
            const runId = /^run ([0-9a-f]{12}):/m.exec(cli.stdout())?.[1];
            assert.ok(runId, `no run id printed:\n${cli.stdout()}`);
            // every worker running a held host has heard the halt
            for (const n of rest) {
              const from = before.get(regionOf(names.indexOf(n)))!;
              await waitFor(`the halt on the worker of ${n}`, () => workerOf(n).stderr().slice(from).includes(`run ${runId} halted`), 60_000);
            }
          }
          release(rest);
        }
        const code = await cli.exited;
        out[mode] = { code, report: JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport, cli };
      }
      resetHosts();
      return out;
    };
    const assertEqual = (r: Awaited<ReturnType<typeof runBoth>>, code: number) => {
      assert.equal(r.one.code, code, r.one.cli.stdout() + r.one.cli.stderr());
      assert.equal(r.engine.code, code, r.engine.cli.stdout() + r.engine.cli.stderr());
      assert.deepEqual(comparable(r.engine.report), comparable(r.one.report));
      // the same retry file (the same hosts), or none for both
      const retry = (mode: string) => (existsSync(join(work, `${mode}.retry`)) ? readFileSync(join(work, `${mode}.retry`), 'utf8') : undefined);
      assert.equal(retry('engine'), retry('one'));
      // what was left out is there: each host that ran names its worker, of its region
      for (const [n, h] of Object.entries(r.engine.report.hosts)) {
        if (h.status !== 'not run') assert.equal((h as { worker?: string }).worker, regionOf(names.indexOf(n)), n);
      }
    };

    it('serial batches (1,50%,100%): the same batches, each host changed', async () => {
      const r = await runBoth({ inv: inventory('serial.ini'), args: ['--serial', '1,50%,100%', '-e', 'version=eq-serial'] });
      assertEqual(r, 0);
      assert.deepEqual(r.engine.report.batches, [names.slice(0, 1), names.slice(1, 4), names.slice(4)]);
    });

    it('max-fail: two failures on two workers halt the batch (the held host halted) and the rollout (exit 8)', async () => {
      // batch 2 is hosts 2 (west), 3 (east) and 4 (west): 2 and 3 fail, 4 is held
      const inv = inventory('maxfail.ini', (i) => (i === 1 || i === 2 ? ' fail=yes' : ''));
      const r = await runBoth({ inv, args: ['--serial', '1,50%,100%', '--max-fail-percentage', '40', '-e', `hold_on=${names.slice(1, 4).join(',')}`, '-e', 'version=eq-maxfail'], held: names.slice(1, 4), failing: [names[1]!, names[2]!] });
      assertEqual(r, 8);
      assert.equal(r.engine.report.hosts[names[3]!]?.status, 'halted');
      for (const n of names.slice(4)) assert.equal(r.engine.report.hosts[n]?.status, 'not run', n);
    });

    it('any errors fatal: the first failure halts the hosts held on the other worker and the rollout (exit 8)', async () => {
      const inv = inventory('fatal.ini', (i) => (i === 1 ? ' fail=yes' : ''));
      const r = await runBoth({ inv, args: ['--serial', '3', '--any-errors-fatal', '-e', `hold_on=${names.slice(0, 3).join(',')}`, '-e', 'version=eq-fatal'], held: names.slice(0, 3), failing: [names[1]!] });
      assertEqual(r, 8);
      assert.deepEqual([0, 1, 2].map((i) => r.engine.report.hosts[names[i]!]?.status), ['halted', 'failed', 'halted']);
    });

    it('an unreachable host (its sshd down): unreachable, the others changed (exit 4)', async () => {
      const down = fleet.hosts[2]!;
      await down.kill();
      try {
        const r = await runBoth({ inv: inventory('down.ini'), args: ['--serial', '3', '-e', 'version=eq-down'] });
        assertEqual(r, 4);
        assert.equal(r.engine.report.hosts[down.name]?.status, 'unreachable');
      } finally {
        await down.restart();
      }
    });

    it('a failed health gate (playbook serial, maxFailPercentage 0) halts the rollout before the next batch (exit 8)', async () => {
      const health: number[] = [];
      for (const [i] of fleet.hosts.entries()) {
        const s = await startHealthServer(i === 1 ? 500 : 200);
        servers.push(s);
        health.push(s.port);
      }
      const inv = inventory('gated.ini', (i) => ` health_port=${health[i]}`);
      const r = await runBoth({ book: gated, inv, args: [] });
      assertEqual(r, 8);
      assert.equal(r.engine.report.hosts[names[1]!]?.status, 'failed');
      assert.match(r.engine.report.hosts[names[1]!]?.error ?? '', /health gate failed/);
      for (const n of names.slice(2)) assert.equal(r.engine.report.hosts[n]?.status, 'not run', n);
    });
  });
}
