// The README's "Adding a module" example, taken from the README itself and run as a user would (a module file of
// their own beside a playbook, `provision` installed) against a real sshd host: --check predicts, the run writes,
// the second run is ok, a converged --check exits 0 with --detailed-exitcode.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

/** The ```ts blocks of the README's section `heading`, by the file their first line names (`// modules/x.ts: …`). */
export function readmeFiles(readme: string, heading: string): Map<string, string> {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const end = readme.indexOf('\n### ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const files = new Map<string, string>();
  for (const m of section.matchAll(/```ts\n(\/\/ ([\w./-]+\.ts):[^\n]*\n[\s\S]*?)```/g)) files.set(m[2]!, m[1]!);
  return files;
}

describe("the README's own-module example, through sshd", function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let dir: string;
  let inventory: string;
  let root: string;

  before(async () => {
    fleet = await startFleet(1);
    root = join(fleet.hosts[0]!.root, 'app');
    mkdirSync(root, { recursive: true });
    inventory = fleet.writeInventory(undefined, `root=${root}`);
    // a user's project: provision installed, their module and playbook from the README
    dir = join(fleet.dir, 'project');
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(repoRoot, join(dir, 'node_modules', 'provision'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'infra', private: true, type: 'module' }));
    const files = readmeFiles(readFileSync(join(repoRoot, 'README.md'), 'utf8'), '### Adding a module');
    assert.deepEqual([...files.keys()].sort(), ['modules/env-file.ts', 'site.ts']);
    for (const [name, text] of files) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
  });
  after(async () => {
    await fleet?.stop();
  });

  const run = (...extra: string[]) =>
    runCli(['run', join(dir, 'site.ts'), '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'r'), ...extra], { cwd: dir });

  it('predicts in --check, writes in the run, is ok the second time, and a converged --check exits 0', async () => {
    const env = join(root, 'app.env');
    const checked = await run('--check', '--diff');
    assert.equal(checked.code, 0, checked.stderr);
    const planned = Object.values(parseReport(checked.stdout).hosts)[0]!.tasks;
    assert.deepEqual(planned.map((t) => [t.module, t.status, t.summary]), [['envFile', 'changed', 'absent → file']]);
    assert.equal(planned[0]!.diff?.[0]?.after, 'MODE=production\nPORT=8080\n');
    assert.equal(existsSync(env), false, '--check wrote the file');

    const applied = await run();
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(parseReport(applied.stdout).summary.changed, 1);
    assert.equal(readFileSync(env, 'utf8'), 'MODE=production\nPORT=8080\n');
    assert.equal(lstatSync(env).mode & 0o777, 0o600);

    const again = await run();
    assert.equal(again.code, 0, again.stderr);
    const second = parseReport(again.stdout);
    assert.equal(second.summary.changed, 0);
    assert.equal(Object.values(second.hosts)[0]!.tasks[0]!.summary, 'values already set');

    const converged = await run('--check', '--detailed-exitcode');
    assert.equal(converged.code, 0, converged.stderr);

    writeFileSync(env, 'PORT=80\n');
    const drifted = await run('--check', '--detailed-exitcode');
    assert.equal(drifted.code, 10, 'a drifted host is a pending change to --detailed-exitcode');
    assert.equal(Object.values(parseReport(drifted.stdout).hosts)[0]!.tasks[0]!.summary, 'values changed');
  });
});
