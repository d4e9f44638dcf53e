// A rollout cut into shards without an engine (provision shard, then each shard's command, then provision merge), on
// 8 real sshd hosts: the batches are one controller's, max-fail is decided on each whole batch, a lost shard counts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath, parseReport, repoRoot, runCaptured, runCli, type CliResult } from '../../helpers/cli.js';
import type { ShardManifest } from '../../../src/cli/shard.js';
import type { RunReport } from '../../../src/runner/events.js';

const playbook = join(repoRoot, 'test/fixtures/rollout/rollout.ts');

describe('sharded rollouts without an engine (8 sshd hosts, through the CLI)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let work: string;
  let bin: string;
  let names: string[];

  before(async function () {
    this.timeout(120_000);
    fleet = await startFleet(8);
    names = fleet.hosts.map((h) => h.name);
    work = mkdtempSync(join(tmpdir(), 'provision-shards-'));
    // the shards' commands say `provision`, as a user's PATH has it
    bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(cliPath, join(bin, 'provision'));
  });
  after(async () => {
    await fleet?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const inventoryFailing = (file: string, failing: number[]) =>
    fleet.writeInventory(join(work, file), (h) => `root=${h.root}${failing.includes(names.indexOf(h.name) + 1) ? ' fail=yes' : ''}`);
  const shard = (inv: string, out: string, extra: string[] = []) =>
    runCli(['shard', playbook, '-i', inv, '--serial', '4', '--shards', '2', '--out', out, ...extra], { cwd: work });
  const manifestOf = (out: string) => JSON.parse(readFileSync(join(work, out, 'shards.json'), 'utf8')) as ShardManifest;
  /** Runs a batch's shards at once, each by its command as written (plus this fleet's known_hosts), from the work folder. */
  const runBatch = (m: ShardManifest, batch: number): Promise<CliResult[]> =>
    Promise.all(
      m.batches[batch - 1]!.shards.map((s) =>
        runCaptured('sh', ['-c', `${s.command} --known-hosts ${fleet.knownHostsPath}`], { cwd: work, env: { ...process.env, CI: '1', PATH: `${bin}:${process.env.PATH}` } }),
      ),
    );
  const merge = (args: string[]) => runCli(['merge', ...args, '--json'], { cwd: work });
  const reportsOf = (m: ShardManifest, batches: number[]) => batches.flatMap((b) => m.batches[b - 1]!.shards.map((s) => s.report));

  it('runs batch after batch of shards, each batch merged before the next; the batches and results are one controller\'s', async () => {
    const inv = inventoryFailing('clean.ini', []);
    const s = await shard(inv, 'clean');
    assert.equal(s.code, 0, s.stderr);
    const m = manifestOf('clean');
    assert.deepEqual(m.batches.map((b) => b.shards.map((x) => x.hosts)), [[names.slice(0, 2), names.slice(2, 4)], [names.slice(4, 6), names.slice(6, 8)]]);
    assert.deepEqual(readFileSync(join(work, 'clean', 'batch-1-shard-2.hosts'), 'utf8'), `${names[2]}\n${names[3]}\n`);
    assert.match(readFileSync(join(work, 'clean', 'batch-2.k8s-job.yaml'), 'utf8'), /completionMode: Indexed\n {2}completions: 2\n/);
    // one controller's batches, from the same playbook, inventory and --serial
    const one = await runCli(['run', playbook, '-i', inv, '--serial', '4', '--check', '--json', '--known-hosts', fleet.knownHostsPath]);
    assert.deepEqual(m.batches.map((b) => b.hosts), parseReport(one.stdout).batches);

    for (const batch of [1, 2]) {
      for (const r of await runBatch(m, batch)) assert.equal(r.code, 0, r.stdout + r.stderr);
      // no host of the next batch has been touched before this batch is merged
      if (batch === 1) for (const h of fleet.hosts.slice(4)) assert.equal(existsSync(join(h.root, 'done.txt')), false, h.name);
      const merged = await merge(['--shards', 'clean/shards.json', ...reportsOf(m, [batch])]);
      assert.equal(merged.code, 0, merged.stderr);
    }
    const all = await merge(['--shards', 'clean/shards.json', ...reportsOf(m, [1, 2])]);
    assert.equal(all.code, 0, all.stderr);
    const report = parseReport(all.stdout) as RunReport & { shards: Array<{ batch: number; outcome: string; hosts: string[] }> };
    assert.deepEqual(report.batches, parseReport(one.stdout).batches);
    assert.deepEqual(Object.keys(report.hosts), names);
    for (const h of fleet.hosts) {
      assert.equal(report.hosts[h.name]?.status, 'changed', h.name);
      assert.equal(readFileSync(join(h.root, 'done.txt'), 'utf8'), 'done 1\n');
    }
    assert.deepEqual(report.shards.map((x) => [x.batch, x.outcome, x.hosts.length]), [[1, 'ok', 2], [1, 'ok', 2], [2, 'ok', 2], [2, 'ok', 2]]);
    assert.equal(report.summary.changed, parseReport(one.stdout).summary.changed);
    assert.match(all.stderr, /PLAY RECAP/);
  });

  it('halts between batches when two shards, each under the line alone, put their batch over max-fail (exit 8)', async () => {
    // host 1 fails in shard 1, host 3 in shard 2: 1 of 2 in each shard, 2 of 4 in the batch; the line is 25%
    const inv = inventoryFailing('failing.ini', [1, 3]);
    assert.equal((await shard(inv, 'failing', ['--max-fail-percentage', '25'])).code, 0);
    const m = manifestOf('failing');
    assert.equal(m.max_fail_percentage, 25);
    const runs = await runBatch(m, 1);
    // each shard's own run has no max-fail: it ends with a failed host (2), not halted (8)
    assert.deepEqual(runs.map((r) => r.code), [2, 2]);
    const merged = await merge(['--shards', 'failing/shards.json', ...reportsOf(m, [1])]);
    assert.equal(merged.code, 8, merged.stderr);
    assert.match(merged.stderr, /rollout halted: 2 of 4 hosts of batch 1 failed, over the maximum of 25%/);
    const report = parseReport(merged.stdout);
    assert.deepEqual([names[0], names[2]].map((n) => report.hosts[n!]?.status), ['failed', 'failed']);
    for (const n of names.slice(4)) assert.equal(report.hosts[n]?.status, 'not run', n);
    // the same rule on the command line, looser: 2 of 4 is not over 50%, so the run's exit is a failed host's
    const looser = await merge(['--shards', 'failing/shards.json', '--max-fail-percentage', '50', ...reportsOf(m, [1])]);
    assert.equal(looser.code, 2, looser.stderr);
  });

  it('counts the hosts of a shard whose report is missing as unreachable (shard lost), toward max-fail', async () => {
    assert.equal((await shard(inventoryFailing('lost.ini', []), 'lost')).code, 0);
    const m = manifestOf('lost');
    const [first] = m.batches[0]!.shards;
    const r = await runCaptured('sh', ['-c', `${first!.command} --known-hosts ${fleet.knownHostsPath}`], { cwd: work, env: { ...process.env, CI: '1', PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stderr);
    // shard 2's report never came: its 2 hosts of 4 are lost, not over 60% (exit 4, as for unreachable hosts)...
    const lost = await merge(['--shards', 'lost/shards.json', '--max-fail-percentage', '60', first!.report]);
    assert.equal(lost.code, 4, lost.stderr);
    const report = parseReport(lost.stdout);
    for (const n of names.slice(2, 4)) {
      assert.equal(report.hosts[n]?.status, 'unreachable', n);
      assert.match(report.hosts[n]?.error ?? '', /shard lost/);
    }
    // ...and over 40%, they halt the rollout
    assert.equal((await merge(['--shards', 'lost/shards.json', '--max-fail-percentage', '40', first!.report])).code, 8);
  });

  it('refuses what it cannot merge or write, naming the file, and writes nothing half', async () => {
    const inv = inventoryFailing('clean2.ini', []);
    mkdirSync(join(work, 'taken'));
    writeFileSync(join(work, 'taken', 'mine.txt'), 'keep\n');
    const busy = await shard(inv, 'taken');
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /--out taken: the folder is not empty/);
    assert.deepEqual(readdirSync(join(work, 'taken')), ['mine.txt']);
    // the same host in two reports: it ran twice
    const twice = await merge(['--shards', 'lost/shards.json', 'lost/batch-1-shard-1.report.json', 'lost/batch-1-shard-1.report.json']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /host \S+ is in both lost\/batch-1-shard-1\.report\.json and lost\/batch-1-shard-1\.report\.json/);
    // a report is data: one that is not a report is refused by its field
    writeFileSync(join(work, 'bogus.json'), JSON.stringify({ playbook: 'x', hosts: {} }));
    const bogus = await merge(['bogus.json']);
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /bogus\.json: not a report written by provision run --report/);
    // a playbook of two plays cannot be cut into one play's batches
    const two = join(work, 'two.ts');
    writeFileSync(two, `import { definePlaybook, debug } from 'provision';\nexport default [definePlaybook({ name: 'a', hosts: 'all', tasks: [debug({ msg: 'a' })] }), definePlaybook({ name: 'b', hosts: 'all', tasks: [debug({ msg: 'b' })] })];\n`);
    const r = await runCli(['shard', two, '-i', inv, '--shards', '2', '--out', 'two'], { cwd: work });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /two\.ts has 2 plays: shards are cut from the batches of a playbook of one play/);
    assert.equal(existsSync(join(work, 'two')), false);
  });
});
