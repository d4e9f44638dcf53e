// ansible.cfg: found where ansible finds it (compared with `ansible --version`), its keys used by provision run
// against a real sshd host, host_key_checking = False refused, ssh_args the lowest default of ansible_ssh_args.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findAnsibleConfig } from '../../../src/config/ansible-cfg.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { runCli } from '../../helpers/cli.js';

const PLAYBOOK = `import { copy, definePlaybook } from 'provision';
export default definePlaybook({ name: 'cfg', hosts: 'all', tasks: ({ vars }) => [
  copy({ dest: String(vars.root) + '/ssh_args.txt', content: String(vars.ansible_ssh_args) + '\\n' }),
] });
`;

describe('ansible.cfg', function () {
  this.timeout(120_000);
  let work: string;
  let fleet: Fleet;

  before(async function () {
    const probe = spawnSync('ansible', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible is needed for these tests: install ansible-core (apt-get install ansible-core)');
    work = mkdtempSync(join(tmpdir(), 'provision-cfg-'));
    chmodSync(work, 0o755);
    fleet = await startFleet(1);
  });
  after(async () => {
    await fleet?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is found where ansible finds it: ANSIBLE_CONFIG, then ./ansible.cfg, then ~/.ansible.cfg', function () {
    const home = join(work, 'home');
    const cwd = join(work, 'project');
    const other = join(work, 'other');
    for (const d of [home, cwd, other]) mkdirSync(d, { recursive: true });
    const ansibleSays = (env: NodeJS.ProcessEnv): string | undefined => {
      const out = execFileSync('ansible', ['--version'], { cwd, encoding: 'utf8', env: { ...process.env, ...env, HOME: home } });
      const m = /config file = (.*)/.exec(out);
      return m && m[1] !== 'None' ? m[1] : undefined;
    };
    const cases: Array<[string, () => void, NodeJS.ProcessEnv]> = [
      ['none anywhere', () => {}, {}],
      ['~/.ansible.cfg only', () => writeFileSync(join(home, '.ansible.cfg'), '[defaults]\n'), {}],
      ['./ansible.cfg beats ~/.ansible.cfg', () => writeFileSync(join(cwd, 'ansible.cfg'), '[defaults]\n'), {}],
      ['ANSIBLE_CONFIG (a file) beats both', () => writeFileSync(join(other, 'my.cfg'), '[defaults]\n'), { ANSIBLE_CONFIG: join(other, 'my.cfg') }],
      ['ANSIBLE_CONFIG naming a folder means its ansible.cfg', () => writeFileSync(join(other, 'ansible.cfg'), '[defaults]\n'), { ANSIBLE_CONFIG: other }],
    ];
    for (const [name, setup, env] of cases) {
      setup();
      assert.equal(findAnsibleConfig({ ...env }, cwd, home), ansibleSays(env), name);
    }
  });

  it('provision run takes inventory, remote_user, private_key_file and ssh_args from it, and -v names the file', async function () {
    const h = fleet.hosts[0]!;
    const dir = join(work, 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hosts.ini'), `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} root=${h.root}\n`);
    writeFileSync(join(dir, 'site.ts'), PLAYBOOK);
    writeFileSync(
      join(dir, 'ansible.cfg'),
      `[defaults]\ninventory = hosts.ini\nremote_user = root\nprivate_key_file = ${fleet.clientKeyPath}\nforks = 3\ntimeout = 5\n; a comment\nretry_files_enabled = False\n\n[ssh_connection]\nssh_args = -o ControlMaster=auto -o ControlPersist=60s\n`,
    );
    const r = await runCli(['run', 'site.ts', '--known-hosts', fleet.knownHostsPath, '-v'], { cwd: dir, env: { ...process.env, HOME: join(work, 'home-empty') } });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, new RegExp(`using config file ${join(dir, 'ansible.cfg').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // what provision does not use is said, not skipped in silence
    assert.match(r.stderr, /not used by provision: \[defaults\] retry_files_enabled/);
    assert.equal(readFileSync(join(h.root, 'ssh_args.txt'), 'utf8'), '-o ControlMaster=auto -o ControlPersist=60s\n');

    // the inventory's own ansible_ssh_args wins over ansible.cfg's
    writeFileSync(join(dir, 'hosts.ini'), `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} root=${h.root} ansible_ssh_args="-o Compression=yes"\n`);
    const again = await runCli(['run', 'site.ts', '--known-hosts', fleet.knownHostsPath], { cwd: dir, env: { ...process.env, HOME: join(work, 'home-empty') } });
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(readFileSync(join(h.root, 'ssh_args.txt'), 'utf8'), '-o Compression=yes\n');
  });

  it('host_key_checking = False is refused with an explanation (exit 1)', async function () {
    const dir = join(work, 'hkc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nhost_key_checking = False\n');
    writeFileSync(join(dir, 'hosts.ini'), 'h1\n');
    const r = await runCli(['inventory', '-i', 'hosts.ini', '--list'], { cwd: dir, env: { ...process.env, HOME: join(work, 'home-empty') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ansible\.cfg: host_key_checking = False: provision always verifies host keys.*--accept-new-host-keys/);
  });

  it("an ./ansible.cfg in a world-writable folder is ignored with Ansible's warning, where and as Ansible gives it", async function () {
    const dir = join(work, 'open');
    const other = join(work, 'open-other');
    mkdirSync(dir);
    mkdirSync(other);
    chmodSync(dir, 0o777); // after mkdir: the umask would clear the bits
    writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nforks = 3\n');
    writeFileSync(join(dir, 'hosts.ini'), 'h1\n');
    writeFileSync(join(other, 'my.cfg'), '[defaults]\n');
    const home = join(work, 'home-empty');
    const sentence = /(Ansible is being run in a world writable directory \(.*?\), ignoring it as an ansible\.cfg source\. For more information see \S+)/;
    const warningOf = (text: string) => sentence.exec(text.replace(/-\n/g, '-').replace(/\s*\n\s*/g, ' '))?.[1]; // ansible wraps at 80
    for (const env of [{}, { ANSIBLE_CONFIG: join(other, 'my.cfg') }, { ANSIBLE_CONFIG: join(other, 'missing.cfg') }, { ANSIBLE_CONFIG: join(dir, 'ansible.cfg') }]) {
      const ansible = spawnSync('ansible', ['--version'], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env, HOME: home, ANSIBLE_NOCOLOR: '1' } });
      const r = await runCli(['inventory', '-i', 'hosts.ini', '--list'], { cwd: dir, env: { ...process.env, ...env, HOME: home } });
      assert.equal(r.code, 0, r.stderr);
      const ours = warningOf(r.stderr);
      assert.equal(ours, warningOf(ansible.stderr), JSON.stringify(env));
      if (ours) assert.match(r.stderr, /^provision: warning: Ansible is being run in a world writable directory/m);
    }
    assert.ok(warningOf((await runCli(['inventory', '-i', 'hosts.ini', '--list'], { cwd: dir, env: { ...process.env, HOME: home } })).stderr), 'warned without ANSIBLE_CONFIG');
  });
});
