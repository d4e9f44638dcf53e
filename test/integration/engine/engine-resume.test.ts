// `provision resume RUN_ID` after a lost coordinator, on both engines: the coordinator (a child process) is killed
// -9 once batch 1 has ended and batch 2 is running (one of its hosts held on a task); resume takes batch 1 from the
// engine, awaits batch 2 (never adding it again) and adds batch 3. Every host's play appends a line to a file on the
// host: each host runs exactly once, and the report equals an uninterrupted run's but for times and workers.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { openBackend, queueNames } from '../../../src/engine/backend.js';
import { cliPath, parseReport, repoRoot, runCli } from '../../helpers/cli.js';
import { startPostgres, startRedis, type Engine } from '../../helpers/engines.js';
import { spawnCli, waitFor, waitForFile, type SpawnedCli } from '../rollout/support.js';
import type { RunReport } from '../../../src/runner/events.js';
import { comparable } from './comparable.js';

const playbook = 'test/integration/engine/fixtures/counted.ts';

for (const [kind, start] of [['Redis', startRedis], ['PostgreSQL', startPostgres]] as const) {
  describe(`provision resume after a lost coordinator on ${kind} (6 sshd hosts, 3 batches, 2 workers)`, function () {
    this.timeout(120_000);
    let engine: Engine;
    let fleet: Fleet;
    let work: string;
    let names: string[];
    let inv: string;
    const spawned: SpawnedCli[] = [];
    const regionOf = (i: number) => (i % 2 === 0 ? 'east' : 'west');
    const spawn = (args: string[]) => {
      const c = spawnCli(cliPath, args, repoRoot);
      spawned.push(c);
      return c;
    };
    const resetHosts = () => {
      for (const h of fleet.hosts) for (const f of readdirSync(h.root)) rmSync(join(h.root, f), { recursive: true, force: true });
    };
    const runsOn = (i: number) => readFileSync(join(fleet.hosts[i]!.root, 'runs.log'), 'utf8').split('\n').filter(Boolean);
    // batches of 2: host 3 (batch 2) holds until let go
    const coordinatorArgs = () => ['run', playbook, '-i', inv, '--engine', engine.url, '--serial', '2', '--shard-size', '1', '--retry-file', join(work, 'engine.retry'), '-e', `hold_on=${names[2]}`];

    before(async function () {
      this.timeout(180_000);
      engine = await start();
      fleet = await startFleet(6);
      names = fleet.hosts.map((h) => h.name);
      work = mkdtempSync(join(tmpdir(), 'provision-engine-resume-'));
      inv = fleet.writeInventory(join(work, 'hosts.ini'), (h) => `root=${h.root} provision_region=${regionOf(fleet.hosts.indexOf(h))}`);
      for (const region of ['east', 'west']) {
        const w = spawn(['worker', '--engine', engine.url, '--region', region, '--name', region, '--concurrency', '4', '--lock-duration', '30', '--known-hosts', fleet.knownHostsPath]);
        await waitFor(`worker ${region} ready`, () => w.stdout().includes(`worker ${region} ready`) || w.stderr().includes('error'), 60_000);
        assert.match(w.stdout(), new RegExp(`worker ${region} ready`), w.stderr());
      }
    });
    after(async () => {
      await Promise.all(spawned.map((s) => s.stop()));
      await fleet?.stop();
      await engine?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    let cleanRun = '';
    it('goes on after kill -9 of the coordinator: batch 1 taken from the engine, batch 2 awaited, batch 3 added; each host run once', async () => {
      // the uninterrupted run, for the report to equal
      resetHosts();
      const whole = spawn([...coordinatorArgs(), '--json']);
      await waitForFile(join(fleet.hosts[2]!.root, 'holding'), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}:\n${whole.stderr()}\n${spawned.slice(0, 2).map((w) => w.stdout() + w.stderr()).join('\n')}`);
      });
      writeFileSync(join(fleet.hosts[2]!.root, 'go'), '');
      assert.equal(await whole.exited, 0, whole.stderr());
      const reference = parseReport(whole.stdout());

      resetHosts();
      const lostOne = spawn(coordinatorArgs());
      await waitFor('the run id', () => /^run [0-9a-f]{12}:/m.test(lostOne.stdout()), 60_000);
      const runId = /^run ([0-9a-f]{12}): after a lost coordinator, go on with: provision resume \1 --engine /m.exec(lostOne.stdout())?.[1];
      assert.ok(runId, lostOne.stdout());
      cleanRun = runId;
      // batch 1 ended, batch 2's shards are running (host 3 on its held task): the coordinator is lost
      await waitForFile(join(fleet.hosts[2]!.root, 'holding'), 60_000);
      await waitFor('batch 1 ended', () => /^batch 1\/3 ended$/m.test(lostOne.stdout()), 10_000);
      process.kill(lostOne.pid, 'SIGKILL');
      assert.equal(await lostOne.exited, null);
      assert.deepEqual([4, 5].map((i) => readdirSync(fleet.hosts[i]!.root)), [[], []], 'batch 3 started before the coordinator was lost');

      const reportPath = join(work, 'resumed.json');
      const junitPath = join(work, 'resumed.xml');
      const resumed = spawn(['resume', runId, '--engine', engine.url, '--json', '--report', reportPath, '--junit', junitPath]);
      await waitFor('resume to await batch 2', () => /^batch 2\/3: its shards were added before the coordinator was lost/m.test(resumed.stderr()), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}:\n${resumed.stdout()}\n${resumed.stderr()}`);
      });
      writeFileSync(join(fleet.hosts[2]!.root, 'go'), '');
      assert.equal(await resumed.exited, 0, resumed.stderr());
      assert.match(resumed.stderr(), new RegExp(`^resuming run ${runId}: ${playbook}, 3 batches`, 'm'));
      assert.match(resumed.stderr(), /^batch 1\/3: ended before the coordinator was lost; its shards' results are taken from the engine$/m);
      assert.match(resumed.stderr(), /^batch 3\/3: 2 hosts in 2 shards \(east, west\)$/m);
      const report = parseReport(resumed.stdout()) as RunReport & { run_id: string; shards: unknown[] };
      assert.deepEqual(JSON.parse(readFileSync(reportPath, 'utf8')), report);
      assert.match(readFileSync(junitPath, 'utf8'), /<testcase name="\[host06\] counted rollout: release"/);
      assert.equal(report.run_id, runId);
      assert.equal(report.shards.length, 6);
      // each host ran once: one line on each host, its own
      for (const [i, n] of names.entries()) assert.deepEqual(runsOn(i), [n], n);
      assert.deepEqual(comparable(report), comparable(reference));

      // an ended run: its report again, rebuilt, and its exit code; nothing runs
      const again = spawn(['resume', runId, '--engine', engine.url, '--json']);
      assert.equal(await again.exited, 0, again.stderr());
      assert.match(again.stderr(), new RegExp(`run ${runId} had ended: its report, rebuilt from the engine`));
      assert.deepEqual(comparable(parseReport(again.stdout())), comparable(report));
      for (const [i, n] of names.entries()) assert.deepEqual(runsOn(i), [n], n);
    });

    let firstRun = '';
    it('halts on the whole batch after a resume, as one controller: a failure over max-fail in the awaited batch, no next batch (exit 8)', async () => {
      // batch 1: host 1 fails once let go (held when the coordinator is lost), host 2 ends before; max-fail 0
      const failing = fleet.writeInventory(join(work, 'failing.ini'), (h) => `root=${h.root} provision_region=${regionOf(fleet.hosts.indexOf(h))}${h === fleet.hosts[0] ? ' fail=yes' : ''}`);
      const args = ['--serial', '2', '-e', `hold_on=${names[0]}`, '--max-fail-percentage', '0'];
      const letGo = async (until: () => boolean) => {
        await waitForFile(join(fleet.hosts[0]!.root, 'holding'), 60_000);
        await waitForFile(join(fleet.hosts[1]!.root, 'release.txt'), 60_000);
        await waitFor('the moment', until, 60_000);
        writeFileSync(join(fleet.hosts[0]!.root, 'go'), '');
      };
      resetHosts();
      const one = runCli(['run', playbook, '-i', failing, '--known-hosts', fleet.knownHostsPath, '--retry-file', join(work, 'one.retry'), '--json', ...args]);
      await letGo(() => true);
      const reference = await one;
      assert.equal(reference.code, 8, reference.stderr);

      resetHosts();
      const lostOne = spawn(['run', playbook, '-i', failing, '--engine', engine.url, '--shard-size', '1', '--retry-file', join(work, 'engine.retry'), ...args]);
      await waitForFile(join(fleet.hosts[0]!.root, 'holding'), 60_000);
      await waitForFile(join(fleet.hosts[1]!.root, 'release.txt'), 60_000);
      const runId = /^run ([0-9a-f]{12}):/m.exec(lostOne.stdout())?.[1];
      assert.ok(runId, lostOne.stdout());
      firstRun = runId;
      process.kill(lostOne.pid, 'SIGKILL');
      await lostOne.exited;
      const resumed = spawn(['resume', runId, '--engine', engine.url, '--json']);
      await letGo(() => /^batch 1\/3: its shards were added before the coordinator was lost/m.test(resumed.stderr()));
      assert.equal(await resumed.exited, 8, resumed.stderr());
      const report = parseReport(resumed.stdout());
      assert.equal(report.halted, '1 of 2 hosts of batch 1 failed, over the maximum of 0%');
      assert.deepEqual(comparable(report), comparable(parseReport(reference.stdout)));
      for (const h of fleet.hosts.slice(2)) assert.equal(existsSync(join(h.root, 'runs.log')), false, `${h.name} ran after the halt`);
      assert.deepEqual([0, 1].map(runsOn), [[names[0]], [names[1]]]);
    });

    it('adds every batch in order when the coordinator was lost right after recording the run (before its first flow)', async () => {
      assert.ok(cleanRun, 'needs the first test');
      // the engine as a coordinator leaves it when lost between its record and its first batch: the record alone
      const backend = await openBackend(engine.url);
      const runs = new backend.classes.Queue(queueNames.runs, { connection: backend.connection() });
      const runId = 'fedcba987654';
      try {
        const { ended: _ended, ...record } = (await runs.getJob(cleanRun))!.data as Record<string, unknown>;
        // the same rollout without the held host
        await runs.add('run', { ...record, run_id: runId, options: { ...(record.options as object), extraVars: [] } }, { jobId: runId });
      } finally {
        await runs.close();
        await backend.close();
      }
      resetHosts();
      const resumed = spawn(['resume', runId, '--engine', engine.url, '--json']);
      assert.equal(await resumed.exited, 0, resumed.stderr());
      const lines = resumed.stderr().split('\n');
      const added = [1, 2, 3].map((b) => lines.findIndex((l) => l.startsWith(`batch ${b}/3: 2 hosts in 2 shards`)));
      const ended = [1, 2, 3].map((b) => lines.indexOf(`batch ${b}/3 ended`));
      assert.ok(added.every((i) => i >= 0) && ended.every((i) => i >= 0), resumed.stderr());
      // each batch added only once the last ended
      assert.ok(added[0]! < ended[0]! && ended[0]! < added[1]! && added[1]! < ended[1]! && ended[1]! < added[2]! && added[2]! < ended[2]!, resumed.stderr());
      const report = parseReport(resumed.stdout());
      for (const n of names) assert.equal(report.hosts[n]?.status, 'changed', n);
      for (const [i, n] of names.entries()) assert.deepEqual(runsOn(i), [n], n);
    });

    it("refuses a record that is not one provision wrote (it is data), before adding anything", async () => {
      assert.ok(firstRun, 'needs the test above');
      resetHosts();
      const backend = await openBackend(engine.url);
      const runs = new backend.classes.Queue(queueNames.runs, { connection: backend.connection() });
      try {
        const job = (await runs.getJob(firstRun))!;
        const record = job.data as Record<string, unknown> & { batches: Array<{ hosts: string[] }> };
        const tampered: Array<[Record<string, unknown>, RegExp]> = [
          [{ ...record, playbook: '/tmp/elsewhere.ts' }, /playbook: a path inside the project/],
          [{ ...record, playbook: 'test/fixtures/rollout/../../../x.ts' }, /playbook: a path inside the project/],
          [{ ...record, batches: [{ ...record.batches[0]!, hosts: [...record.batches[0]!.hosts, 'intruder'] }, ...record.batches.slice(1)] }, /batch 1's shards do not hold its hosts exactly/],
          [{ ...record, options: { ...(record.options as object), command: 'rm -rf /' } }, /options: Unrecognized key/],
        ];
        for (const [data, message] of tampered) {
          await job.updateData({ ...data, ended: undefined });
          const c = spawn(['resume', firstRun, '--engine', engine.url]);
          assert.equal(await c.exited, 1, c.stderr());
          assert.match(c.stderr(), new RegExp(`run ${firstRun}: the engine's record of it is not one provision wrote|run ${firstRun}: the engine's record of it: `));
          assert.match(c.stderr(), message);
        }
        await job.updateData(record);
      } finally {
        await runs.close();
        await backend.close();
      }
      for (const h of fleet.hosts) assert.equal(existsSync(join(h.root, 'runs.log')), false, h.name);
    });

    it('refuses an unknown run id, naming it and the engine', async () => {
      const c = spawn(['resume', '0123456789ab', '--engine', engine.url]);
      assert.equal(await c.exited, 1);
      assert.match(c.stderr(), /^provision: error: run 0123456789ab: no such run on the engine (redis|postgres):\/\/\S+$/m);
      const bad = spawn(['resume', 'nope', '--engine', engine.url]);
      assert.equal(await bad.exited, 1);
      assert.match(bad.stderr(), /run "nope": not a run id/);
    });
  });
}
