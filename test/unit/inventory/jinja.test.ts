// What lies outside the supported Jinja2 subset fails naming the variable, its file and the construct; laziness.
import { deepStrictEqual, strictEqual, throws } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/inventory/index.js';
import { pyJson, pyRepr } from '../../../src/inventory/jinja.js';

describe('Jinja2 in inventory variables: the unsupported and the lazy', function () {
  let dir: string;
  let file: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'provision-jinja-unit-'));
    file = join(dir, 'hosts.yml');
    writeFileSync(
      file,
      `all:
  hosts:
    h1:
      ok: "{{ 'A' | lower }}"
      capitalized: "{{ 'abc' | capitalize }}"
      looked_up: "{{ lookup('pipe', 'id') }}"
      py_method: "{{ 'a,b'.split(',') }}"
      bad_syntax: "{{ 'abc' | }}"
      undefined_ref: "{{ nowhere }}"
      loop_a: "{{ loop_b }}"
      loop_b: "{{ loop_a }}"
      undefined_filter_input: "{{ nowhere | upper }}"
      unsafe: !unsafe "{{ kept as text }}"
      missing_attr: "{{ hostvars['h1'].nope }}"
      js_method: "{{ groups['all'].pop() }}"
      text_plus_number: "{{ 'port ' + 8080 }}"
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const expectError = (vars: Record<string, unknown>, name: string, construct: RegExp) =>
    throws(
      () => vars[name],
      (err: Error) => err.message.startsWith(`${file}: variable "${name}"`) && construct.test(err.message),
      `${name}`,
    );

  it('reading one variable renders only that one: the broken ones beside it do not fail it', async function () {
    const vars = (await loadInventory([file])).templatedVars('h1');
    strictEqual(vars['ok'], 'a');
    strictEqual(vars['unsafe'], '{{ kept as text }}');
  });

  it("a conditional expression's else may be another one, as in Jinja2 (kolla's cinder_coordination_backend)", async function () {
    const chained = join(dir, 'chained.yml');
    writeFileSync(
      chained,
      `all:
  hosts:
    h1:
      redis: "no"
      etcd: "yes"
      backend: "{{ 'redis' if redis|bool else 'etcd' if etcd|bool else '' }}"
      last: "{{ 1 if false else 2 if false else 3 }}"
      no_else: "{{ 'x' if false else 'y' if false }}"
      nested_body: "{{ ('a' if etcd|bool else 'b') if redis|bool else 'c' }}"
`,
    );
    const vars = (await loadInventory([chained])).templatedVars('h1');
    // values as ansible -m debug prints them (ansible-core 2.14)
    deepStrictEqual([vars['backend'], vars['last'], vars['no_else'], vars['nested_body']], ['etcd', '3', '', 'c']);
  });

  it('an unknown filter or test, or a broken variable a template names, fails it in any branch, as in Ansible', async function () {
    const eager = join(dir, 'eager.yml');
    writeFileSync(
      eager,
      `all:
  hosts:
    h1:
      ok: fine
      broken: "{{ 1 | nosuch }}"
      unknown_filter_unused: "{{ 'ok' if true else ('x' | nosuch) }}"
      unknown_test_unused: "{{ 'ok' if true else ('x' is nosuchtest) }}"
      unknown_filter_if_block: "{% if false %}{{ 'x' | nosuch }}{% endif %}ok"
      two_unknown: "{{ ok | zzz | aaa }}"
      two_in_a_list: "{{ [ok | bbb, 1 | ccc] }}"
      broken_unused: "{{ broken if false else ok }}"
      broken_under_default: "{{ ok if true else (broken | default('z')) }}"
      undefined_unused: "{{ nothere if false else ok }}"
      broken_in_empty_loop: "{% for i in [] %}{{ broken }}{% endfor %}x"
`,
    );
    const vars = (await loadInventory([eager])).templatedVars('h1');
    const fails = (name: string, re: RegExp) => throws(() => vars[name], (err: Error) => re.test(err.message), name);
    // each as ansible -m debug answers it (ansible-core 2.14, Jinja2 3.1): it fails, or gives the value below
    fails('unknown_filter_unused', /variable "unknown_filter_unused".*the filter "nosuch" is not supported/);
    fails('unknown_test_unused', /variable "unknown_test_unused".*the test "nosuchtest" is not supported/);
    fails('unknown_filter_if_block', /the filter "nosuch" is not supported/);
    // Jinja2 looks the filters up innermost first: Ansible names the first one it cannot load
    fails('two_unknown', /the filter "zzz" is not supported/);
    fails('two_in_a_list', /the filter "bbb" is not supported/);
    fails('broken_unused', /variable "broken".*the filter "nosuch" is not supported/);
    fails('broken_under_default', /variable "broken".*the filter "nosuch" is not supported/);
    deepStrictEqual([vars['undefined_unused'], vars['broken_in_empty_loop']], ['fine', 'x']);
  });

  it('an unsupported filter, a pipe lookup not allowed, a Python method, a syntax error, an undefined name and a loop each name the construct', async function () {
    const vars = (await loadInventory([file])).templatedVars('h1');
    expectError(vars, 'capitalized', /the filter "capitalize" is not supported/);
    expectError(vars, 'looked_up', /refused unless the run allows it \(--allow-pipe-lookup/);
    expectError(vars, 'py_method', /calling ".*split.*" is not supported .*Python's methods are not/);
    expectError(vars, 'bad_syntax', /template syntax error/);
    expectError(vars, 'undefined_ref', /'nowhere' is undefined/);
    expectError(vars, 'undefined_filter_input', /'nowhere' is undefined/);
    expectError(vars, 'loop_a', /recursive loop detected/);
    expectError(vars, 'missing_attr', /'dict object' has no attribute 'nope'/);
    expectError(vars, 'js_method', /calling "groups\["all"\]\["pop"\]" is not supported|calling ".*pop.*" is not supported/);
    expectError(vars, 'text_plus_number', /unsupported operand types for \+: 'str' and 'int'/);
    deepStrictEqual(vars['groups'], { all: ['h1'], ungrouped: ['h1'] });
  });

  it('an undefined name in a condition, a filter, a comparison or a loop names itself; default() is lazy', async function () {
    const undef = join(dir, 'undefined.yml');
    writeFileSync(
      undef,
      `all:
  hosts:
    h1:
      internal_protocol: "{{ 'https' if enable_tls else 'http' }}"
      branch: "{% if enable_x %}y{% endif %}"
      flag: "{{ enable_y | bool }}"
      compared: "{{ port == 80 }}"
      looped: "{% for i in items %}{{ i }}{% endfor %}"
      extra_broken: "{{ extra_undefined }}"
      unused_default: "{{ 'given' | default(nowhere.at_all) }}"
      nested_default: "{{ extra_broken | default('fallback') }}"
`,
    );
    const vars = (await loadInventory([undef])).templatedVars('h1');
    for (const [name, missing] of [['internal_protocol', 'enable_tls'], ['branch', 'enable_x'], ['flag', 'enable_y'], ['compared', 'port'], ['looped', 'items']]) {
      throws(() => vars[name!], (err: Error) => err.message.startsWith(`${undef}: variable "${name}"`) && err.message.includes(`'${missing}' is undefined`), name);
    }
    strictEqual(vars['unused_default'], 'given');
    strictEqual(vars['nested_default'], 'fallback');
    throws(() => vars['extra_broken'], /'extra_undefined' is undefined/);
  });

  it('an extra var overrides an inventory variable and is rendered too, naming -e as its origin when broken', async function () {
    const inventory = await loadInventory([file]);
    const vars = inventory.templatedVars('h1', { ok: '{{ "x" | upper }}', bad: '{{ nothing }}' });
    strictEqual(vars['ok'], 'X');
    // play vars are not in hostvars (extra vars are), as in Ansible
    const withPlay = inventory.templatedVars('h1', { ok: 'play', extra: 'e' }, () => 'play', { extra: 'e' });
    strictEqual(withPlay['ok'], 'play');
    strictEqual((withPlay['hostvars'] as Record<string, Record<string, unknown>>)['h1']!['ok'], 'a');
    strictEqual((withPlay['hostvars'] as Record<string, Record<string, unknown>>)['h1']!['extra'], 'e');
    throws(() => vars['bad'], /^TemplateVarError: extra vars: variable "bad": .*'nothing' is undefined/);
  });

  it("Python's repr and json.dumps forms", function () {
    strictEqual(pyRepr(['a', "it's", 1, true, null, { k: 'v' }]), `['a', "it's", 1, True, None, {'k': 'v'}]`);
    strictEqual(pyJson({ a: 'café', b: [1, false, null] }), '{"a": "caf\\u00e9", "b": [1, false, null]}');
    deepStrictEqual(JSON.parse(pyJson({ x: '\n"' })), { x: '\n"' });
  });
});
