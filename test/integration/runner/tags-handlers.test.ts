// --tags/--skip-tags with always and never, and handlers that notify handlers or listen to a topic, through the CLI.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../../src/runner/events.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/tags-handlers/play.ts');
const ran = (r: RunReport) => Object.values(r.hosts)[0]!.tasks.filter((t) => t.status !== 'skipped').map((t) => t.name);

describe('tags and handlers as Ansible users expect (sshd on loopback)', function () {
  this.timeout(60_000);
  let fleet: Fleet;
  let inventory: string;
  let root: string;

  before(async () => {
    fleet = await startFleet(1);
    root = fleet.hosts[0]!.root;
    inventory = fleet.writeInventory(undefined, `root=${root}`);
  });
  after(async () => {
    await fleet?.stop();
  });

  const run = async (...extra: string[]) => {
    const r = await runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'r'), ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return parseReport(r.stdout);
  };

  it('runs always-tagged tasks with any --tags, never-tagged ones only when asked, and honours --skip-tags', async () => {
    assert.deepEqual(ran(await run('-e', 'run=1')), ['web', 'db', 'always', 'untagged', 'reload config', 'reload proxy', 'restart app', 'restart cache']);
    assert.deepEqual(ran(await run('-e', 'run=2', '--tags', 'db')), ['db', 'always']);
    assert.deepEqual(ran(await run('-e', 'run=3', '--tags', 'debug')), ['always', 'never-debug']);
    assert.deepEqual(ran(await run('-e', 'run=4', '--skip-tags', 'always,web')), ['db', 'untagged', 'restart app', 'restart cache']);
  });

  it('runs a handler notified by a handler and every handler listening to a notified topic, once each, in definition order', async () => {
    rmSync(join(root, 'handlers'), { force: true });
    await run('-e', 'run=5');
    // config (notified by a task) runs before proxy (notified by config), though proxy is defined first
    assert.equal(readFileSync(join(root, 'handlers'), 'utf8'), 'config\nproxy\napp\ncache\n');
    rmSync(join(root, 'handlers'));
    await run('-e', 'run=5'); // converged: nothing notified
    assert.equal(existsSync(join(root, 'handlers')), false);
  });
});
