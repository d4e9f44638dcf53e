// waitFor through a real sshd host: a port the test opens and closes, a file the test writes while the host waits.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { MissingOnHostError } from '../../../src/errors.js';
import { waitFor, type WaitForParams } from '../../../src/modules/wait-for.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { ansibleSteps, ourSteps } from '../../helpers/ansible-steps.js';
import { freePort, sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';

describe('waitFor through sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  let server: Server;
  let port: number;

  const ctxFor = (checkMode: boolean, earlierChangesPlanned = false) =>
    createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root, earlierChangesPlanned });
  const run = (t: Task) => t.check(ctxFor(false));

  before(async () => {
    // a client that resets the connection (Ansible's wait_for closes as soon as it has read) is no error of the test's
    server = createServer((s) => s.on('error', () => {}).end('SSH-2.0-banner ready\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
    root = join(fleet.hosts[0]!.root, 'wait');
    mkdirSync(root, { recursive: true });
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('an open port (and what it sends), a closed one as stopped; never a change', async () => {
    const open = await run(waitFor({ port, searchRegex: 'banner \\w+' }));
    assert.equal(open.changed, false);
    assert.equal(open.summary, `127.0.0.1:${port}: open, search_regex matched`);
    const closed = await freePort();
    assert.equal((await run(waitFor({ port: closed, state: 'stopped' }))).changed, false);
    await assert.rejects(run(waitFor({ port: closed, timeout: 2 })), /^ProvisionError: Timeout when waiting for 127\.0\.0\.1:\d+ open \(after 2 s: closed/);
  });

  it('waits for a file written while it waits, and its content', async () => {
    const path = join(root, 'ready');
    const waiting = run(waitFor({ path, searchRegex: '^done$', timeout: 60 }));
    setTimeout(() => writeFileSync(path, 'starting\n'), 200);
    setTimeout(() => writeFileSync(path, 'starting\ndone\n'), 1200);
    assert.equal((await waiting).summary, `${path}: present, search_regex matched`);
    assert.equal((await run(waitFor({ path: join(root, 'never'), state: 'absent' }))).changed, false);
  });

  it('--check never waits: converged it looks once; after a planned change it is predicted', async () => {
    const closed = await freePort();
    const t = waitFor({ port: closed, timeout: 300 });
    // a closed port with nothing planned before: the run would wait and fail; --check says so at once
    await assert.rejects(t.check(ctxFor(true)), /--check looks once and does not wait/);
    await assert.rejects(t.check(ctxFor(true, true)), (err: unknown) => err instanceof MissingOnHostError && /--check does not wait/.test(err.message));
    assert.equal((await waitFor({ port }).check(ctxFor(true))).changed, false);
    assert.throws(() => waitFor({ port, path: '/x' }), /exactly one of port or path/);
  });

  it('agrees with Ansible wait_for on changed and failed per step', async () => {
    const closed = await freePort();
    const file = join(root, 'there');
    writeFileSync(file, 'version=2\n');
    const steps: WaitForParams[] = [
      { port },
      { port, searchRegex: 'ready' },
      { port: closed, state: 'stopped' },
      { port: closed, timeout: 2 },
      { path: file, searchRegex: 'version=\\d' },
      { path: file, searchRegex: 'version=3', timeout: 2 },
      { path: join(root, 'none'), state: 'absent' },
    ];
    const mine = await ourSteps(steps, (s) => run(waitFor(s)));
    const ansible = await ansibleSteps(fleet, fleet.hosts[0]!, steps.map(({ searchRegex, ...s }) => ({ wait_for: { ...s, search_regex: searchRegex } })));
    assert.deepEqual(mine, ansible.map(({ changed, failed }) => ({ changed, failed })));
  });
});
