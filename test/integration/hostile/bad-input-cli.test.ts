// Hostile and broken input through the CLI: each case ends in a clear message naming where, never a stack trace or
// exit 250, never a hang; report and retry paths are checked before any host is touched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli, type CliResult } from '../../helpers/cli.js';

const basic = join(repoRoot, 'test/fixtures/playbooks/basic.ts');

/** No crash: not the internal-error exit, no JavaScript stack frame in what the user sees. */
function assertNoCrash(r: CliResult): void {
  assert.notEqual(r.code, 250, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+\)?\n/, r.stderr);
}

describe('hostile input through the CLI: no crash, no hang', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let inventory: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
    root = join(dir, 'host');
    mkdirSync(root);
    inventory = join(dir, 'hosts');
    writeFileSync(inventory, `localhost ansible_connection=local root=${root}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], cwd?: string) => runCli(['run', basic, '-i', inventory, ...args], { cwd });
  const touched = () => existsSync(join(root, 'app'));

  it('--report naming a directory is refused before the run, leaving no stray temporary file', async () => {
    const target = join(dir, 'reports');
    mkdirSync(target);
    const r = await run(['--report', target]);
    assertNoCrash(r);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`--report ${target}: is a directory`));
    assert.equal(touched(), false, 'no host may be touched');
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('.probe')), []);
  });

  it('--report /proc/nope/r.json is refused at once (a recursive mkdir there never returns)', async () => {
    const r = await run(['--report', '/proc/nope/r.json']);
    assertNoCrash(r);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--report \/proc\/nope\/r\.json: cannot create the folder \/proc\/nope/);
    assert.equal(touched(), false);
  });

  it('--report and --retry-file under a regular file are refused, naming the flag', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    for (const flag of ['--report', '--retry-file']) {
      const r = await run([flag, join(file, 'out.json')]);
      assertNoCrash(r);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${flag} ${file}/out.json: ${file} is not a directory`));
    }
    assert.equal(touched(), false);
  });

  it('a default retry file that cannot be written is a warning: recap and report still come', async () => {
    const inv = join(dir, 'failing');
    const failRoot = join(dir, 'failing-host');
    writeFileSync(inv, `localhost ansible_connection=local root=${failRoot} fail_here=yes\n`);
    const report = join(dir, 'fail-report.json');
    // The default retry file goes to the current folder: /proc takes no new files.
    const r = await runCli(['run', basic, '-i', inv, '--report', report], { cwd: '/proc' });
    assertNoCrash(r);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /warning: cannot write the retry file basic\.retry/);
    assert.match(r.stdout, /localhost\s*:.*failed=1/);
    const written = JSON.parse(readFileSync(report, 'utf8')) as { hosts: Record<string, { status: string }> };
    assert.equal(written.hosts.localhost?.status, 'failed');
  });

  for (const flag of ['--forks', '--connect-timeout']) {
    it(`${flag} 0 is an error`, async () => {
      const r = await run([flag, '0']);
      assertNoCrash(r);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${flag} must be a whole number of at least 1`));
      assert.equal(touched(), false);
    });
  }

  it('an inventory folder with a dangling link, a link loop, a folder link back and a FIFO: warned, skipped, run goes on', async () => {
    const invDir = join(dir, 'inv-folder');
    mkdirSync(invDir);
    writeFileSync(join(invDir, 'hosts'), `localhost ansible_connection=local root=${join(dir, 'folder-host')}\n`);
    symlinkSync(join(dir, 'nothing-here'), join(invDir, 'dangling'));
    symlinkSync('loop-b', join(invDir, 'loop-a'));
    symlinkSync('loop-a', join(invDir, 'loop-b'));
    symlinkSync('.', join(invDir, 'self'));
    execFileSync('mkfifo', [join(invDir, 'pipe')]);
    const allVars = join(invDir, 'group_vars', 'all');
    mkdirSync(allVars, { recursive: true });
    writeFileSync(join(allVars, 'vars.yml'), 'from_group_vars: yes\n');
    execFileSync('mkfifo', [join(allVars, 'pipe.yml')]);
    symlinkSync('.', join(allVars, 'back'));
    const r = await runCli(['run', basic, '-i', invDir, '--retry-file', join(dir, 'r1')]);
    assertNoCrash(r);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: Unable to parse ${invDir}/dangling as an inventory source: a symbolic link to nothing`));
    assert.match(r.stderr, new RegExp(`warning: Unable to parse ${invDir}/loop-a as an inventory source: a symbolic link loop`));
    assert.match(r.stderr, new RegExp(`warning: Unable to parse ${invDir}/pipe as an inventory source: not a regular file`));
    assert.match(r.stderr, new RegExp(`warning: Unable to parse ${invDir}/self as an inventory source: a folder already read`));
    assert.match(r.stderr, new RegExp(`warning: Skipping ${allVars}/pipe\\.yml: not a regular file`));
    assert.match(r.stderr, new RegExp(`warning: Skipping ${allVars}/back: a folder already read`));
    assert.ok(existsSync(join(dir, 'folder-host', 'app', 'marker')), 'the hosts file was still read and run');
    const vars = await runCli(['inventory', '-i', invDir, '--host', 'localhost']);
    assert.equal((JSON.parse(vars.stdout) as Record<string, unknown>).from_group_vars, true);
  });

  it('a YAML alias bomb is refused naming the file, quickly and without exhausting memory', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 12; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
    const bomb = join(dir, 'bomb.yml');
    writeFileSync(bomb, `all:\n  hosts:\n    h1:\n  vars:\n${lines.map((l) => `    ${l}`).join('\n')}\n`);
    const r = await runCli(['inventory', '-i', bomb, '--list']);
    assertNoCrash(r);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${bomb}: YAML aliases expand \\d+ values to \\d+ .*alias bomb`));
  });

  it('an inventory that reuses an anchor on every host still loads', async () => {
    const hosts = Array.from({ length: 300 }, (_, i) => `    h${i}: *common`).join('\n');
    const yml = join(dir, 'anchors.yml');
    writeFileSync(yml, `all:\n  vars:\n    common_def: &common { port: 2222, role: web }\n  hosts:\n${hosts}\n`);
    const r = await runCli(['inventory', '-i', yml, '--host', 'h299']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { common_def: { port: 2222, role: 'web' }, port: 2222, role: 'web' });
  });
});
