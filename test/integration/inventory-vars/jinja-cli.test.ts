// Jinja2 in inventory variables through the CLI, against real sshd hosts: rendered when a task reads them, with
// group_vars/ beside the playbook winning over the inventory's, and a broken variable failing only the task that reads it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, runCli } from '../../helpers/cli.js';

const PLAYBOOK = `import { copy, definePlaybook, file } from 'provision';
export default definePlaybook({
  name: 'jinja vars',
  hosts: 'web',
  tasks: ({ vars }) => [
    file({ path: String(vars.app_dir), state: 'directory' }),
    copy({ dest: String(vars.app_dir) + '/settings.txt', content: [vars.app_dir, vars.port, vars.db_primary, vars.release, vars.slug].map(String).join('\\n') + '\\n' }),
    ...(vars.read_broken === true ? [copy({ dest: String(vars.app_dir) + '/broken.txt', content: String(vars.broken) })] : []),
  ],
});
`;

describe('Jinja2 inventory variables through provision run (2 sshd hosts)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let work: string;

  before(async () => {
    fleet = await startFleet(2);
    work = mkdtempSync(join(tmpdir(), 'provision-jinja-'));
    const hosts = fleet.hosts
      .map((h) => `    ${h.name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      root: ${h.root}\n`)
      .join('');
    mkdirSync(join(work, 'inventory'));
    writeFileSync(
      join(work, 'inventory', 'hosts.yml'),
      `all:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: ${fleet.clientKeyPath}
    app_dir: "{{ root }}/{{ inventory_hostname | lower }}"
    port: "{{ http_port | default(8080) }}"
    db_primary: "{{ groups['db'][0] }}"
    release: "1.0"
    slug: "{{ 'My-Site' | lower | replace('-', '_') }}"
    broken: "{{ undefined_thing }}/x"
  children:
    web:
      hosts:
${hosts.replace(/^/gm, '    ').trimEnd()}
    db:
      hosts:
        db1:
          ansible_connection: local
`,
    );
    mkdirSync(join(work, 'play', 'group_vars'), { recursive: true });
    writeFileSync(join(work, 'play', 'site.ts'), PLAYBOOK);
    // beside the playbook: wins over the inventory's all: vars
    writeFileSync(join(work, 'play', 'group_vars', 'web.yml'), 'release: "2.{{ 0 + 1 }}"\n');
  });
  after(async () => {
    await fleet?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const base = () => ['run', join(work, 'play', 'site.ts'), '-i', join(work, 'inventory'), '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(work, 'site.retry')];

  it('renders what tasks read; an undefined variable no task reads does not fail the run', async () => {
    const r = await runCli(base());
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(parseReport(r.stdout).summary.changed, 4);
    for (const h of fleet.hosts) {
      const text = readFileSync(join(h.root, h.name.toLowerCase(), 'settings.txt'), 'utf8');
      assert.equal(text, `${h.root}/${h.name.toLowerCase()}\n8080\ndb1\n2.1\nmy_site\n`);
    }
  });

  it('a task that reads a variable with an undefined name fails, naming the variable, its file and the name', async () => {
    const r = await runCli([...base(), '-e', 'read_broken=true', '-e', '{"read_broken": true}']);
    assert.notEqual(r.code, 0);
    const all = `${r.stdout}\n${r.stderr}`;
    assert.match(all, /hosts\.yml: variable "broken": "\{\{ undefined_thing \}\}\/x": 'undefined_thing' is undefined/);
  });
});
