// Privilege escalation through the CLI: a non-root login user becomes root with sudo, with and without a password.
// Needs root: it creates two users and their sudoers files on this machine (test/fleet's ensureSudoUser).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/become.ts');
const password = 'pr0v-becomes-S3cret';

describe('provision run --become (sudo as a non-root user)', function () {
  this.timeout(120_000);
  let fleet: Fleet;

  before(async function () {
    if (process.getuid?.() !== 0) throw new Error('this suite creates users: run it as root (CI does)');
    fleet = await startFleet(1, {
      users: [
        { name: 'provnopw', nopasswd: true },
        { name: 'provpw', password, nopasswd: false },
      ],
    });
  });
  after(async () => fleet?.stop());

  const run = async (user: string, extra: string[], input = '') => {
    const root = join(fleet.dir, `become-${user}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    chmodSync(root, 0o777); // the login user writes here too
    const inv = fleet.writeInventory(join(fleet.dir, `${user}.ini`), `root=${root}`);
    const invPath = join(fleet.dir, `${user}-as.ini`);
    writeFileSync(invPath, readFileSync(inv, 'utf8').replace(/ansible_user=root/g, `ansible_user=${user}`));
    const r = await runCli(['run', playbook, '-i', invPath, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(root, 'r'), ...extra], { input });
    return { r, root };
  };

  it('becomes root through passwordless sudo with --become', async () => {
    const { r, root } = await run('provnopw', ['--become']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(join(root, 'login-user'), 'utf8').trim(), 'provnopw');
    assert.equal(readFileSync(join(root, 'as-root/user'), 'utf8').trim(), 'root');
    assert.equal(statSync(join(root, 'as-root')).uid, 0);
  });

  it('sends the sudo password given to -K on stdin, and never shows it', async () => {
    const { r, root } = await run('provpw', ['--become', '-K', '-v'], `${password}\n`);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(join(root, 'as-root/user'), 'utf8').trim(), 'root');
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
  });

  it('says, before the first task, that sudo needs a password when none was given', async () => {
    const { r } = await run('provpw', ['--become']);
    assert.equal(r.code, 2);
    const host = Object.values(parseReport(r.stdout).hosts)[0]!;
    assert.equal(host.status, 'failed');
    assert.equal(host.error, `sudo on ${fleet.hosts[0]!.name} needs a password: run with -K, or set ansible_become_password`);
    assert.deepEqual(host.tasks, []);
    assert.doesNotMatch(r.stderr + r.stdout, /a password is required/);
  });

  it('fails the task, not the run, with a wrong sudo password', async () => {
    const { r } = await run('provpw', ['--become', '-K'], 'not-the-password\n');
    assert.equal(r.code, 2);
    const host = Object.values(parseReport(r.stdout).hosts)[0]!;
    assert.equal(host.status, 'failed');
    assert.ok(!r.stdout.includes('not-the-password'));
  });
});
