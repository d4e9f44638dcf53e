// run --engine's options as one controller's: saved plans (`--check --plan-out` writes one controller's plan, `apply
// PLAN --engine` applies exactly it on the workers, refusing on a host alone a task whose state changed),
// --start-at-task, --list-tasks; and what cannot work across workers refused by name.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath, parseReport, repoRoot, runCli } from '../../helpers/cli.js';
import { startRedis, type Engine } from '../../helpers/engines.js';
import { spawnCli, waitFor, type SpawnedCli } from '../rollout/support.js';
import type { PlanFile } from '../../../src/cli/plan-file.js';

const playbook = 'test/fixtures/rollout/rollout.ts';

describe('run --engine options over 2 worker processes on Redis (4 sshd hosts)', function () {
  this.timeout(180_000);
  let engine: Engine;
  let fleet: Fleet;
  let work: string;
  let inv: string;
  const spawned: SpawnedCli[] = [];
  let retryFile: string;
  const readPlan = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PlanFile;
  const engineRun = async (args: string[]) => {
    const c = spawnCli(cliPath, [...args, '--engine', engine.url, '--json', '--retry-file', retryFile], repoRoot);
    spawned.push(c);
    return { code: await c.exited, stdout: c.stdout(), stderr: c.stderr() };
  };

  before(async function () {
    engine = await startRedis();
    fleet = await startFleet(4);
    work = mkdtempSync(join(tmpdir(), 'provision-engine-plans-'));
    inv = fleet.writeInventory(join(work, 'hosts.ini'), (h) => `root=${h.root} version=7`);
    retryFile = join(work, 'retry');
    for (const name of ['p1', 'p2']) {
      const w = spawnCli(cliPath, ['worker', '--engine', engine.url, '--name', name, '--known-hosts', fleet.knownHostsPath], repoRoot);
      spawned.push(w);
      await waitFor(`worker ${name} ready`, () => w.stdout().includes(`worker ${name} ready`) || w.stderr().includes('error'), 60_000);
      assert.match(w.stdout(), new RegExp(`worker ${name} ready`), w.stderr());
    }
  });
  after(async () => {
    await Promise.all(spawned.map((s) => s.stop()));
    await fleet?.stop();
    await engine?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("--check --plan-out writes one controller's plan; apply --engine applies exactly it; a host changed since is refused alone", async () => {
    const one = join(work, 'one.json');
    const r1 = await runCli(['run', playbook, '-i', inv, '--serial', '2', '--check', '--plan-out', one, '--known-hosts', fleet.knownHostsPath, '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    const planFile = join(work, 'engine.json');
    const made = await engineRun(['run', playbook, '-i', inv, '--serial', '2', '--shard-size', '1', '--check', '--plan-out', planFile]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /plan written to .*engine\.json; apply exactly it with: provision apply .*engine\.json --engine URL/);
    const plan = readPlan(planFile);
    // the same hosts and tasks, the same changes, summaries, diffs and fingerprints as one controller's plan
    assert.deepEqual(plan.hosts, readPlan(one).hosts);
    assert.deepEqual(Object.keys(plan.hosts), fleet.hosts.map((h) => h.name));
    assert.ok(Object.values(plan.hosts).every((tasks) => tasks.some((t) => t.changed)));
    for (const h of fleet.hosts) assert.throws(() => readFileSync(join(h.root, 'release.txt')), /ENOENT/, 'a check changes nothing');

    // host 3's release changes behind the plan's back: only that task on that host is refused
    writeFileSync(join(fleet.hosts[2]!.root, 'release.txt'), 'edited by hand\n');
    const applied = await engineRun(['apply', planFile, '--diff']);
    assert.equal(applied.code, 2, applied.stderr);
    const report = parseReport(applied.stdout);
    for (const [i, h] of fleet.hosts.entries()) {
      if (i === 2) continue;
      assert.equal(report.hosts[h.name]?.status, 'changed', h.name);
      assert.equal(readFileSync(join(h.root, 'release.txt'), 'utf8'), `release 7 on ${h.name}\n`);
      assert.ok(['p1', 'p2'].includes((report.hosts[h.name] as { worker?: string }).worker ?? ''), 'applied on a worker');
    }
    const refused = report.hosts[fleet.hosts[2]!.name]?.tasks.find((t) => t.status === 'failed');
    assert.equal(refused?.name, 'release');
    assert.match(refused?.error ?? '', /the host changed since the plan/);
    assert.equal(readFileSync(join(fleet.hosts[2]!.root, 'release.txt'), 'utf8'), 'edited by hand\n', 'the refused change was not made');
    // the run ends as one controller's: the retry file names the refused host, the diff groups are in the report
    assert.equal(readFileSync(retryFile, 'utf8'), `${fleet.hosts[2]!.name}\n`);
    assert.ok((report.diff_groups ?? []).length > 0, 'diff groups with --diff');
  });

  it('--start-at-task starts each host at that task on the workers; --list-tasks lists as one controller', async () => {
    const started = await engineRun(['run', playbook, '-i', inv, '-e', 'version=9', '--start-at-task', 'config']);
    assert.equal(started.code, 0, started.stderr);
    // a plain line per host as its shard reports it, naming the worker
    for (const h of fleet.hosts) assert.match(started.stderr, new RegExp(`^\\[${h.name}\\] done: changed \\(ok=\\d+ changed=2 failed=0 skipped=\\d+\\) on worker p[12]$`, 'm'));
    for (const h of fleet.hosts) {
      assert.equal(readFileSync(join(h.root, 'config.txt'), 'utf8').split('\n')[0], 'version 9', h.name);
      assert.notEqual(readFileSync(join(h.root, 'release.txt'), 'utf8'), `release 9 on ${h.name}\n`, `${h.name}: the task before it did not run`);
    }
    const listed = spawnCli(cliPath, ['run', playbook, '-i', inv, '--list-tasks', '--engine', engine.url], repoRoot);
    spawned.push(listed);
    assert.equal(await listed.exited, 0, listed.stderr());
    const one = await runCli(['run', playbook, '-i', inv, '--list-tasks']);
    assert.equal(listed.stdout(), one.stdout);
    assert.match(one.stdout, /release/);
  });

  it('--check --detailed-exitcode exits 10 with changes pending, as one controller', async () => {
    const r = await engineRun(['run', playbook, '-i', inv, '-e', 'version=10', '--check', '--detailed-exitcode']);
    assert.equal(r.code, 10, r.stderr);
  });

  it('refuses by name what cannot work across workers: --step, -K, connection options (the workers\' own)', async () => {
    const known = await engineRun(['run', playbook, '-i', inv, '--known-hosts', fleet.knownHostsPath, '-u', 'root']);
    assert.equal(known.code, 1, known.stderr);
    assert.match(known.stderr, /-u\/--user, --known-hosts with --engine: how to reach the hosts is each worker's own; give them to provision worker/);
    const step = await engineRun(['run', playbook, '-i', inv, '--step']);
    assert.equal(step.code, 1, step.stderr);
    assert.match(step.stderr, /--step asks at a terminal before each task: the workers have none; it is not supported with --engine/);
    const k = await engineRun(['run', playbook, '-i', inv, '-K']);
    assert.equal(k.code, 1, k.stderr);
    assert.match(k.stderr, /-K\/--ask-become-pass with --engine: the become password is each worker's own/);
  });
});
