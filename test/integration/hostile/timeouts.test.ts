// Timeouts do what the flag says: a host that accepts TCP and never answers is tried once (a timeout is not
// retried), while a reset connect is still retried; counted on the server side, next to a real sshd host.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/basic.ts');

/** A TCP server on 127.0.0.1 that counts connections and either says nothing or resets them at once. */
async function tcpServer(behaviour: 'silent' | 'reset'): Promise<{ server: Server; port: number; count: () => number; sockets: Socket[] }> {
  let n = 0;
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    n++;
    sockets.push(s);
    s.on('error', () => {});
    if (behaviour === 'reset') s.resetAndDestroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, count: () => n, sockets };
}

describe('connect timeouts through the CLI', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  const servers: Array<{ server: Server; sockets: Socket[] }> = [];
  before(async () => {
    fleet = await startFleet(1);
  });
  after(async () => {
    for (const s of servers) {
      for (const sock of s.sockets) sock.destroy();
      await new Promise<void>((r) => s.server.close(() => r()));
    }
    await fleet?.stop();
  });

  it('tries a silent host once, retries a reset one, and runs the real host', async () => {
    const silent = await tcpServer('silent');
    const reset = await tcpServer('reset');
    servers.push(silent, reset);
    const h = fleet.hosts[0]!;
    const inventory = join(fleet.dir, 'timeouts.ini');
    const key = `ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath} root=${join(h.root, 'site')}`;
    writeFileSync(
      inventory,
      [
        `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ${key}`,
        `silent ansible_host=127.0.0.1 ansible_port=${silent.port} ${key}`,
        `reset ansible_host=127.0.0.1 ansible_port=${reset.port} ${key}`,
      ].join('\n') + '\n',
    );
    const r = await runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--connect-timeout', '1', '--connect-retries', '2', '--retry-file', join(fleet.dir, 'retry')]);
    assert.equal(r.code, 4, r.stderr);
    const report = parseReport(r.stdout);
    assert.equal(report.hosts[h.name]?.status, 'changed');
    assert.equal(report.hosts.silent?.status, 'unreachable');
    assert.match(report.hosts.silent?.error ?? '', /did not complete the SSH handshake within 1000 ms/);
    assert.equal(report.hosts.reset?.status, 'unreachable');
    assert.equal(silent.count(), 1, 'a timeout is not retried');
    assert.equal(reset.count(), 3, 'a reset connect is retried --connect-retries times');
  });
});
