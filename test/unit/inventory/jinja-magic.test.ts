// The magic variables of a run (ansible_check_mode, ansible_run_tags …) side by side with ansible-playbook, and omit.
import { deepStrictEqual, match, ok, strictEqual } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/inventory/index.js';
import { OMIT, removeOmitted } from '../../../src/inventory/omit.js';
import { file } from '../../../src/modules/file.js';

describe('magic variables of a run, and omit', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'provision-jinja-magic-'));
    writeFileSync(
      join(dir, 'hosts.yml'),
      `all:
  hosts:
    h1:
      ansible_connection: local
      run_info: "{{ [ansible_run_tags, ansible_skip_tags, ansible_check_mode, ansible_diff_mode, playbook_dir] }}"
      mode_or_omit: "{{ file_mode | default(omit) }}"
      check_mode: true
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ansible_run_tags, ansible_skip_tags, ansible_check_mode, ansible_diff_mode and playbook_dir as ansible-playbook sets them', async function () {
    this.timeout(60_000);
    const probe = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible-playbook is needed for this test: install ansible-core (apt-get install ansible-core)');
    const playDir = join(dir, 'play');
    execFileSync('mkdir', ['-p', playDir]);
    writeFileSync(join(playDir, 'p.yml'), '- hosts: h1\n  gather_facts: false\n  tasks:\n    - debug: var=run_info\n      tags: [always]\n');
    const out = execFileSync('ansible-playbook', ['-i', join(dir, 'hosts.yml'), join(playDir, 'p.yml'), '--tags', 'web,db', '--skip-tags', 'slow', '--check', '--diff'], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_STDOUT_CALLBACK: 'default' },
    });
    const theirs = JSON.parse(/"run_info": (\[[\s\S]*?\n    \])/.exec(out)![1]!) as unknown;
    const inventory = await loadInventory([join(dir, 'hosts.yml')]);
    // what `provision run` sets from --tags web,db --skip-tags slow --check --diff
    inventory.setRunVars({ playbook_dir: playDir, ansible_check_mode: true, ansible_diff_mode: true, ansible_run_tags: ['web', 'db'], ansible_skip_tags: ['slow'] });
    // Ansible keeps the tags in a Python set: their order is the hash's, so both sides are compared sorted
    const sortTags = (v: unknown) => (v as unknown[]).map((x) => (Array.isArray(x) ? [...x].sort() : x));
    deepStrictEqual(sortTags(inventory.templatedVars('h1')['run_info']), sortTags(theirs));
  });

  it('magic variables win over inventory variables of the same name, as in Ansible', async function () {
    const inventory = await loadInventory([join(dir, 'hosts.yml')]);
    strictEqual(inventory.templatedVars('h1')['check_mode'], true);
    strictEqual(inventory.templatedVars('h1', { ansible_check_mode: 'mine' })['ansible_check_mode'], false);
  });

  it('ansible_version names the ansible-core release provision matches; ansible_playbook_python is a python3', async function () {
    const vars = (await loadInventory([join(dir, 'hosts.yml')])).templatedVars('h1');
    deepStrictEqual(vars['ansible_version'], { full: '2.14.18', major: 2, minor: 14, revision: 18, string: '2.14.18' });
    const python = vars['ansible_playbook_python'] as string;
    match(python, /python3$/);
    ok(existsSync(python));
  });

  it('a parameter given omit is left out of a module call, nested mappings too', async function () {
    const vars = (await loadInventory([join(dir, 'hosts.yml')])).templatedVars('h1');
    strictEqual(vars['mode_or_omit'], OMIT);
    match(OMIT, /^__omit_place_holder__[0-9a-f]{40}$/);
    const params: Record<string, unknown> = { path: '/x', mode: vars['mode_or_omit'], nested: { a: OMIT, b: 1 }, list: [OMIT, 'k'] };
    removeOmitted(params);
    deepStrictEqual(params, { path: '/x', nested: { b: 1 }, list: ['k'] });
    // a module's parameters: mode given omit is as if not given (the schema would refuse the placeholder as a mode)
    const task = file({ path: '/tmp/x', state: 'directory', mode: OMIT as never });
    strictEqual((task as unknown as { params: Record<string, unknown> }).params['mode'], undefined);
  });
});
