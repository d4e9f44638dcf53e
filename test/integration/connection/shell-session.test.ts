// The persistent-shell mode's own edge cases: commands cannot break the session or read its input.
import assert from 'node:assert/strict';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';

describe('SshConnection persistent shell (real sshd)', function () {
  this.timeout(60_000);
  let fleet: Fleet;
  let conn: Connection;

  before(async () => {
    fleet = await startFleet(1);
    const h = fleet.hosts[0]!;
    conn = await connectHost(sshTargetOf(fleet, h, { persistentShell: true }));
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
  });

  it('keeps exit, cd, variables and syntax errors inside each command', async () => {
    assert.equal((await conn.exec('exit 5')).code, 5);
    assert.equal((await conn.exec('cd /; X=1; set -e; false')).code, 1);
    const syntax = await conn.exec('if then fi (');
    assert.notEqual(syntax.code, 0);
    const r = await conn.exec('pwd; echo "[$X]"');
    assert.equal(r.code, 0);
    assert.notEqual(r.stdout.split('\n')[0], '/');
    assert.match(r.stdout, /\[\]\n$/);
  });

  it('gives a command without stdin an empty stdin, never the session input', async () => {
    const r = await conn.exec('cat; echo after');
    assert.deepEqual(r, { code: 0, stdout: 'after\n', stderr: '' });
  });

  it('frames output that does not end with a newline, on both streams', async () => {
    const r = await conn.exec("printf 'out'; printf 'err' >&2");
    assert.deepEqual(r, { code: 0, stdout: 'out', stderr: 'err' });
  });

  it('runs concurrent calls one after another on the one session', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => conn.exec(['echo', String(i)])));
    assert.deepEqual(
      results.map((r) => r.stdout),
      Array.from({ length: 30 }, (_, i) => `${i}\n`),
    );
  });

  it('sends a large stdin through its own channel', async () => {
    const before = conn.stats.channels;
    const big = Buffer.alloc(1024 * 1024, 'z');
    const r = await conn.exec('wc -c', { stdin: big });
    assert.equal(r.stdout.trim(), String(big.length));
    assert.equal(conn.stats.channels - before, 1);
  });

  it('goes on after a command that overran its timeout', async () => {
    // A command that ignores TERM survives `timeout` until its KILL; the session still answers afterwards.
    const r = await conn.exec("trap '' TERM; sleep 3", { timeoutMs: 200 });
    assert.equal(r.code, 124);
    assert.equal((await conn.exec('echo still here')).stdout, 'still here\n');
  });
});
