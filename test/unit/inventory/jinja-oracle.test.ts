// Differential test: every variable of every host of twelve inventories that use Jinja2 reads as Ansible renders it.
// The answers are what `ansible -i INV HOST -m debug -a var=NAME` says (ansible-core 2.14), recorded by
// test/fixtures/inventory-jinja/record-ansible.mjs (the same debug action, one playbook per inventory); the last
// test asks the live ansible again for a sample.

import { deepStrictEqual, ok, throws } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../../src/inventory/index.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/inventory-jinja');
type Answer = { value: unknown } | { failed: string };
const answers = JSON.parse(readFileSync(join(FIXTURES, 'ansible-answers.json'), 'utf8')) as Record<string, Record<string, Record<string, Answer>>>;

/**
 * Where provision knowingly differs: a plain string that is no template is what the task reads, while Ansible's
 * debug prints it through `{{ name }}`, which turns the text "True" into a boolean.
 */
const KNOWN_DIFFERENCES: Record<string, unknown> = { '05-int-bool/h1/enabled_text': 'True' };

function sourceOf(dir: string): string {
  const file = readdirSync(join(FIXTURES, dir)).find((f) => /^hosts(\.yml|\.ini)$/.test(f))!;
  return join(FIXTURES, dir, file);
}

describe('inventory variables render as Ansible renders them (recorded ansible -m debug answers)', function () {
  for (const [dir, hosts] of Object.entries(answers)) {
    it(`${dir}: ${Object.values(hosts).reduce((n, v) => n + Object.keys(v).length, 0)} variables`, async function () {
      const inventory = await loadInventory([sourceOf(dir)]);
      for (const [host, vars] of Object.entries(hosts)) {
        const mine = inventory.templatedVars(host);
        for (const [name, answer] of Object.entries(vars)) {
          const where = `${dir} ${host} ${name}`;
          const known = KNOWN_DIFFERENCES[`${dir}/${host}/${name}`];
          if (known !== undefined) {
            deepStrictEqual(mine[name], known, where);
          } else if ('failed' in answer || answer.value === 'VARIABLE IS NOT DEFINED!') {
            // Ansible fails or says undefined; provision fails naming the variable and its file
            throws(() => mine[name], (err: Error) => err.message.includes(`variable "${name}"`) && err.message.includes(sourceOf(dir).replace(/hosts\.\w+$/, '')), where);
          } else {
            deepStrictEqual(mine[name], answer.value, where);
          }
        }
      }
    });
  }

  it('the recorded answers are still what the installed ansible says (a sample)', function () {
    this.timeout(60_000);
    const probe = spawnSync('ansible', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible is needed for this test: install ansible-core (apt-get install ansible-core)');
    const sample: Array<[string, string, string]> = [
      ['01-paths', 'web1.example.com', 'static_dir'],
      ['05-int-bool', 'h1', 'sum'],
      ['07-lists', 'h1', 'settings'],
      ['09-json-yaml', 'h1', 'conf_yaml'],
      ['10-hostvars', 'web1', 'db_url_seen'],
      ['14-undefined', 'h1', 'a_nested_default'],
    ];
    for (const [dir, host, name] of sample) {
      const out = execFileSync('ansible', ['-i', sourceOf(dir), host, '-m', 'debug', '-a', `var=${name}`], {
        encoding: 'utf8',
        cwd: FIXTURES,
        env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
      });
      const json = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;
      ok('value' in answers[dir]![host]![name]!);
      deepStrictEqual(json[name], (answers[dir]![host]![name] as { value: unknown }).value, `${dir} ${host} ${name}`);
    }
  });
});
