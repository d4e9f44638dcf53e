// group_vars/ and host_vars/ beside the playbook: merged with the inventory's in Ansible's precedence, compared with
// what ansible-playbook prints for the same layout.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/inventory/index.js';

const NAMES = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8'];

describe('group_vars/ and host_vars/ beside the playbook (against ansible-playbook)', function () {
  this.timeout(60_000);
  let work: string;

  before(function () {
    const probe = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible-playbook is needed for this test: install ansible-core (apt-get install ansible-core)');
    work = mkdtempSync(join(tmpdir(), 'provision-pbvars-'));
    const put = (path: string, text: string) => {
      mkdirSync(join(work, path, '..'), { recursive: true });
      writeFileSync(join(work, path), text);
    };
    // each variable is set at several levels; the value names the level that should win
    put('inventory/hosts.yml', 'all:\n  vars: {v1: inv-all, v2: inv-all, v4: inv-all, v8: inv-all}\n  children:\n    web:\n      vars: {v3: inv-web}\n      hosts:\n        w1: {v4: inv-host, v8: inv-host}\n        w2:\n');
    put('inventory/group_vars/all.yml', 'v1: inv-gv-all\nv2: inv-gv-all\nv5: inv-gv-all\n');
    put('play/group_vars/all.yml', 'v2: pb-gv-all\nv3: pb-gv-all\nv5: pb-gv-all\nv6: pb-gv-all\n');
    put('inventory/group_vars/web.yml', 'v3: inv-gv-web\nv6: inv-gv-web\nv7: inv-gv-web\n');
    put('play/group_vars/web.yml', 'v7: pb-gv-web\nv4: pb-gv-web\nref: "{{ v1 }}+{{ v7 }}"\n');
    put('inventory/host_vars/w1.yml', 'v8: inv-hv\n');
    put('play/host_vars/w1.yml', 'v8: pb-hv\n');
    put('play/site.yml', `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ dict(${JSON.stringify([...NAMES, 'ref'])} | zip([${[...NAMES, 'ref'].join(', ')}])) | to_json }}"\n`);
  });
  after(() => {
    if (work && !process.env.KEEP) rmSync(work, { recursive: true, force: true });
  });

  it('every variable of every host takes the value ansible-playbook gives it', async function () {
    const out = execFileSync('ansible-playbook', ['-i', join(work, 'inventory'), join(work, 'play', 'site.yml'), '-c', 'local'], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
    });
    const theirs: Record<string, { msg: string }> = {};
    for (const m of out.matchAll(/^ok: \[(\w+)\] => (\{[\s\S]*?\n\})/gm)) theirs[m[1]!] = JSON.parse(m[2]!) as { msg: string };
    assert.deepEqual(Object.keys(theirs).sort(), ['w1', 'w2'], out);
    const inventory = await loadInventory([join(work, 'inventory')]);
    inventory.addPlaybookDir(join(work, 'play'));
    for (const host of ['w1', 'w2']) {
      const vars = inventory.templatedVars(host);
      const mine = Object.fromEntries([...NAMES, 'ref'].map((n) => [n, vars[n]]));
      assert.deepEqual(mine, JSON.parse(theirs[host]!.msg), host);
    }
    // the winners, spelled out: playbook group_vars/all beats inventory group_vars/all, but loses to inventory group_vars/web
    assert.equal(inventory.templatedVars('w1')['v2'], 'pb-gv-all');
    assert.equal(inventory.templatedVars('w1')['v6'], 'inv-gv-web');
    assert.equal(inventory.templatedVars('w1')['v8'], 'pb-hv');
  });
});
