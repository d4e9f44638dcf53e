// Become through sudo as a non-root login user, with NOPASSWD and with a password sent on stdin.
// Needs root: it creates two users and their sudoers files on this machine (see ensureSudoUser).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { BecomeSettings, Connection } from '../../../src/connection/types.js';
import { CommandError } from '../../../src/errors.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';

const nopw = 'provision-sudo';
const withpw = 'provision-sudopw';
const password = "pa ss'w$(rd)\"";

for (const persistentShell of [false, true]) {
  describe(`become through sudo as a non-root user (real sshd, ${persistentShell ? 'persistent shell' : 'exec channels'})`, function () {
    this.timeout(60_000);
    let fleet: Fleet;
    const open: Connection[] = [];

    before(async () => {
      fleet = await startFleet(1, { users: [{ name: nopw, nopasswd: true }, { name: withpw, password, nopasswd: false }] });
    });
    after(async () => {
      await Promise.all(open.map((c) => c.close()));
      await fleet?.stop();
    });

    async function as(user: string, become: BecomeSettings, auth: { password?: string } = {}): Promise<Connection> {
      const h = fleet.hosts[0]!;
      const c = await connectHost({
        host: h.name,
        address: '127.0.0.1',
        port: h.port,
        user,
        privateKeyFile: auth.password === undefined ? fleet.clientKeyPath : undefined,
        password: auth.password,
        knownHostsFiles: [fleet.knownHostsPath],
        persistentShell,
        become,
      });
      open.push(c);
      return c;
    }

    it('runs as the login user unless asked to become', async () => {
      const c = await as(nopw, { become: false });
      assert.equal((await c.exec('id -un')).stdout, `${nopw}\n`);
      assert.equal((await c.exec('id -un', { become: true })).stdout, 'root\n');
    });

    it('becomes root with NOPASSWD: commands, stdin, writes and reads of root-only files', async () => {
      const c = await as(nopw, { become: true });
      assert.equal((await c.exec('id -un')).stdout, 'root\n');
      assert.equal((await c.exec('cat', { stdin: 'through sudo\n' })).stdout, 'through sudo\n');
      const path = join(fleet.hosts[0]!.root, 'root-only.conf');
      await c.writeFile(path, 'secret=1\n', { mode: '0600', owner: 'root' });
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(path).uid, 0);
      assert.equal((await c.readFile(path))?.toString(), 'secret=1\n');
      const unprivileged = await c.exec(['cat', path], { become: false });
      assert.notEqual(unprivileged.code, 0);
    });

    it('becomes another user with becomeUser', async () => {
      const c = await as(nopw, { become: true, becomeUser: 'nobody' });
      assert.equal((await c.exec('id -un')).stdout, 'nobody\n');
    });

    it('becomes root with a password sent on stdin, never on the command line or in output', async () => {
      const c = await as(withpw, { become: true, becomePassword: password }, { password });
      const r = await c.exec('id -un; ps -eo args; cat', { stdin: 'after the password\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith('root\n'));
      assert.ok(r.stdout.endsWith('after the password\n'));
      assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password), 'the password leaked into ps or output');
      const path = join(fleet.hosts[0]!.root, 'pw-written');
      await c.writeFile(path, Buffer.from([0, 1, 2, 3]), { become: true });
      assert.deepEqual([...readFileSync(path)], [0, 1, 2, 3]);
      assert.equal(statSync(path).uid, 0);
    });

    it('fails a command (not the run) when the become password is wrong, without echoing it', async () => {
      const c = await as(withpw, { become: true, becomePassword: 'wrong-password' }, { password });
      const r = await c.exec('id -un');
      assert.notEqual(r.code, 0);
      assert.ok(!r.stdout.includes('wrong-password') && !r.stderr.includes('wrong-password'));
      await assert.rejects(c.writeFile(join(fleet.hosts[0]!.root, 'never'), 'x'), CommandError);
    });

    it('fails clearly when sudo wants a password and none was given', async () => {
      const c = await as(withpw, { become: true }, { password });
      const r = await c.exec('id -un');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /password/i);
    });

    it('installed the sudoers rules ensureSudoUser was asked for', () => {
      assert.match(readFileSync(`/etc/sudoers.d/${withpw}`, 'utf8'), new RegExp(`^${withpw} ALL=\\(ALL:ALL\\) ALL$`, 'm'));
      assert.match(readFileSync(`/etc/sudoers.d/${nopw}`, 'utf8'), /NOPASSWD: ALL/);
    });
  });
}
