// Ansible Vault through the CLI: files made by the local ansible-vault, compared with ansible-inventory, and a run
// on a real sshd host where the decrypted value reaches the host but never the output.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { runCli } from '../../helpers/cli.js';

describe('Ansible Vault in inventories (files made by ansible-vault)', function () {
  this.timeout(120_000);
  let work: string;
  let inv: string;
  const pw = () => join(work, 'pw');
  const script = () => join(work, 'pw.sh');

  function ansible(command: string, args: string[]): string {
    return execFileSync(command, args, { cwd: work, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  before(function () {
    const probe = spawnSync('ansible-vault', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('ansible-vault is needed for these tests: install ansible-core (apt-get install ansible-core)');
    work = mkdtempSync(join(tmpdir(), 'provision-vault-'));
    writeFileSync(pw(), 's3cret\n');
    // an executable password file is a script: its stdout is the password
    writeFileSync(script(), '#!/bin/sh\necho other-pass\n');
    chmodSync(script(), 0o755);
    inv = join(work, 'inventory');
    mkdirSync(join(inv, 'group_vars'), { recursive: true });
    const inline = ansible('ansible-vault', ['encrypt_string', '--vault-password-file', pw(), 'db-pass-123', '--name', 'db_password']);
    writeFileSync(join(inv, 'hosts.yml'), `all:\n  hosts:\n    h1:\n${inline.replace(/^/gm, '      ')}\n      db_url: "postgres://app:{{ db_password }}@db/app"\n`);
    // a whole vars file, format 1.2 with the vault id "prod"
    writeFileSync(join(inv, 'group_vars', 'all.yml'), 'api_key: k-456\nport: 99\n');
    ansible('ansible-vault', ['encrypt', '--vault-id', `prod@${script()}`, join(inv, 'group_vars', 'all.yml')]);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the files are what ansible-vault makes: an inline 1.1 value and a 1.2 file with a vault id', function () {
    assert.match(readFileSync(join(inv, 'hosts.yml'), 'utf8'), /db_password: !vault \|\n\s+\$ANSIBLE_VAULT;1\.1;AES256\n/);
    assert.match(readFileSync(join(inv, 'group_vars', 'all.yml'), 'utf8'), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  });

  it('--host equals ansible-inventory --host with --vault-password-file and --vault-id label@script', async function () {
    const args = ['-i', inv, '--host', 'h1', '--vault-password-file', pw(), '--vault-id', `prod@${script()}`];
    const r = await runCli(['inventory', ...args]);
    assert.equal(r.code, 0, r.stderr);
    const theirs: unknown = JSON.parse(ansible('ansible-inventory', args));
    assert.deepEqual(JSON.parse(r.stdout), theirs);
    assert.equal((JSON.parse(r.stdout) as Record<string, unknown>)['api_key'], 'k-456');
  });

  it('--ask-vault-pass reads the password (from stdin when it is not a terminal)', async function () {
    const r = await runCli(['inventory', '-i', inv, '--list', '--ask-vault-pass', '--vault-id', `prod@${script()}`], { input: 's3cret\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"api_key": "k-456"/);
  });

  it('a wrong password: exit 1 naming the file it cannot open, no stack trace', async function () {
    const r = await runCli(['inventory', '-i', inv, '--list', '--vault-password-file', pw()]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /group_vars\/all\.yml: vault decryption failed: .*vault id "prod"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('no password at all: exit 1 saying which options give one', async function () {
    const r = await runCli(['inventory', '-i', inv, '--list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /vault-encrypted content, but no vault password was given: use --ask-vault-pass/);
  });

  it('a failing password script: exit 1 with its stderr', async function () {
    const bad = join(work, 'bad.sh');
    writeFileSync(bad, '#!/bin/sh\necho "keyring locked" >&2\nexit 3\n');
    chmodSync(bad, 0o755);
    const r = await runCli(['inventory', '-i', inv, '--list', '--vault-id', `prod@${bad}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.sh \(vault id "prod"\) exited with code 3: keyring locked/);
  });

  describe('provision run on an sshd host', function () {
    let fleet: Fleet;
    before(async () => {
      fleet = await startFleet(1);
      const h = fleet.hosts[0]!;
      writeFileSync(
        join(inv, 'hosts.yml'),
        readFileSync(join(inv, 'hosts.yml'), 'utf8') +
          `      ansible_host: 127.0.0.1\n      ansible_port: ${h.port}\n      ansible_user: root\n      ansible_ssh_private_key_file: ${fleet.clientKeyPath}\n      root: ${h.root}\n`,
      );
      writeFileSync(
        join(work, 'site.ts'),
        `import { copy, definePlaybook } from 'provision';
export default definePlaybook({ name: 'vault', hosts: 'all', tasks: ({ vars }) => [
  copy({ dest: String(vars.root) + '/db.conf', content: String(vars.db_url) + '\\n' + String(vars.api_key) + '\\n' }),
] });
`,
      );
    });
    after(async () => fleet?.stop());

    it('the decrypted value reaches the host and is redacted in the diff and the JSON report', async function () {
      const h = fleet.hosts[0]!;
      const r = await runCli(['run', join(work, 'site.ts'), '-i', inv, '--known-hosts', fleet.knownHostsPath, '--diff', '--vault-password-file', pw(), '--vault-id', `prod@${script()}`, '--report', join(work, 'report.json')]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(readFileSync(join(h.root, 'db.conf'), 'utf8'), 'postgres://app:db-pass-123@db/app\nk-456\n');
      assert.match(r.stdout, /postgres:\/\/app:\*{8}@db\/app/);
      // a string from a whole encrypted file is a secret too
      assert.match(r.stdout, /^\+\*{8}$/m);
      assert.doesNotMatch(r.stdout + r.stderr + readFileSync(join(work, 'report.json'), 'utf8'), /db-pass-123|k-456/);
    });
  });
});
