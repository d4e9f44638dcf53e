// Loading sources from disk: directories, group_vars/host_vars, precedence, errors.

import { deepStrictEqual, rejects, strictEqual } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InventoryError } from '../../../src/errors.js';
import { loadInventory } from '../../../src/inventory/index.js';
import { couldBeYamlMapping } from '../../../src/inventory/load.js';

describe('loadInventory', function () {
  let root: string;
  /** Writes files under a fresh temp folder: { 'inv/hosts': '...' }. */
  const tree = (files: Record<string, string>): void => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
  };
  const at = (p: string) => join(root, p);

  beforeEach(function () {
    root = mkdtempSync(join(tmpdir(), 'provision-inv-'));
  });
  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it('reads every inventory file of a directory, in name order, skipping .ini and friends, recursing into folders', async function () {
    tree({
      'inv/01-web': '[web]\nweb1\n',
      'inv/02-db.yml': 'db:\n  hosts:\n    db1:\n',
      'inv/03-noext': 'cache:\n  hosts:\n    c1:\n',
      'inv/sub/more': '[more]\nm1\n',
      'inv/skipped.ini': '[skipped]\ns1\n',
      'inv/notes.md': '# not an inventory',
      'inv/.hidden': '[hidden]\nh1\n',
    });
    const inv = await loadInventory([at('inv')]);
    deepStrictEqual(inv.groupNames(), ['all', 'cache', 'db', 'more', 'ungrouped', 'web']);
    deepStrictEqual(inv.hostNames(), ['web1', 'db1', 'c1', 'm1']);
  });

  it('reads a .ini file named directly', async function () {
    tree({ 'hosts.ini': '[web]\nweb1\n' });
    deepStrictEqual((await loadInventory([at('hosts.ini')])).hostNames(), ['web1']);
  });

  it('merges several sources, and reads `a,b:22` host lists', async function () {
    tree({ 'one/hosts': '[web]\nweb1\n', 'two/hosts.yml': 'web:\n  hosts:\n    web2:\n' });
    const inv = await loadInventory([at('one/hosts'), at('two'), 'adhoc1,adhoc2:2200,']);
    deepStrictEqual(inv.selectHosts('web'), ['web1', 'web2']);
    deepStrictEqual(inv.selectHosts('ungrouped'), ['adhoc1', 'adhoc2']);
    strictEqual(inv.hostVars('adhoc2')['ansible_port'], 2200);
  });

  describe('variable precedence, as Ansible', function () {
    beforeEach(function () {
      tree({
        'inv/hosts': [
          '[parent:children]', 'child',
          '[child]', 'h1 v_host=inline', 'h2',
          '[all:vars]', 'v_all=all', 'v_parent=all', 'v_child=all', 'v_host=all', 'v_gv=all',
          '[parent:vars]', 'v_parent=parent', 'v_child=parent', 'v_host=parent',
          '[child:vars]', 'v_child=child', 'v_host=child', 'v_gv=child_inline',
          '[alpha]', 'h1', '[alpha:vars]', 'v_same=alpha',
          '[beta]', 'h1', '[beta:vars]', 'v_same=beta',
          '[low]', 'h2', '[low:vars]', 'v_prio=low', 'ansible_group_priority=10',
          '[zed]', 'h2', '[zed:vars]', 'v_prio=zed',
        ].join('\n'),
        'inv/group_vars/all.yml': 'v_gv: group_vars_all\nv_file: all\n',
        'inv/group_vars/parent.yml': 'v_file: parent\n',
        'inv/group_vars/child/10.yml': 'v_file: child_10\nv_dir: 10\n',
        'inv/group_vars/child/20': 'v_dir: 20\n',
        'inv/host_vars/h1.yaml': 'v_file: host\nv_host: host_vars\n',
      });
    });

    it('all < parent < child < host', async function () {
      const v = (await loadInventory([at('inv')])).hostVars('h2');
      strictEqual(v['v_all'], 'all');
      strictEqual(v['v_parent'], 'parent');
      strictEqual(v['v_child'], 'child');
      strictEqual((await loadInventory([at('inv')])).hostVars('h1')['v_host'], 'host_vars');
    });

    it('group_vars files win over inventory group vars, even group_vars/all over a child group', async function () {
      const v = (await loadInventory([at('inv')])).hostVars('h2');
      strictEqual(v['v_gv'], 'group_vars_all');
      strictEqual(v['v_file'], 'child_10');
    });

    it('a group_vars folder merges its files in name order', async function () {
      strictEqual((await loadInventory([at('inv')])).hostVars('h2')['v_dir'], 20);
    });

    it('host_vars win over everything', async function () {
      strictEqual((await loadInventory([at('inv')])).hostVars('h1')['v_file'], 'host');
    });

    it('groups of the same depth: by name, unless ansible_group_priority says otherwise', async function () {
      const inv = await loadInventory([at('inv')]);
      strictEqual(inv.hostVars('h1')['v_same'], 'beta');
      strictEqual(inv.hostVars('h2')['v_prio'], 'low');
    });

    it('adds inventory_hostname, inventory_hostname_short, group_names, inventory_dir', async function () {
      tree({ 'inv/more': '[web]\nweb1.example.com\n10.0.0.1\n' });
      const inv = await loadInventory([at('inv')]);
      const v = inv.hostVars('web1.example.com');
      strictEqual(v['inventory_hostname'], 'web1.example.com');
      strictEqual(v['inventory_hostname_short'], 'web1');
      deepStrictEqual(v['group_names'], ['web']);
      strictEqual(v['inventory_dir'], at('inv'));
      strictEqual(v['inventory_file'], at('inv/more'));
      strictEqual(inv.hostVars('10.0.0.1')['inventory_hostname_short'], '10.0.0.1');
      deepStrictEqual(inv.hostVars('h1')['group_names'], ['alpha', 'beta', 'child', 'parent']);
    });
  });

  it('prints the --graph tree', async function () {
    tree({ 'hosts': 'lone\n[p:children]\nc\n[c]\nh1\n' });
    strictEqual((await loadInventory([at('hosts')])).toGraph(), '@all:\n  |--@ungrouped:\n  |  |--lone\n  |--@p:\n  |  |--@c:\n  |  |  |--h1');
  });

  describe('errors', function () {
    const fails = (sources: string[], test: (e: InventoryError) => boolean) =>
      rejects(loadInventory(sources), (e: unknown) => e instanceof InventoryError && test(e));

    it('a missing source', async function () {
      await fails([join(tmpdir(), 'no-such-inventory-here')], (e) => /inventory source not found/.test(e.message));
    });
    it('a malformed file in a directory is named with its line', async function () {
      tree({ 'inv/a': '[ok]\nh\n', 'inv/b': '[web]\nweb[1:]\n' });
      await fails([at('inv')], (e) => e.file === at('inv/b') && e.line === 2);
    });
    it('a YAML error in a group_vars file', async function () {
      tree({ 'inv/hosts': '[web]\nw\n', 'inv/group_vars/web.yml': 'a: 1\nb: [\n' });
      await fails([at('inv')], (e) => e.file === join(root, 'inv/group_vars/web.yml') && typeof e.line === 'number');
    });
    it('a group_vars file that is not a mapping', async function () {
      tree({ 'inv/hosts': '[web]\nw\n', 'inv/group_vars/web.yml': '- a\n- b\n' });
      await fails([at('inv')], (e) => /must hold a mapping/.test(e.message));
    });
    it('a YAML inventory without extension that is YAML-shaped but written as INI is explained', async function () {
      tree({ 'hosts': 'all\nweb:\n' });
      await fails([at('hosts')], (e) => e.line === 2 && /is this a YAML inventory/.test(e.message));
    });
    it('a .yml file that is not a mapping', async function () {
      tree({ 'inv.yml': '- web1\n- web2\n' });
      await fails([at('inv.yml')], (e) => /invalid structure/.test(e.message));
    });
  });

  it('an empty .yml file is an empty inventory', async function () {
    tree({ 'inv.yml': '# nothing yet\n' });
    deepStrictEqual((await loadInventory([at('inv.yml')])).hostNames(), []);
  });
});

describe('couldBeYamlMapping (an inventory file without extension, before YAML is loaded to try it)', function () {
  it('is false for INI text, true for what YAML could read as a mapping', function () {
    for (const ini of ['localhost ansible_connection=local\n', '[web]\nweb1 ansible_host=10.0.0.1 ansible_port=2222\n[web:vars]\nx=a:b\n', '# only a comment\n', '']) {
      strictEqual(couldBeYamlMapping(ini), false, ini);
    }
    for (const yaml of ['all:\n  hosts:\n    a:\n', 'all:', '{"all": {"hosts": {"a": null}}}', '? all\n', 'web:\tx\n']) {
      strictEqual(couldBeYamlMapping(yaml), true, yaml);
    }
  });
});
