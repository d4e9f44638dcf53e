// What a run costs a host, in counts no busy machine can blur (issue 12): the processes and programs a cold and a
// warm run of the benchmark's workload start on a real sshd host (strace of that sshd), and the requests and round
// trips a playbook of N edits of one file costs. Counts are deterministic; no duration is asserted here.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { straceMissing, traceHost } from '../../../bench/strace.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

describe('the cost of a run on a host, counted', function () {
  this.timeout(180_000);
  let fleet: Fleet;
  let inventory: string;

  before(async function () {
    const missing = straceMissing();
    if (missing) throw new Error(`${missing}; .ci/run installs it`);
    fleet = await startFleet(1);
    inventory = fleet.writeInventory(join(fleet.dir, 'inventory.ini'), (h) => `root=${h.root}`);
  });
  after(async () => {
    await fleet?.stop();
  });

  const run = (playbook: string) =>
    runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'retry')]);

  /** Runs the playbook with strace on the host's sshd: the run's report and what it started on the host. */
  async function counted(playbook: string) {
    const host = fleet.hosts[0]!;
    const tracer = await traceHost(host.pid, join(fleet.dir, `strace-${Date.now()}.txt`));
    const r = await run(playbook);
    const counts = await tracer.stop();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return { report: parseReport(r.stdout).hosts[host.name]!, counts };
  }

  it('the benchmark workload: at most 10 processes on a warm run, fewer than the floor (55) on a cold one', async () => {
    const workload = join(repoRoot, 'bench/workload.ts');
    const cold = await counted(workload);
    const warm = await counted(workload);
    const programs = (c: typeof warm.counts) => c.programs.map(([name, n]) => `${name}×${n}`).join(' ');
    assert.equal(cold.report.stats.changed, 22, JSON.stringify(cold.report.stats));
    assert.equal(warm.report.stats.changed, 0, JSON.stringify(warm.report.stats));
    // sshd's own processes for one connection, the session's shell, and one batched read: find, sha256sum, find and
    // base64 for the one file whose bytes a check needs (settings.py, for two lineinfile edits)
    assert.ok(warm.counts.processes <= 10, `warm: ${warm.counts.processes} processes (${programs(warm.counts)})`);
    assert.deepEqual(
      warm.counts.programs.filter(([name]) => !['sshd', 'bash', 'sh'].includes(name)).sort(),
      [['base64', 1], ['find', 2], ['sha256sum', 1]],
      programs(warm.counts),
    );
    assert.ok(cold.counts.processes <= 55, `cold: ${cold.counts.processes} processes (${programs(cold.counts)})`);
    assert.equal(warm.report.round_trips, 2);
  });

  for (const n of [20, 40]) {
    it(`${n} lineinfile edits of one file: at most ${2 * n + 2} requests and ${n + 2} round trips`, async () => {
      const file = join(fleet.hosts[0]!.root, `edits-${n}.conf`);
      writeFileSync(file, 'first line\n');
      const playbook = join(fleet.dir, `edits-${n}.ts`);
      writeFileSync(
        playbook,
        [
          "import { definePlaybook, lineinfile } from 'provision';",
          'export default definePlaybook({',
          "  name: 'many edits of one file', hosts: 'all',",
          `  tasks: () => Array.from({ length: ${n} }, (_, i) => lineinfile({ path: ${JSON.stringify(file)}, regexp: \`^key\${i} =\`, line: \`key\${i} = \${i}\` })),`,
          '});',
        ].join('\n'),
      );
      const { report } = await counted(playbook);
      assert.equal(report.stats.changed, n);
      assert.ok((report.requests ?? Infinity) <= 2 * n + 2, `${report.requests} requests`);
      assert.ok((report.round_trips ?? Infinity) <= n + 2, `${report.round_trips} round trips`);
      const again = parseReport((await run(playbook)).stdout).hosts[fleet.hosts[0]!.name]!;
      assert.equal(again.stats.changed, 0);
      assert.equal(again.round_trips, 2);
    });
  }
});
