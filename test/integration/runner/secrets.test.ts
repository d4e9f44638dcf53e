// A secret never leaks: a dozen placements of secret values, and every output of a run (stdout, stderr, the JSON
// report, the report file, the retry file) is searched for them, in --check --diff and in the real run.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const secrets = ['API-KEY-7f3a9c', 'FILE-TOKEN-51be', 'ssh-PW-c41d', 'sudo-PW-90ee'];

describe('secrets never leak into any output', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let inventory: string;

  before(async () => {
    fleet = await startFleet(1);
    inventory = fleet.writeInventory(undefined, (h) => `root=${h.root} ansible_password=${secrets[2]} ansible_become_password=${secrets[3]}`);
  });
  after(async () => {
    await fleet?.stop();
  });

  for (const mode of [['--check', '--diff'], ['--diff', '-v']]) {
    it(`${mode.join(' ')}: 0 occurrences in stdout, stderr, the JSON report, the report file and the retry file`, async () => {
      const report = join(fleet.dir, `report${mode[0]}.json`);
      const retry = join(fleet.dir, `retry${mode[0]}`);
      const r = await runCli(['run', join(repoRoot, 'test/fixtures/secrets/leaks.ts'), '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--report', report, '--retry-file', retry, ...mode]);
      assert.equal(r.code, 2, r.stderr); // the last task fails
      const json = parseReport(r.stdout);
      const tasks = Object.values(json.hosts)[0]!.tasks;
      assert.equal(tasks.length, 12, tasks.map((t) => t.name).join('\n'));
      // the placements did reach the outputs, redacted
      assert.ok(tasks.some((t) => t.summary?.includes('the key is ********')), JSON.stringify(tasks));
      const outputs = { stdout: r.stdout, stderr: r.stderr, report: readFileSync(report, 'utf8'), retry: existsSync(retry) ? readFileSync(retry, 'utf8') : '' };
      for (const [where, text] of Object.entries(outputs)) {
        for (const s of secrets) assert.equal(text.split(s).length - 1, 0, `${s} appears in ${where}:\n${text}`);
      }
      const secretTask = tasks[10]!;
      assert.equal(secretTask.name, 'shell (secret)');
      assert.equal(secretTask.status, mode[0] === '--check' ? 'changed' : 'failed');
      assert.equal(tasks[11]!.error, 'when: bad ********');
      assert.match(Object.values(json.hosts)[0]!.error ?? '', /bad \*{8}/);
    });
  }
});
