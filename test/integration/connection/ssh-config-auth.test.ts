// The agent as ~/.ssh/config sets it: IdentityAgent names the socket, IdentitiesOnly keeps the agent to the configured
// keys. Real sshd (test/fleet), a real ssh-agent holding the fleet's key, the CLI as a user runs it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, startFleet, type Fleet } from '../../fleet/fleet.js';
import { repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/basic.ts');

describe('IdentityAgent and IdentitiesOnly from ~/.ssh/config, through the CLI', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let agentPid: number | undefined;
  let agentSock: string;
  let otherKey: string;
  let n = 0;

  before(async () => {
    fleet = await startFleet(1);
    ({ sock: agentSock, pid: agentPid } = await startAgent(fleet.dir, fleet.clientKeyPath));
    otherKey = join(fleet.dir, 'not_authorized');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
  });
  after(async () => {
    if (agentPid) process.kill(agentPid);
    await fleet?.stop();
  });

  /** A HOME whose ~/.ssh/config is `config` (for alias `box`), an inventory with no key, a root for the files. */
  const setup = (config: string) => {
    const h = fleet.hosts[0]!;
    const dir = join(fleet.dir, `agentcase${++n}`);
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), `Host box\n  HostName 127.0.0.1\n  Port ${h.port}\n  User root\n${config}`);
    const root = join(dir, 'root');
    const inventory = join(dir, 'inventory.ini');
    writeFileSync(inventory, `${h.name} ansible_host=box root=${root}\n`);
    return { dir, home, inventory, marker: join(root, 'app/marker') };
  };
  const run = (s: ReturnType<typeof setup>, env: NodeJS.ProcessEnv = {}) =>
    runCli(['run', playbook, '-i', s.inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(s.dir, 'r')], {
      env: { HOME: s.home, SSH_AUTH_SOCK: '', ...env },
    });

  it('uses the agent IdentityAgent names (SSH_AUTH_SOCK unset)', async () => {
    const without = setup('');
    assert.equal((await run(without)).code, 4, 'logged in without the agent: the test proves nothing');
    const s = setup(`  IdentityAgent ${agentSock}\n`);
    const r = await run(s);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(s.marker));
  });

  it('uses no agent with IdentityAgent none, even with SSH_AUTH_SOCK set', async () => {
    const s = setup('  IdentityAgent none\n');
    const r = await run(s, { SSH_AUTH_SOCK: agentSock });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /no way to authenticate as root@127\.0\.0\.1/);
  });

  it('with IdentitiesOnly yes, offers only the configured keys from the agent', async () => {
    const plain = setup(`  IdentityFile ${otherKey}\n`);
    const ok = await run(plain, { SSH_AUTH_SOCK: agentSock });
    assert.equal(ok.code, 0, `without IdentitiesOnly the agent's key logs in: ${ok.stdout}${ok.stderr}`);
    const only = setup(`  IdentityFile ${otherKey}\n  IdentitiesOnly yes\n`);
    const refused = await run(only, { SSH_AUTH_SOCK: agentSock });
    assert.equal(refused.code, 4, refused.stdout + refused.stderr);
    assert.equal(existsSync(only.marker), false);
    // A configured key whose private half only the agent holds (its .pub beside the name): the agent may offer it.
    const agentOnly = join(fleet.dir, 'agent_only');
    writeFileSync(`${agentOnly}.pub`, readFileSync(`${fleet.clientKeyPath}.pub`));
    const matching = setup(`  IdentityFile ${agentOnly}\n  IdentitiesOnly yes\n`);
    const r = await run(matching, { SSH_AUTH_SOCK: agentSock });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(matching.marker, 'utf8').trim(), fleet.hosts[0]!.name);
  });
});
