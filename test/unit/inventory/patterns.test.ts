// Host patterns select the same hosts, in the same order, as Ansible's.

import { deepStrictEqual, throws } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/errors.js';
import { Inventory } from '../../../src/inventory/inventory.js';
import { InventoryData } from '../../../src/inventory/model.js';
import { parseIniInventory } from '../../../src/inventory/parse-ini.js';
import { globToRegExp, splitHostPattern } from '../../../src/inventory/patterns.js';

const data = new InventoryData();
parseIniInventory(
  `lone
[web]
web1
web2
[db]
db1
db2
[prod:children]
web
db
[staging]
web2
stage-db
`,
  'hosts',
  data,
);
data.reconcile();
const inv = new Inventory(data, []);

describe('host patterns', function () {
  const cases: [string, string[]][] = [
    // inventory order is breadth-first from all: staging (a child of all) comes before web and db (grandchildren)
    ['all', ['lone', 'web2', 'stage-db', 'web1', 'db1', 'db2']],
    ['*', ['lone', 'web2', 'stage-db', 'web1', 'db1', 'db2']],
    ['web1', ['web1']],
    ['prod', ['web1', 'web2', 'db1', 'db2']],
    ['web*', ['web1', 'web2']],
    ['*db*', ['db1', 'db2', 'stage-db']],
    ['db?', ['db1', 'db2']],
    ['~(web|db)1', ['web1', 'db1']],
    ['web:db', ['web1', 'web2', 'db1', 'db2']],
    ['web,lone', ['web1', 'web2', 'lone']],
    ['prod:&staging', ['web2']],
    ['prod:!web', ['db1', 'db2']],
    ['!prod', ['lone', 'stage-db']],
    ['prod:!db:&staging', ['web2']],
    ['prod[0]', ['web1']],
    ['prod[1:2]', ['web2', 'db1']],
    ['prod[-1]', ['db2']],
    ['prod[2:]', ['db1', 'db2']],
    ['prod[9]', []],
    ['nothing', []],
    ['ungrouped', ['lone']],
  ];
  for (const [pattern, hosts] of cases) {
    it(`${pattern} → ${hosts.join(' ') || '(none)'}`, function () {
      deepStrictEqual(inv.selectHosts(pattern), hosts);
    });
  }

  it('reads @file: host patterns one a line', function () {
    const dir = mkdtempSync(join(tmpdir(), 'provision-pat-'));
    try {
      const file = join(dir, 'limit');
      writeFileSync(file, 'db2\n\nweb1\n');
      deepStrictEqual(inv.selectHosts(`@${file}`), ['db2', 'web1']);
      deepStrictEqual(inv.selectHosts(`prod:!@${file}`).length, 4); // !@file is not a thing in Ansible either
      throws(() => inv.selectHosts(`@${join(dir, 'missing')}`), InputError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an invalid regex', function () {
    throws(() => inv.selectHosts('~web('), /Invalid host list pattern/);
  });

  it('splits patterns like Ansible: commas, colons, but not ranges or IPv6', function () {
    deepStrictEqual(splitHostPattern('a:b:&c:!d'), ['a', 'b', '&c', '!d']);
    deepStrictEqual(splitHostPattern('a, b ,c'), ['a', 'b', 'c']);
    deepStrictEqual(splitHostPattern('web[1:3]'), ['web[1:3]']);
    deepStrictEqual(splitHostPattern('fe80::1'), ['fe80::1']);
  });

  it('translates globs as fnmatch does', function () {
    deepStrictEqual(['web1', 'webx', 'db'].filter((n) => globToRegExp('web[!x]').test(n)), ['web1']);
    deepStrictEqual(['a.b', 'axb'].filter((n) => globToRegExp('a.b').test(n)), ['a.b']);
  });

  it('names the single patterns that match nothing, without & or !, as Ansible warns of them', function () {
    deepStrictEqual(inv.unmatchedPatterns('web:&nosuch:!other'), ['nosuch', 'other']);
    deepStrictEqual(inv.unmatchedPatterns('web1,zz,prod[9]'), ['zz', 'prod[9]']);
    deepStrictEqual(inv.unmatchedPatterns('all:!web'), []);
  });
});
