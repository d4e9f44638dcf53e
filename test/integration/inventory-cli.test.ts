// `provision inventory` prints what `ansible-inventory` prints for the same inventory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from '../helpers/cli.js';

const ansibleInventory = '/usr/bin/ansible-inventory';

describe('provision inventory (against ansible-inventory)', function () {
  this.timeout(60_000);
  before(function () {
    if (!existsSync(ansibleInventory)) {
      throw new Error('ansible-inventory is missing: apt-get install ansible-core (.ci/run installs it)');
    }
  });
  const source = join(repoRoot, 'test/fixtures/inventory/dir-layout');
  const ansible = (args: string[]) =>
    execFileSync(ansibleInventory, ['-i', source, ...args], { encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });

  it('--list', async () => {
    const r = await runCli(['inventory', '-i', source, '--list']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(ansible(['--list'])));
  });

  it('--graph', async () => {
    const r = await runCli(['inventory', '-i', source, '--graph']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), ansible(['--graph']).trim());
  });

  it('--host', async () => {
    const list = JSON.parse(ansible(['--list'])) as { _meta: { hostvars: Record<string, unknown> } };
    const host = Object.keys(list._meta.hostvars)[0]!;
    const r = await runCli(['inventory', '-i', source, '--host', host]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(ansible(['--host', host])));
  });

  it('exits 1 naming the file and line of a malformed inventory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inv-bad-'));
    writeFileSync(join(dir, 'hosts'), '[web]\nweb[01:oops]\n');
    const r = await runCli(['inventory', '-i', join(dir, 'hosts'), '--list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /hosts:2: /);
  });
});
