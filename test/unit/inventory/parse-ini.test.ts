// The INI inventory dialect, its typing rules and its file:line errors, parsed without files.

import { deepStrictEqual, ok, strictEqual, throws } from 'node:assert';
import { InventoryError } from '../../../src/errors.js';
import { Inventory } from '../../../src/inventory/inventory.js';
import { InventoryData } from '../../../src/inventory/model.js';
import { parseIniInventory } from '../../../src/inventory/parse-ini.js';

/** Parses INI text without any file, as loadInventory would. */
function ini(text: string): Inventory {
  const data = new InventoryData();
  parseIniInventory(text, 'hosts.ini', data);
  data.reconcile();
  return new Inventory(data, []);
}

function throwsAt(text: string, message: string): void {
  throws(
    () => ini(text),
    (err: unknown) => err instanceof InventoryError && err.message === message,
  );
}

describe('parseIniInventory', function () {
  it('reads hosts, groups, children and vars', function () {
    const inv = ini(`
      lone
      [web]
      web1
      web2
      [db]
      db1
      [prod:children]
      web
      db
      [prod:vars]
      env=prod
    `);
    deepStrictEqual(inv.hostNames(), ['lone', 'web1', 'web2', 'db1']);
    deepStrictEqual(inv.groupNames(), ['all', 'db', 'prod', 'ungrouped', 'web']);
    deepStrictEqual(inv.groupsOf('web1'), ['prod', 'web']);
    deepStrictEqual(inv.groupsOf('lone'), ['ungrouped']);
    strictEqual(inv.hostVars('db1')['env'], 'prod');
  });

  it('skips # and ; comments and accepts a comment after a section', function () {
    const inv = ini('# c\n; c\n[web] # c\nweb1 # c\n');
    deepStrictEqual(inv.selectHosts('web'), ['web1']);
  });

  it('merges a group opened twice', function () {
    const inv = ini('[web]\na\n[db]\nd\n[web]\nb\n');
    deepStrictEqual(inv.selectHosts('web'), ['a', 'b']);
  });

  it('types inline host vars with literal_eval, after shell-like splitting', function () {
    const vars = ini(`h port=22 flag=True name="two words" list='[1, 2]' dict="{'k': 1}" s=abc q="'22'" n=None f=1.5`).toHost('h');
    deepStrictEqual(vars, { port: 22, flag: true, name: 'two words', list: [1, 2], dict: { k: 1 }, s: 'abc', q: '22', n: null, f: 1.5 });
  });

  it('types [group:vars] values with literal_eval too (ansible-core 2.14), the whole rest of the line', function () {
    const vars = ini('[g]\nh\n[g:vars]\nnum=23\nb = True\ns= spaced value \nc=23 # comment\nt=a;b\ne=x = y\nl=[1,2]\n').toHost('h');
    deepStrictEqual(vars, { num: 23, b: true, s: 'spaced value', c: 23, t: 'a;b', e: 'x = y', l: [1, 2] });
  });

  it('reads host:port as ansible_port, only when the host is first seen', function () {
    const inv = ini('h1:2222\n[g]\nh1:3333\n');
    strictEqual(inv.toHost('h1')['ansible_port'], 2222);
  });

  it('expands ranges in host lines', function () {
    deepStrictEqual(ini('[web]\nweb[01:03]\nnode-[a:b]\n').selectHosts('web'), ['web01', 'web02', 'web03', 'node-a', 'node-b']);
  });

  it('accepts [g:vars] and [g:children] before the group is declared', function () {
    const inv = ini('[p:children]\nc\n[c:vars]\nv=1\n[c]\nh\n[p]\n');
    deepStrictEqual(inv.groupsOf('h'), ['c', 'p']);
    strictEqual(inv.toHost('h')['v'], 1);
  });

  it('takes a host out of ungrouped once it has a group', function () {
    const inv = ini('h\n[g]\nh\n');
    deepStrictEqual(inv.toList(), { _meta: { hostvars: {} }, all: { children: ['ungrouped', 'g'] }, g: { hosts: ['h'] } });
  });

  it('sets ansible_group_priority as a priority, not a variable', function () {
    const inv = ini('[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=10\n[b:vars]\nx=b\n');
    deepStrictEqual(inv.toHost('h'), { x: 'a' });
  });

  describe('errors name the file and line', function () {
    it('an unclosed section bracket', function () {
      throwsAt('[web\nh\n', "hosts.ini:1: unclosed bracket in section header '[web'");
    });
    it('a section with spaces', function () {
      throwsAt('\n[web servers]\n', "hosts.ini:2: Invalid section entry: '[web servers]'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters");
    });
    it('an unknown section type', function () {
      throwsAt('[web:foo]\n', 'hosts.ini:1: Section [web:foo] has unknown type: foo');
    });
    it('a bad range', function () {
      throws(() => ini('[web]\nweb[01:]\n'), (e: unknown) => e instanceof InventoryError && e.line === 2 && /host range must specify end value/.test(e.message));
    });
    it('a :children entry naming a group that is never declared', function () {
      throwsAt('[web:children]\nnope\n', 'hosts.ini:2: Section [web:children] includes undefined group: nope');
    });
    it('a :vars section for a group that is never declared', function () {
      throwsAt('[w:vars]\na=1\n', 'hosts.ini:1: Section [w:vars] not valid for undefined group: w');
    });
    it('a host variable without =', function () {
      throwsAt('[web]\nh1 novalue\n', 'hosts.ini:2: Expected key=value host variable assignment, got: novalue');
    });
    it('a :vars line without =', function () {
      throwsAt('[web]\nh\n[web:vars]\nnovalue\n', 'hosts.ini:4: Expected key=value, got: novalue');
    });
    it('an unclosed quote', function () {
      throwsAt('[web]\nh1 a="open\n', `hosts.ini:2: Error parsing host definition 'h1 a="open': No closing quotation`);
    });
    it('a host ending in a colon', function () {
      throwsAt('h1:\n', "hosts.ini:1: Invalid host pattern 'h1:' supplied, ending in ':' is not allowed, this character is reserved to provide a port.");
    });
    it('a children loop', function () {
      throws(() => ini('[a:children]\nb\n[b:children]\na\n'), (e: unknown) => e instanceof InventoryError && e.line === 4 && /recursive dependency loop/.test(e.message));
    });
    it('a bad group name in :children', function () {
      throwsAt('[a]\n[a:children]\nb c\n', 'hosts.ini:3: Expected group name, got: b c');
    });
  });

  it('keeps the error an InventoryError with file and line fields', function () {
    try {
      ini('[web:children]\nnope\n');
      ok(false);
    } catch (err) {
      ok(err instanceof InventoryError);
      strictEqual(err.file, 'hosts.ini');
      strictEqual(err.line, 2);
    }
  });
});
