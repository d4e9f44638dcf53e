// Hostile owners, groups and NUL bytes fed through -e to a playbook run against real sshd: refused by name when the
// task is built, a mistake of the playbook's input (exit 1, once, naming the playbook), with nothing on the host changed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/hostile/values.ts');

describe('hostile values through -e, against sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let inventory: string;
  let root: string;
  before(async () => {
    fleet = await startFleet(1);
    root = fleet.hosts[0]!.root;
    inventory = fleet.writeInventory();
  });
  after(async () => fleet?.stop());

  const run = (vars: Record<string, string>) =>
    runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '-e', JSON.stringify(vars), '--retry-file', join(fleet.dir, 'retry')]);
  /** The run stopped as a playbook mistake: exit 1, one message naming the playbook, no retry file. */
  const refused = (r: Awaited<ReturnType<typeof run>>, what: RegExp) => {
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.match(r.stderr, what);
    assert.match(r.stderr, /values\.ts:\d+:\d+: building the task list/);
    assert.equal(existsSync(join(fleet.dir, 'retry')), false);
  };

  for (const [param, value] of [
    ['owner', '--reference=/etc/shadow'],
    ['owner', '--help'],
    ['group', '--reference=/etc/shadow'],
    ['owner', '-0'],
  ] as const) {
    it(`${param}: ${value} is refused before anything runs`, async () => {
      const path = join(root, `f-${param}-${value.length}`);
      const r = await run({ path, arg: join(root, 'arg'), [param]: value });
      refused(r, new RegExp(`file task 'attributes from vars': ${param} must be a user or group name`));
      assert.ok(r.stderr.includes(`(got ${JSON.stringify(value)})`), r.stderr);
      assert.equal(existsSync(path), false, 'the file must not be touched');
    });
  }

  for (const [param, vars, where] of [
    ['path', { path: 'PATH/a\u0000b', arg: 'ARG' }, 'path'],
    ['argv', { path: 'PATH/ok', arg: 'ARG\u0000x' }, 'cmd\\[2\\]'],
    ['chdir', { path: 'PATH/ok2', arg: 'ARG', chdir: '/tmp\u0000/x' }, 'chdir'],
  ] as const) {
    it(`a NUL byte in ${param} is refused naming the parameter, not silently dropped`, async () => {
      const fill = (v: string) => v.replace('PATH', root).replace('ARG', join(root, 'arg'));
      const r = await run(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, fill(v)])));
      refused(r, new RegExp(`${where} contains a NUL byte`));
      assert.equal(existsSync(join(root, 'ab')), false);
      assert.equal(existsSync(join(root, 'argx')), false);
      assert.equal(existsSync(join(root, 'ok')), false, 'no task of the list ran');
    });
  }
});

describe('terminal escape sequences from a host, against sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(1);
  });
  after(async () => fleet?.stop());

  it('are shown escaped on the terminal and kept raw in the JSON report', async () => {
    const report = join(fleet.dir, 'escapes.json');
    const r = await runCli(['run', join(repoRoot, 'test/fixtures/hostile/escapes.ts'), '-i', fleet.writeInventory(), '--known-hosts', fleet.knownHostsPath, '--report', report, '--retry-file', join(fleet.dir, 'retry')]);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u001b\u0007\r]/, 'no raw control character reaches the terminal');
    assert.match(r.stdout, /before\\x1b\[2Jafter/);
    assert.match(r.stdout, /bad\\x1b\]0;owned\\x07\\x1b\[1A\\rX/);
    const json = readFileSync(report, 'utf8');
    const host = Object.values((JSON.parse(json) as { hosts: Record<string, { tasks: Array<{ name: string; error?: string; summary?: string }> }> }).hosts)[0]!;
    assert.ok(host.tasks.find((t) => t.name === 'noisy failure')?.error?.includes('bad\u001b]0;owned\u0007\u001b[1A\rX'));
  });
});
