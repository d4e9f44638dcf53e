// A user's own infrastructure repo depends on provision by path, imports it by name, and runs its CLI.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

describe('provision as a dependency of another project', function () {
  this.timeout(180_000);
  let project: string;

  before(() => {
    project = mkdtempSync(join(tmpdir(), 'provision-user-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-infra', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', repoRoot], { cwd: project, stdio: 'pipe' });
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it('runs a playbook of that project that imports { definePlaybook, file } from "provision"', () => {
    mkdirSync(join(project, 'playbooks'));
    const target = join(project, 'out');
    writeFileSync(
      join(project, 'playbooks', 'site.ts'),
      [
        "import { definePlaybook, file, type Task } from 'provision';",
        'const tasks: Task[] = [];',
        'export default definePlaybook({',
        "  name: 'site', hosts: 'all',",
        `  tasks: ({ vars }) => [...tasks, file({ path: String(vars.target), state: 'directory', mode: '0755' })],`,
        '});',
      ].join('\n'),
    );
    writeFileSync(join(project, 'inventory'), `localhost ansible_connection=local target=${target}\n`);
    const r = spawnSync('npx', ['--no-install', 'provision', 'run', 'playbooks/site.ts', '-i', 'inventory', '--json'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { hosts: Record<string, { status: string }> };
    assert.equal(report.hosts.localhost?.status, 'changed');
    assert.ok(existsSync(target));
    // The README's fast path, without npx's own start-up: the project's node_modules/.bin/provision.
    const again = spawnSync(join(project, 'node_modules', '.bin', 'provision'), ['run', 'playbooks/site.ts', '-i', 'inventory', '--json'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    assert.equal(again.status, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { hosts: Record<string, { status: string }> }).hosts.localhost?.status, 'ok');
  });

  it('type-checks that project against the package types', () => {
    writeFileSync(
      join(project, 'check.ts'),
      "import { definePlaybook, file } from 'provision';\n" +
        "export default definePlaybook({ name: 'x', hosts: 'all', tasks: [file({ path: '/tmp/x', state: 'directory' })] });\n",
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: true } , files: ['check.ts'] }),
    );
    // The README's example playbook type-checks as it is written there.
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const example = /## Writing a playbook[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'README has no example playbook');
    writeFileSync(join(project, 'readme-example.ts'), example);
    // With the tsconfig.json the README gives users, checking the project's files.
    const tsconfig = /give that project a[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(tsconfig, 'README shows no tsconfig.json for a user project');
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...JSON.parse(tsconfig), include: undefined, files: ['check.ts', 'readme-example.ts'] }));
    const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
    const ok = spawnSync(tsc, ['-p', project], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    // A typo in a parameter is a compile error, not a surprise at run time.
    writeFileSync(join(project, 'check.ts'), readFileSync(join(project, 'check.ts'), 'utf8').replace("state: 'directory'", "state: 'dierctory'"));
    const bad = spawnSync(tsc, ['-p', project], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /dierctory/);
  });
});
