// Hosts whose login shell talks: a .bashrc that prints a banner without a newline (on stdout and stderr) and reads a
// line of stdin must not corrupt facts, copies or command output, with the persistent shell or without it; a login
// shell that refuses (nologin) is reported with its own words.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/hostile/talking-shell.ts');
const osId = /^ID=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, '');

describe('login shells that talk, through sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  const nologinUser = 'provnologin';
  const rbashUser = 'provrbash';

  before(async () => {
    fleet = await startFleet(1);
    // The fleet's sessions use this HOME: bash runs its .bashrc for commands sshd starts.
    writeFileSync(join(fleet.dir, 'home', '.bashrc'), "printf 'Welcome to vm!'\nprintf 'stderr banner' >&2\nread -r swallowed\n");
    execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', nologinUser]);
    execFileSync('usermod', ['-p', '*', nologinUser]); // a locked account takes no key either
    fleet.authorizeUser(nologinUser);
    execFileSync('useradd', ['-M', '-s', '/bin/rbash', rbashUser]);
    execFileSync('usermod', ['-p', '*', rbashUser]);
    fleet.authorizeUser(rbashUser);
  });
  after(async () => {
    await fleet?.stop();
    for (const u of [nologinUser, rbashUser]) {
      try {
        execFileSync('userdel', [u]);
      } catch {
        // not created
      }
    }
  });

  for (const mode of [[], ['--no-persistent-shell']]) {
    it(`facts, copy and command output stay exact ${mode.length ? 'without' : 'with'} the persistent shell`, async () => {
      const root = join(fleet.hosts[0]!.root, mode.length ? 'exec' : 'session');
      mkdirSync(root, { recursive: true });
      const r = await runCli(['run', playbook, '-i', fleet.writeInventory(undefined, `root=${root}`), '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'retry'), ...mode]);
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      const host = Object.values(parseReport(r.stdout).hosts)[0]!;
      const task = (name: string) => host.tasks.find((t) => t.name === name);
      assert.equal(task('os id')?.summary, `os=${osId}`);
      assert.equal(task('copy a file')?.status, 'changed');
      assert.equal(readFileSync(join(root, 'copied'), 'utf8'), 'line one\nline two\n');
      assert.equal(task('echo')?.stdout?.trimEnd(), 'hello');
      assert.doesNotMatch(JSON.stringify(host), /Welcome to vm|stderr banner/);
    });
  }

  for (const mode of [[], ['--no-persistent-shell']]) {
    it(`a nologin account is unreachable, quoting nologin ${mode.length ? 'without' : 'with'} the persistent shell`, async () => {
      const inventory = fleet.writeInventory(join(fleet.dir, 'nologin.ini'), `ansible_user=${nologinUser} root=/tmp`);
      // later ansible_user wins over the one writeInventory puts first
      const r = await runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'retry'), ...mode]);
      assert.equal(r.code, 4, r.stderr);
      const host = Object.values(parseReport(r.stdout).hosts)[0]!;
      assert.equal(host.status, 'unreachable');
      assert.match(host.error ?? '', /login shell did not (start sh|run the command).*This account is currently not available/);
    });
  }

  it('a restricted shell (rbash) that refuses the persistent shell is reported with its words', async () => {
    const inventory = fleet.writeInventory(join(fleet.dir, 'rbash.ini'), `ansible_user=${rbashUser} root=/tmp`);
    const r = await runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'retry')]);
    assert.equal(r.code, 4, r.stderr);
    const host = Object.values(parseReport(r.stdout).hosts)[0]!;
    assert.match(host.error ?? '', /the login shell did not start sh; it said: ".*rbash.*restricted/);
  });
});
