// Host key verification, authentication and reachability errors against real sshd processes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectHost, type SshTarget } from '../../../src/connection/connect.js';
import { AuthenticationError, ConnectionError } from '../../../src/errors.js';
import { freePort, sshTargetOf, startFleet, type Fleet, type FleetHost } from '../../fleet/fleet.js';

describe('SSH host keys, authentication and reachability', function () {
  this.timeout(60_000);
  let fleet: Fleet;
  let h: FleetHost;
  let work: string;

  before(async () => {
    fleet = await startFleet(2);
    h = fleet.hosts[0]!;
    work = mkdtempSync(join(tmpdir(), 'provision-hostkeys-'));
  });
  after(async () => {
    await fleet?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const target = (over: Partial<SshTarget> = {}): SshTarget => sshTargetOf(fleet, h, { connectTimeoutMs: 5000, ...over });
  const keyLine = (host: FleetHost) => `[127.0.0.1]:${host.port} ${host.hostKeyPub.split(' ').slice(0, 2).join(' ')}`;

  it('refuses an unknown host key, saying how to accept it, then records it with acceptNewHostKeys', async () => {
    const known = join(work, 'fresh', '.ssh', 'known_hosts');
    await assert.rejects(connectHost(target({ knownHostsFiles: [known] })), (err: Error) => {
      assert.ok(err instanceof AuthenticationError, String(err));
      assert.match(err.message, /--accept-new-host-keys/);
      assert.match(err.message, new RegExp(`\\[127\\.0\\.0\\.1\\]:${h.port}`));
      assert.match(err.message, /SHA256:/);
      return true;
    });
    assert.ok(!existsSync(known), 'nothing recorded without the flag');

    const c = await connectHost(target({ knownHostsFiles: [known], acceptNewHostKeys: true }));
    assert.equal((await c.exec('echo ok')).stdout, 'ok\n');
    await c.close();
    assert.equal(readFileSync(known, 'utf8'), `${keyLine(h)}\n`);
    assert.equal(statSync(known).mode & 0o777, 0o600);
    assert.equal(statSync(join(work, 'fresh', '.ssh')).mode & 0o777, 0o700);

    // Recorded: accepted from now on without the flag.
    const again = await connectHost(target({ knownHostsFiles: [known] }));
    await again.close();
    assert.equal(readFileSync(known, 'utf8').split('\n').filter(Boolean).length, 1, 'not appended twice');
  });

  it('appends an accepted key to the first named file, keeping what is there', async () => {
    const first = join(work, 'first_known_hosts');
    writeFileSync(first, 'example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFCs9GZ+6K78T6pf0W55d6vnyHu3tp7A49r15LOLVXcR'); // no final newline
    const c = await connectHost(target({ knownHostsFiles: [first, join(work, 'absent')], acceptNewHostKeys: true }));
    await c.close();
    const lines = readFileSync(first, 'utf8').split('\n');
    assert.equal(lines[0]?.startsWith('example.org '), true);
    assert.equal(lines[1], keyLine(h));
  });

  it('always refuses a changed host key, loudly, naming the file and line of the old key', async () => {
    const other = fleet.hosts[1]!;
    const known = join(work, 'changed_known_hosts');
    // The other host's key recorded under this host's name: the key this host shows is "changed".
    writeFileSync(known, `# comment\n${keyLine(other).replace(String(other.port), String(h.port))}\n`);
    const before = readFileSync(known, 'utf8');
    await assert.rejects(connectHost(target({ knownHostsFiles: [known], acceptNewHostKeys: true })), (err: Error) => {
      assert.ok(err instanceof AuthenticationError, String(err));
      assert.match(err.message, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
      assert.ok(err.message.includes(`${known}:2`), err.message);
      return true;
    });
    assert.equal(readFileSync(known, 'utf8'), before, 'never rewritten');
  });

  it('accepts keys from a hashed known_hosts file (ssh-keygen -H)', async () => {
    const hashed = join(work, 'hashed_known_hosts');
    copyFileSync(fleet.knownHostsPath, hashed);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    const c = await connectHost(target({ knownHostsFiles: [hashed] }));
    await c.close();
  });

  it('refuses a key marked @revoked', async () => {
    const known = join(work, 'revoked_known_hosts');
    writeFileSync(known, `${keyLine(h)}\n@revoked * ${h.hostKeyPub}\n`);
    await assert.rejects(connectHost(target({ knownHostsFiles: [known] })), /@revoked in .*revoked_known_hosts:2/);
  });

  it('raises AuthenticationError naming user@host:port and what was tried for a wrong key', async () => {
    const wrong = join(work, 'wrong_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
    await assert.rejects(connectHost(target({ privateKeyFile: wrong })), (err: Error) => {
      assert.ok(err instanceof AuthenticationError, String(err));
      assert.ok(err.message.includes(`root@127.0.0.1:${h.port}`), err.message);
      assert.ok(err.message.includes(`private key ${wrong}`), err.message);
      return true;
    });
    await assert.rejects(connectHost(target({ privateKeyFile: join(work, 'no-such-key') })), /cannot read the private key .*no-such-key/);
  });

  it('raises ConnectionError quickly for a port with no sshd', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(connectHost(target({ port })), (err: Error) => {
      assert.ok(err instanceof ConnectionError && !(err instanceof AuthenticationError), String(err));
      assert.match(err.message, /connection refused/);
      assert.ok(err.message.includes(`127.0.0.1:${port}`));
      return true;
    });
    assert.ok(Date.now() - started < 2000);
  });

  it('raises ConnectionError when the peer never completes the SSH handshake', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      await assert.rejects(connectHost(target({ port, connectTimeoutMs: 300 })), (err: Error) => {
        assert.ok(err instanceof ConnectionError, String(err));
        assert.match(err.message, /handshake within 300 ms/);
        return true;
      });
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('applies ~/.ssh/config where the inventory says nothing; inventory values win', async () => {
    const cfg = join(work, 'ssh_config');
    const dead = await freePort();
    writeFileSync(
      cfg,
      `Host fleet-alias\n  HostName 127.0.0.1\n  Port ${h.port}\n  User root\n  IdentityFile ${fleet.clientKeyPath}\n\nHost wrong-port\n  HostName 127.0.0.1\n  Port ${dead}\n`,
    );
    const viaAlias = await connectHost({
      host: 'web',
      address: 'fleet-alias',
      sshConfigPath: cfg,
      knownHostsFiles: [fleet.knownHostsPath],
      become: { become: false },
    });
    assert.equal((await viaAlias.exec('id -un')).stdout, 'root\n');
    await viaAlias.close();
    const inventoryWins = await connectHost(target({ address: 'wrong-port', sshConfigPath: cfg }));
    await inventoryWins.close();
  });
});
