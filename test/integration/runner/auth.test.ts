// Authentication the way users have it: a password from the inventory, or a key held by ssh-agent.
// Needs root: it creates a user with a password on this machine (test/fleet's ensureSudoUser).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/basic.ts');
const password = 'pr0v-auth-Passw0rd';

describe('SSH authentication through the CLI: password, ssh-agent', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let home: string;
  let agentPid: number | undefined;
  let agentSock: string;

  before(async function () {
    if (process.getuid?.() !== 0) throw new Error('this suite creates a user: run it as root (CI does)');
    fleet = await startFleet(1, { users: [{ name: 'provauth', password, nopasswd: false }] });
    home = join(fleet.dir, 'empty-home'); // no ~/.ssh keys to fall back on
    mkdirSync(home);
    ({ sock: agentSock, pid: agentPid } = await startAgent(fleet.dir, fleet.clientKeyPath));
  });
  after(async () => {
    if (agentPid) process.kill(agentPid);
    await fleet?.stop();
  });

  const inventory = (name: string, line: string) => {
    const h = fleet.hosts[0]!;
    const root = join(fleet.dir, `auth-${name}`);
    mkdirSync(root, { recursive: true });
    chmodSync(root, 0o777); // the non-root login user writes here
    const path = join(fleet.dir, `${name}.ini`);
    writeFileSync(path, `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ${line} root=${root}\n`);
    return { path, root };
  };
  const run = (inv: string, env: NodeJS.ProcessEnv = {}) =>
    runCli(['run', playbook, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'r')], {
      env: { HOME: home, SSH_AUTH_SOCK: '', ...env },
    });

  it('logs in with ansible_password and never shows it', async () => {
    const { path, root } = inventory('password', `ansible_user=provauth ansible_password=${password}`);
    const r = await run(path);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(join(root, 'app/marker')));
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
  });

  it('refuses a wrong password as an authentication failure naming user, host and port', async () => {
    const { path } = inventory('wrong', 'ansible_user=provauth ansible_password=not-it');
    const r = await run(path);
    assert.equal(r.code, 4);
    const host = Object.values(parseReport(r.stdout).hosts)[0]!;
    assert.equal(host.status, 'unreachable');
    assert.match(host.error ?? '', new RegExp(`provauth@127\\.0\\.0\\.1:${fleet.hosts[0]!.port}`));
  });

  it('uses the key that ssh-agent holds when the inventory names none', async () => {
    const { path, root } = inventory('agent', 'ansible_user=root');
    const without = await run(path);
    assert.equal(without.code, 4, 'logged in without the agent: the test proves nothing');
    const r = await run(path, { SSH_AUTH_SOCK: agentSock });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(root, 'app/marker'), 'utf8'), `${fleet.hosts[0]!.name}\n`);
  });
});
