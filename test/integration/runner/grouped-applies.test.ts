// Consecutive applies sent together (src/runner/apply-ahead.ts), against a real sshd host: one round trip for the
// group, and a failure in the middle stops the rest on the host exactly as one apply after another would.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, runCli } from '../../helpers/cli.js';

describe('applies sent together (1 sshd host)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let inventory: string;

  before(async () => {
    fleet = await startFleet(1);
    inventory = fleet.writeInventory(join(fleet.dir, 'inventory.ini'), (h) => `root=${h.root}`);
  });
  after(async () => {
    await fleet?.stop();
  });

  const run = async (name: string, tasks: string[]) => {
    const playbook = join(fleet.dir, `${name}.ts`);
    writeFileSync(
      playbook,
      [
        "import { command, copy, definePlaybook, file } from 'provision';",
        'export default definePlaybook({',
        `  name: ${JSON.stringify(name)}, hosts: 'all',`,
        '  tasks: ({ vars }) => {',
        '    const g = `${String(vars.root)}/' + name + '`;',
        `    return [${tasks.join(', ')}];`,
        '  },',
        '});',
      ].join('\n'),
    );
    const r = await runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'retry')]);
    const host = parseReport(r.stdout).hosts[fleet.hosts[0]!.name]!;
    return { code: r.code, host, dir: join(fleet.hosts[0]!.root, name), out: r.stdout + r.stderr };
  };

  it('sends consecutive applies in one round trip; a failure stops the later ones on the host, as one by one would', async () => {
    const { code, host, dir, out } = await run('stop', [
      "file({ path: `${g}/a`, state: 'directory', mode: '0750' })",
      "file({ path: `${g}/b`, state: 'directory' })",
      "copy({ content: 'x\\n', dest: `${g}/a/f`, mode: '0640' })",
      // its folder does not exist: the check plans a new file, the write fails
      "copy({ content: 'y\\n', dest: `${g}/missing/f` })",
      "file({ path: `${g}/c`, state: 'directory' })",
      "file({ path: `${g}/a/t`, state: 'touch' })",
    ]);
    assert.equal(code, 2, out);
    assert.equal(host.status, 'failed');
    assert.deepEqual(
      host.tasks.map((t) => [t.id, t.status]),
      [['task 1', 'changed'], ['task 2', 'changed'], ['task 3', 'changed'], ['task 4', 'failed']],
    );
    assert.match(host.tasks[3]!.error ?? '', /write .*missing\/f/);
    assert.equal(statSync(join(dir, 'a')).mode & 0o7777, 0o750);
    assert.ok(existsSync(join(dir, 'b')) && existsSync(join(dir, 'a/f')));
    assert.ok(!existsSync(join(dir, 'c')) && !existsSync(join(dir, 'a/t')), 'nothing after the failed apply ran on the host');
    assert.deepEqual(readdirSync(join(dir, 'a')).filter((n) => n.includes('.provision-')), [], 'no temporary file left');
    // facts, every check, then the six applies together
    assert.equal(host.round_trips, 3);
  });

  it('passes over a task with nothing to change: the applies around it still go together', async () => {
    const tasks = [
      "file({ path: `${g}/x1`, state: 'directory' })",
      "file({ path: `${g}/done`, state: 'directory' })",
      "file({ path: `${g}/x2`, state: 'directory' })",
    ];
    mkdirSync(join(fleet.hosts[0]!.root, 'over', 'done'), { recursive: true });
    const { host } = await run('over', tasks);
    assert.deepEqual(host.tasks.map((t) => t.status), ['changed', 'ok', 'changed']);
    assert.equal(host.round_trips, 3);
  });

  it("a validate command that does not parse fails its own task only: the host's shell goes on", async () => {
    const { code, host, dir, out } = await run('parse', [
      "file({ path: g, state: 'directory' })",
      "copy({ content: 'x\\n', dest: `${g}/f`, validate: 'if %s', ignoreErrors: true })",
      "file({ path: `${g}/after`, state: 'directory' })",
    ]);
    assert.equal(code, 0, out);
    assert.equal(host.status, 'changed');
    assert.equal(host.tasks[1]!.status, 'failed');
    assert.match(host.tasks[1]!.error ?? '', /[Ss]yntax error/);
    assert.ok(!existsSync(join(dir, 'f')) && existsSync(join(dir, 'after')));
  });

  it('keeps a task whose turn decides (a condition that is a function) out of the group, and converges', async () => {
    const tasks = [
      "file({ path: `${g}/a`, state: 'directory' })",
      "file({ path: `${g}/b`, state: 'directory' })",
      "command({ cmd: ['true'], register: 'probe', changedWhen: () => false })",
      "file({ path: `${g}/c`, state: 'directory', when: ({ registered }) => registered.probe?.status === 'failed' })",
      "file({ path: `${g}/d`, state: 'directory' })",
    ];
    const first = await run('when', tasks);
    assert.equal(first.code, 0, first.out);
    assert.deepEqual(first.host.tasks.map((t) => t.status), ['changed', 'changed', 'ok', 'skipped', 'changed']);
    assert.ok(!existsSync(join(first.dir, 'c')) && existsSync(join(first.dir, 'd')));
    const again = await run('when', tasks);
    assert.equal(again.host.stats.changed, 0);
  });
});
