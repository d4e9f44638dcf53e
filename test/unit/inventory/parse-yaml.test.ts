// YAML inventories and PyYAML (YAML 1.1) typing, parsed without files.

import { deepStrictEqual, strictEqual, throws } from 'node:assert';
import { InventoryError } from '../../../src/errors.js';
import { Inventory } from '../../../src/inventory/inventory.js';
import { InventoryData } from '../../../src/inventory/model.js';
import { parseYamlInventory } from '../../../src/inventory/parse-yaml.js';
import { loadYaml, resolvePlainScalar } from '../../../src/inventory/yaml-load.js';

function yaml(text: string, warnings: string[] = []): Inventory {
  const data = new InventoryData();
  parseYamlInventory(text, 'inv.yml', data, warnings);
  data.reconcile();
  return new Inventory(data, []);
}

describe('YAML inventories', function () {
  it('reads all:, hosts:, children:, vars:', function () {
    const inv = yaml(`
all:
  vars: {level: all}
  hosts:
    lone:
  children:
    web:
      hosts:
        web[1:2]:
          port: 80
        web3:2222:
      vars:
        level: web
    db:
      hosts: db1
`);
    deepStrictEqual(inv.hostNames(), ['lone', 'web1', 'web2', 'web3', 'db1']);
    deepStrictEqual(inv.toHost('web1'), { port: 80, level: 'web' });
    deepStrictEqual(inv.toHost('web3'), { ansible_port: 2222, level: 'web' });
    deepStrictEqual(inv.toHost('db1'), { level: 'all' });
    deepStrictEqual(inv.groupsOf('lone'), ['ungrouped']);
  });

  it('types scalars as YAML 1.1 (PyYAML), not YAML 1.2', function () {
    const cases: [string, unknown][] = [
      ['yes', true], ['On', true], ['off', false], ['y', 'y'], ['n', 'n'], ['0755', 493], ['0x1f', 31], ['1_000', 1000],
      ['1:30', 90], ['1.5', 1.5], ['1e3', '1e3'], ['2.5e+2', 250], ['~', null], ['', null], ['Null', null],
      ['2024-01-31', '2024-01-31'], ['2001-12-14 21:59:43.10 -5', '2001-12-14T21:59:43.100000-05:00'], ['08', '08'],
      ['.inf', Infinity], ['abc', 'abc'],
    ];
    for (const [text, value] of cases) deepStrictEqual(resolvePlainScalar(text), value, text);
  });

  it('keeps quoted scalars as strings and honours !!str, !!int and !unsafe', function () {
    const { value } = loadYaml('a: "0755"\nb: !!str 12\nc: !!int "3"\nd: !unsafe "{{ x }}"\n', 'v.yml');
    const v = value as Record<string, unknown>;
    strictEqual(v['a'], '0755');
    strictEqual(v['b'], '12');
    strictEqual(v['c'], 3);
    deepStrictEqual(yaml('g:\n  hosts:\n    h:\n      u: !unsafe "{{ x }}"\n').toHost('h'), { u: { __ansible_unsafe: '{{ x }}' } });
    deepStrictEqual(yaml('g:\n  hosts:\n    h:\n      u: !unsafe "{{ x }}"\n').hostVars('h')['u'], '{{ x }}');
  });

  it('resolves anchors, aliases and << merge keys', function () {
    const { value } = loadYaml('a: &x {k: 1, j: 2}\nb: *x\nc:\n  <<: *x\n  j: 3\n', 'v.yml');
    deepStrictEqual(value, { a: { k: 1, j: 2 }, b: { k: 1, j: 2 }, c: { k: 1, j: 3 } });
  });

  it('reads JSON first, as Ansible does (1e3 is a number there)', function () {
    deepStrictEqual(loadYaml('{"a": 1e3}', 'v.json').value, { a: 1000 });
  });

  it('warns about, and skips, unknown keys', function () {
    const warnings: string[] = [];
    yaml('g:\n  hosts: {h: }\n  extra: {a: 1}\n', warnings);
    deepStrictEqual(warnings, ['inv.yml:3: Skipping unexpected key (extra) in group (g), only "vars", "children" and "hosts" are valid']);
  });

  describe('errors name the file and line', function () {
    it('a YAML syntax error', function () {
      throws(() => yaml('all:\n  hosts: [a\n  b: 1\n'), (e: unknown) => e instanceof InventoryError && e.file === 'inv.yml' && typeof e.line === 'number' && /YAML syntax error/.test(e.message));
    });
    it('hosts: given as a list', function () {
      throws(
        () => yaml('all:\n  children:\n    web:\n      hosts:\n        - a\n'),
        (e: unknown) => e instanceof InventoryError && e.message === 'inv.yml:4: Invalid "hosts" entry for "web" group, requires a dictionary, found a list instead.',
      );
    });
    it('a host name that is a number', function () {
      throws(
        () => yaml('g:\n  hosts:\n    10:\n'),
        (e: unknown) => e instanceof InventoryError && e.message === 'inv.yml:3: Host pattern 10 must be a string. Enclose integers/floats in quotation marks.',
      );
    });
    it('a bad range', function () {
      throws(() => yaml('g:\n  hosts:\n    w[1:]:\n'), (e: unknown) => e instanceof InventoryError && e.line === 3 && /end value/.test(e.message));
    });
    it('an inventory plugin configuration', function () {
      throws(() => yaml('plugin: aws_ec2\n'), (e: unknown) => e instanceof InventoryError && /plugin configuration/.test(e.message));
    });
  });

  it('says "not an inventory" (false) for a non-mapping, so a file without extension can be read as INI', function () {
    strictEqual(parseYamlInventory('host1 a=1\n', 'inv', new InventoryData()), false);
    strictEqual(parseYamlInventory('', 'inv', new InventoryData()), false);
  });
});
