// Differential test on 11 real inventories from 8 public repositories (test/fixtures/real-inventories/SOURCES.md):
// the structure is what ansible-inventory prints, and every variable of every host reads as Ansible 2.14 renders
// it (recorded `debug: var=NAME` answers, test/fixtures/inventory-jinja/record-ansible.mjs), or fails where
// Ansible fails; the only exceptions are the differences the README's "Ansible differences" names, listed here.

import { deepStrictEqual, ok, strictEqual } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../../src/inventory/index.js';
import { runCli } from '../../helpers/cli.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/real-inventories');
type Answer = { value: unknown } | { failed: string };
const answers = JSON.parse(readFileSync(join(FIXTURES, 'ansible-answers.json'), 'utf8')) as Record<string, Record<string, Record<string, Answer>>>;

/**
 * Where provision knowingly gives another value, each a difference the README names (its "Ansible differences"
 * list), on every host of the folder: what provision gives. Anything else that differs fails the test, and so
 * does a listed difference that no longer differs.
 */
const KNOWN_DIFFERENCES: Array<{ dir: string; name: string; mine: unknown; why: string }> = [
  // "a plain string that holds no template (`x: "True"`) is read as written, where Ansible's `debug` prints `true`"
  ...['10-kolla-multinode', '11-kolla-all-in-one'].flatMap((dir) => [
    { dir, name: 'openstack_logging_debug', mine: 'False', why: 'a plain string "False" is read as written' },
    { dir, name: 'vmware_vcenter_insecure', mine: 'True', why: 'a plain string "True" is read as written' },
  ]),
];

/** The inventory of a folder: the one file beside its group_vars/. */
function sourceOf(dir: string): string {
  const files = readdirSync(join(FIXTURES, dir)).filter((f) => statSync(join(FIXTURES, dir, f)).isFile());
  strictEqual(files.length, 1, `${dir} holds one inventory file`);
  return join(FIXTURES, dir, files[0]!);
}

/** What provision makes of one variable, in the answers' shape. */
function mine(vars: Record<string, unknown>, name: string): Answer {
  try {
    return { value: JSON.parse(JSON.stringify(vars[name] ?? null)) as unknown };
  } catch (err) {
    return { failed: (err as Error).message };
  }
}

/** Ansible's answer as provision must give it: a failure or an undefined variable is a failure. */
function expected(answer: Answer): Answer | 'fails' {
  if ('failed' in answer || answer.value === 'VARIABLE IS NOT DEFINED!') return 'fails';
  return answer;
}

function ansible(cwd: string, command: string, args: string[]): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
}

describe('11 real inventories read as Ansible reads them', function () {
  this.timeout(120_000);
  let cwd: string;
  let user: string | undefined;

  before(function () {
    const probe = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible-inventory is needed for these tests: install ansible-core (apt-get install ansible-core)');
    cwd = mkdtempSync(join(tmpdir(), 'provision-real-inv-'));
    // mitogen's inventory reads lookup('env', 'USER'); the answers were recorded with this value
    user = process.env['USER'];
    process.env['USER'] = 'provision-test';
  });

  after(function () {
    if (cwd) rmSync(cwd, { recursive: true, force: true });
    if (user === undefined) delete process.env['USER'];
    else process.env['USER'] = user;
  });

  const dirs = Object.keys(answers);
  it('the fixtures are the 11 inventories, each with its answers', function () {
    deepStrictEqual(readdirSync(FIXTURES).filter((d) => /^\d\d-/.test(d)).sort(), dirs);
    strictEqual(dirs.length, 11);
  });

  for (const dir of dirs) {
    describe(dir, function () {
      it('provision inventory --list and --graph print what ansible-inventory prints', async function () {
        const list = await runCli(['inventory', '-i', sourceOf(dir), '--list']);
        strictEqual(list.code, 0, list.stderr);
        deepStrictEqual(JSON.parse(list.stdout), JSON.parse(ansible(cwd, 'ansible-inventory', ['-i', sourceOf(dir), '--list'])));
        const graph = await runCli(['inventory', '-i', sourceOf(dir), '--graph']);
        strictEqual(graph.code, 0, graph.stderr);
        strictEqual(graph.stdout.trim(), ansible(cwd, 'ansible-inventory', ['-i', sourceOf(dir), '--graph']).trim());
      });

      const count = Object.values(answers[dir]!).reduce((n, v) => n + Object.keys(v).length, 0);
      it(`${count} variables as Ansible renders them, except the listed differences`, async function () {
        const inventory = await loadInventory([sourceOf(dir)]);
        const differences: Record<string, string> = {};
        let agree = 0;
        for (const [host, vars] of Object.entries(answers[dir]!)) {
          const rendered = inventory.templatedVars(host);
          for (const [name, answer] of Object.entries(vars)) {
            const got = mine(rendered, name);
            const want = expected(answer);
            // a failure names the variable it meets (this one or one it reads) and the file that variable came from
            // a failure names the variable it meets (this one or one it reads) and the file that variable came from,
            // and a filter Ansible could not load is the one provision names
            const unloaded = 'failed' in answer ? /Could not load "(\w+)"/.exec(answer.failed)?.[1] : undefined;
            const same = want === 'fails'
              ? 'failed' in got && /variable "\w+"/.test(got.failed) && got.failed.includes(join(FIXTURES, dir)) &&
                (unloaded === undefined || got.failed.includes(`the filter "${unloaded}" is not supported`))
              : JSON.stringify(got) === JSON.stringify(want) || isDeepEqual(got, want);
            if (same) agree++;
            else differences[`${dir} ${host} ${name}`] = `provision ${JSON.stringify(got)}, ansible ${JSON.stringify(answer)}`;
          }
        }
        const known: Record<string, string> = {};
        for (const k of KNOWN_DIFFERENCES.filter((d) => d.dir === dir)) {
          for (const host of Object.keys(answers[dir]!)) {
            const key = `${dir} ${host} ${k.name}`;
            known[key] = differences[key] ?? '';
            // the difference is exactly the one named: provision's value is the one listed
            if (differences[key]) deepStrictEqual(mine(inventory.templatedVars(host), k.name), { value: k.mine }, `${key}: ${k.why}`);
          }
        }
        deepStrictEqual(
          Object.keys(differences).sort(),
          Object.keys(known).sort(),
          `${agree}/${count} agree, ${Object.keys(known).length} listed differences; differences:\n${Object.entries(differences).map(([k, v]) => `${k}: ${v}`).join('\n')}`,
        );
      });
    });
  }

  it('a failure names the variable and the file it came from', async function () {
    // kolla's internal_protocol reads kolla_enable_tls_internal | bool: defined; api_interface_address uses
    // kolla's own filter, which neither tool has
    const inventory = await loadInventory([sourceOf('10-kolla-multinode')]);
    const vars = inventory.templatedVars('control01');
    strictEqual(vars['internal_protocol'], 'http');
    const failure = mine(vars, 'api_interface_address');
    ok('failed' in failure && failure.failed.includes('kolla_address') && failure.failed.includes(join('10-kolla-multinode', 'group_vars', 'all.yml')), JSON.stringify(failure));
  });

  it('the recorded answers are still what the installed ansible says (a sample)', function () {
    const sample: Array<[string, string, string]> = [
      ['03-k3s-techno-tim', '192.168.32.105', 'extra_server_args'],
      ['08-securedrop-staging', 'app-staging', 'tor_instances'],
      ['10-kolla-multinode', 'control01', 'keystone_admin_url'],
    ];
    for (const [dir, host, name] of sample) {
      const run = spawnSync('ansible', ['-i', sourceOf(dir), host, '-m', 'debug', '-a', `var=${name}`], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
      });
      const m = /^\S+ \| (SUCCESS|FAILED!) => (\{[\s\S]*\})\s*$/m.exec(run.stdout);
      ok(m, `${dir} ${host} ${name}: ${run.stdout}${run.stderr}`);
      const out = JSON.parse(m[2]!) as Record<string, unknown>;
      const recorded = answers[dir]![host]![name]!;
      if (m[1] === 'SUCCESS') deepStrictEqual({ value: out[name] }, recorded, `${dir} ${host} ${name}`);
      else ok('failed' in recorded, `${dir} ${host} ${name}: ansible now fails`);
    }
  });
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
