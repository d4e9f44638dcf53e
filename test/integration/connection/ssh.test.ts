// SshConnection against real sshd processes: commands, stdin, files, quoting, timeouts and a host that goes down.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { CommandError, ConnectionError } from '../../../src/errors.js';
import { sshTargetOf, startFleet, type Fleet, type FleetHost } from '../../fleet/fleet.js';

function connectTo(fleet: Fleet, h: FleetHost, persistentShell: boolean): Promise<Connection> {
  return connectHost(sshTargetOf(fleet, h, { persistentShell }));
}

for (const persistentShell of [false, true]) {
  describe(`SshConnection (real sshd on loopback, ${persistentShell ? 'persistent shell' : 'exec channel per command'})`, function () {
    this.timeout(60_000);
    let fleet: Fleet;
    let conn: Connection;
    let root: string;

    before(async () => {
      fleet = await startFleet(2);
      root = fleet.hosts[0]!.root;
      conn = await connectTo(fleet, fleet.hosts[0]!, persistentShell);
    });
    after(async () => {
      await conn?.close();
      await fleet?.stop();
    });

    it('runs commands with stdin and reports exit codes without throwing', async () => {
      const r = await conn.exec('read a; read b; echo "$b-$a"; echo err >&2; exit 7', { stdin: 'one\ntwo\n' });
      assert.deepEqual(r, { code: 7, stdout: 'two-one\n', stderr: 'err\n' });
      assert.equal((await conn.exec(['true'])).code, 0);
      const missing = await conn.exec(['no-such-command-here']);
      assert.equal(missing.code, 127);
    });

    it('runs in a clean home, not root’s own dotfiles', async () => {
      const r = await conn.exec('echo "$HOME"');
      assert.equal(r.stdout.trim(), join(fleet.dir, 'home'));
    });

    it('passes values with spaces, quotes, $(), backticks, newlines and non-ASCII literally', async () => {
      const nasty = ["it's \"quoted\"", '$(touch pwned) `touch pwned2` $HOME', 'line1\nline2', 'naïve — 日本語', ' lead and trail ', '*', ''];
      const r = await conn.exec(['printf', '[%s]\\n', ...nasty], { cwd: root });
      assert.equal(r.stdout, nasty.map((v) => `[${v}]\n`).join(''));
      const env = await conn.exec('printf %s "$V"', { env: { V: nasty.join('|') } });
      assert.equal(env.stdout, nasty.join('|'));
      assert.ok(!existsSync(join(root, 'pwned')) && !existsSync(join(root, 'pwned2')));
      const dir = join(root, "a dir with 'quotes' and $x");
      await conn.exec(['mkdir', '-p', dir]);
      assert.equal((await conn.exec('pwd', { cwd: dir })).stdout.trim(), dir);
    });

    it('round-trips binary content exactly (no trimming, no encoding)', async () => {
      const bytes = Buffer.concat([Buffer.from([0, 255, 10, 13, 0]), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\n\n\n')]);
      const path = join(root, 'binary file \n with newline.bin');
      await conn.writeFile(path, bytes);
      assert.ok(readFileSync(path).equals(bytes));
      const back = await conn.readFile(path);
      assert.ok(back?.equals(bytes));
      assert.equal(await conn.readFile(join(root, 'does-not-exist')), null);
      const big = Buffer.alloc(3 * 1024 * 1024, 'x');
      await conn.writeFile(join(root, 'big'), big);
      assert.equal((await conn.readFile(join(root, 'big')))?.length, big.length);
    });

    it('writes atomically: mode set, no temporary files left, a failed validate keeps the old file', async () => {
      const dir = join(root, 'atomic');
      await conn.exec(['mkdir', '-p', dir]);
      const path = join(dir, 'app.conf');
      await conn.writeFile(path, 'good=1\n', { mode: '0640' });
      assert.equal(statSync(path).mode & 0o777, 0o640);
      await assert.rejects(conn.writeFile(path, 'bad=1\n', { validate: 'grep -q good %s' }), (err: Error) => {
        assert.ok(err instanceof CommandError);
        return true;
      });
      assert.equal(readFileSync(path, 'utf8'), 'good=1\n');
      await conn.writeFile(path, 'good=2\n', { validate: 'grep -q good %s' });
      assert.equal(readFileSync(path, 'utf8'), 'good=2\n');
      assert.equal(statSync(path).mode & 0o777, 0o640, 'the old mode is kept when none is given');
      assert.deepEqual(readdirSync(dir), ['app.conf']);
    });

    it('reports a failed read with the command and stderr', async () => {
      await conn.exec(['mkdir', '-p', join(root, 'adir')]);
      await assert.rejects(conn.readFile(join(root, 'adir')), /read .*adir/);
    });

    it('times out a command with code 124 and kills it on the host', async () => {
      const pidFile = join(root, 'sleeper.pid');
      const started = Date.now();
      const r = await conn.exec(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
      assert.equal(r.code, 124);
      assert.ok(Date.now() - started < 5000, 'returned promptly');
      const pid = readFileSync(pidFile, 'utf8').trim();
      // Gone, or a zombie waiting for init to reap it: either way no longer running.
      const state = await conn.exec(`ps -o stat= -p ${pid} || true`);
      assert.match(state.stdout.trim(), /^(Z.*)?$/, 'the remote sleep was killed');
    });

    it('bounds captured output', async () => {
      const r = await conn.exec('head -c 5000 /dev/zero', { maxOutput: 1000 });
      assert.equal(r.stdout.length, 1000);
      assert.equal(r.truncated, true);
    });

    it('reuses one connection: channels and round trips counted', async () => {
      const before = { ...conn.stats };
      await Promise.all(Array.from({ length: 20 }, (_, i) => conn.exec(['echo', String(i)])));
      await conn.readFile(join(root, 'big'));
      assert.equal(conn.stats.requests - before.requests, 21);
      // Twenty commands in flight together wait for the network once; the read after them once more.
      assert.equal(conn.stats.roundTrips - before.roundTrips, 2);
      // A channel per command, or none past the session's own.
      assert.equal(conn.stats.channels - before.channels, persistentShell ? 0 : 21);
    });

    it('raises ConnectionError when the host goes down mid-command, and for later commands', async () => {
      const h = fleet.hosts[1]!;
      const c = await connectTo(fleet, h, persistentShell);
      try {
        assert.equal((await c.exec('echo up')).stdout, 'up\n');
        const started = join(h.root, `started-${persistentShell}`);
        const running = c.exec(`touch ${started}; sleep 30`);
        running.catch(() => {}); // it rejects while the host is being killed, before assert.rejects looks
        while (!existsSync(started)) await new Promise((r) => setTimeout(r, 5)); // poll until the command runs
        await h.kill();
        await assert.rejects(running, (err: Error) => err instanceof ConnectionError && /dropped|closed|lost/.test(err.message) && err.message.includes(h.name));
        await assert.rejects(c.exec('true'), ConnectionError);
      } finally {
        await c.close();
        await h.restart();
      }
      const again = await connectTo(fleet, h, persistentShell);
      assert.equal((await again.exec('echo back')).stdout, 'back\n');
      await again.close();
    });
  });
}
