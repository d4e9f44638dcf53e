// Inventories that are programs: provision's view equals `ansible-inventory --list` / `--host` for the same script.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/inventory/index.js';
import { runCli } from '../../helpers/cli.js';

const WITH_META = `#!/usr/bin/env python3
import json, sys
if sys.argv[1:] == ['--list']:
    print(json.dumps({
        'web': {'hosts': ['w1', 'w2'], 'vars': {'http_port': 8080, 'tls': True}, 'children': ['canary']},
        'canary': ['w3'],
        'db': {'hosts': ['d1']},
        'solo': {'region': 'eu'},
        '_meta': {'hostvars': {'w1': {'ansible_host': '10.0.0.1', 'weight': 1.5}, 'd1': {'roles': ['primary'], 'x': None}}},
    }))
else:
    sys.exit('--host must not be called when _meta is given')
`;

const WITHOUT_META = `#!/bin/sh
case "$1" in
  --list) echo '{"app": {"hosts": ["a1", "a2"], "vars": {"tier": "back"}}, "all": {"vars": {"dc": "x"}}}' ;;
  --host) if [ "$2" = a1 ]; then echo '{"ansible_port": 2222, "name": "one"}'; else echo '{}'; fi ;;
esac
`;

describe('inventory scripts (executable inventories) match ansible-inventory', function () {
  this.timeout(120_000);
  let work: string;
  const script = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    chmodSync(path, 0o755);
    return path;
  };
  const ansible = (args: string[]) =>
    JSON.parse(execFileSync('ansible-inventory', args, { cwd: work, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })) as unknown;

  before(function () {
    const probe = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible-inventory is needed for these tests: install ansible-core (apt-get install ansible-core)');
    work = mkdtempSync(join(tmpdir(), 'provision-invscript-'));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a script with _meta.hostvars: --list and --host equal ansible-inventory', async function () {
    const path = script('cloud.py', WITH_META);
    const inventory = await loadInventory([path]);
    assert.deepEqual(inventory.toList(), ansible(['-i', path, '--list']));
    for (const h of ['w1', 'd1', 'solo']) assert.deepEqual(inventory.toHost(h), ansible(['-i', path, '--host', h]), h);
    assert.equal(inventory.hostVars('w1')['http_port'], 8080);
  });

  it('a script without _meta is asked --host for each host', async function () {
    const path = script('legacy.sh', WITHOUT_META);
    const inventory = await loadInventory([path]);
    assert.deepEqual(inventory.toList(), ansible(['-i', path, '--list']));
    assert.deepEqual(inventory.toHost('a1'), ansible(['-i', path, '--host', 'a1']));
    assert.equal(inventory.hostVars('a1')['ansible_port'], 2222);
  });

  it('through the CLI: provision inventory --list prints what ansible-inventory prints', async function () {
    const path = script('cloud2.py', WITH_META);
    const r = await runCli(['inventory', '-i', path, '--list']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ansible(['-i', path, '--list']));
  });

  it('a failing script: exit 1 with its stderr', async function () {
    const path = script('broken.sh', '#!/bin/sh\necho "cloud API token expired" >&2\nexit 2\n');
    const r = await runCli(['inventory', '-i', path, '--list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.sh --list failed \(exit code 2\): cloud API token expired/);
  });

  it('a script printing invalid JSON: exit 1 naming the script, the JSON error and its stderr', async function () {
    const path = script('garbage.sh', '#!/bin/sh\necho "warning: slow API" >&2\necho "{not json"\n');
    const r = await runCli(['inventory', '-i', path, '--list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /garbage\.sh --list printed invalid JSON \(.+\); its stderr: warning: slow API/);
  });
});
