// ~/.ssh/config resolution: which HostName, User, Port and IdentityFile an alias gets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/errors.js';
import { loadSshConfig, resolveSshConfig } from '../../../src/connection/ssh-config.js';

const config = `
Host web1
  HostName 10.0.0.5
  Port 2222
  IdentityFile ~/.ssh/web_key

Host web*
  User deploy
  IdentityFile %d/.ssh/%r@%h

Host db
  hostname db.internal
  USER postgres

Host *
  User fallback
  Port 22
  IdentityFile none
`;

describe('resolveSshConfig', () => {
  const env = { home: '/home/me', localUser: 'me' };

  it('takes the first value for each setting, as ssh does', () => {
    const r = resolveSshConfig('web1', config, env);
    assert.equal(r.hostName, '10.0.0.5');
    assert.equal(r.port, 2222);
    assert.equal(r.user, 'deploy');
    assert.deepEqual(r.identityFiles, ['/home/me/.ssh/web_key', '/home/me/.ssh/deploy@10.0.0.5']);
  });

  it('matches wildcard Host patterns and ignores the case of keywords', () => {
    const web2 = resolveSshConfig('web2', config, env);
    assert.equal(web2.hostName, undefined);
    assert.equal(web2.user, 'deploy');
    assert.equal(web2.port, 22);
    const db = resolveSshConfig('db', config, env);
    assert.equal(db.hostName, 'db.internal');
    assert.equal(db.user, 'postgres');
    assert.deepEqual(db.identityFiles, []);
  });

  it('gives nothing for an empty config', () => {
    assert.deepEqual(resolveSshConfig('x', '', env), { identityFiles: [] });
  });

  it('rejects a port that is not a number, naming the file', () => {
    assert.throws(() => resolveSshConfig('x', 'Host x\n  Port abc\n', { ...env, source: '/cfg' }), (e: Error) => {
      return e instanceof InputError && /\/cfg: Port for x/.test(e.message);
    });
  });

  it('loads a named file, and treats a missing default file as empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-sshcfg-'));
    try {
      const file = join(dir, 'config');
      writeFileSync(file, 'Host alias\n  HostName 127.0.0.1\n  Port 4022\n');
      assert.deepEqual(await loadSshConfig('alias', file), { hostName: '127.0.0.1', port: 4022, identityFiles: [] });
      await assert.rejects(loadSshConfig('alias', join(dir, 'missing')), /cannot read the ssh config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
