// ~/.ssh/config resolution: which HostName, User, Port and IdentityFile an alias gets.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

describe('resolveSshConfig: proxies, Include, known hosts, agent, refusals', () => {
  const env = { home: '/home/me', localUser: 'me', source: '/home/me/.ssh/config' };
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-sshcfg-inc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives ProxyJump hops in order and ProxyCommand with its tokens left for later', () => {
    assert.deepEqual(resolveSshConfig('a', 'Host a\n  ProxyJump u@h1:2200, h2\n', env).proxyJump, ['u@h1:2200', 'h2']);
    assert.equal(resolveSshConfig('a', 'Host a\n  ProxyCommand ssh -W "%h:%p" gw\n', env).proxyCommand, 'ssh -W "%h:%p" gw');
  });

  it('puts command-line options first: they win over the file', () => {
    const r = resolveSshConfig('a', 'Host a\n  User fileuser\n  ProxyJump filehop\n', { ...env, options: [['User', 'cli'], ['ProxyJump', 'none']] });
    assert.equal(r.user, 'cli');
    assert.equal(r.proxyJump, undefined);
  });

  it('splices Include files (glob, relative to ~/.ssh, sorted) where the Include stands', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'conf.d', 'b.conf'), 'Host a\n  Port 2002\n');
    writeFileSync(join(home, '.ssh', 'conf.d', 'a.conf'), 'Host a\n  Port 2001\n  User fromA\n');
    const r = resolveSshConfig('a', 'Include conf.d/*.conf\nHost *\n  User late\n', { ...env, home });
    assert.equal(r.port, 2001);
    assert.equal(r.user, 'fromA');
    assert.equal(resolveSshConfig('a', 'Include conf.d/nothing-*\n', { ...env, home }).port, undefined);
  });

  it('refuses an Include inside a Host block when the included file has blocks, naming both files', () => {
    const home = join(dir, 'home2');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'inner'), 'Host b\n  Port 1\n');
    writeFileSync(join(home, '.ssh', 'flat'), 'Port 2\n');
    assert.throws(() => resolveSshConfig('a', 'Host a\n  Include inner\n', { ...env, home }), /config: Include inner inside "Host a" names .*inner, which has Host or Match blocks/);
    assert.equal(resolveSshConfig('a', 'Host a\n  Include flat\n', { ...env, home }).port, 2);
    assert.equal(resolveSshConfig('b', 'Host a\n  Include flat\n', { ...env, home }).port, undefined);
  });

  it('reads UserKnownHostsFile, IdentitiesOnly, IdentityAgent', () => {
    const r = resolveSshConfig('a', 'Host a\n  UserKnownHostsFile ~/kh %d/other\n  IdentitiesOnly yes\n  IdentityAgent ~/agent.sock\n', env);
    assert.deepEqual(r.userKnownHostsFiles, ['/home/me/kh', '/home/me/other']);
    assert.equal(r.identitiesOnly, true);
    assert.equal(r.identityAgent, '/home/me/agent.sock');
    assert.equal(resolveSshConfig('a', 'IdentityAgent none\n', env).identityAgent, 'none');
    process.env.PROVISION_TEST_AGENT = '/run/agent';
    try {
      assert.equal(resolveSshConfig('a', 'IdentityAgent $PROVISION_TEST_AGENT\n', env).identityAgent, '/run/agent');
    } finally {
      delete process.env.PROVISION_TEST_AGENT;
    }
    assert.deepEqual(resolveSshConfig('a', 'UserKnownHostsFile none\n', env).userKnownHostsFiles, []);
  });

  it('refuses StrictHostKeyChecking no, GSSAPI, Match exec; takes accept-new', () => {
    assert.throws(() => resolveSshConfig('a', 'StrictHostKeyChecking no\n', { ...env, host: 'web1' }), /host web1: StrictHostKeyChecking no is refused[\s\S]*--accept-new-host-keys/);
    assert.equal(resolveSshConfig('a', 'StrictHostKeyChecking accept-new\n', env).acceptNewHostKeys, true);
    assert.throws(() => resolveSshConfig('a', 'Host a\n  GSSAPIAuthentication yes\n', { ...env, host: 'web1' }), /host web1: GSSAPIAuthentication yes is not supported by provision/);
    assert.equal(resolveSshConfig('b', 'Host a\n  GSSAPIAuthentication yes\n', env).user, undefined);
    assert.throws(() => resolveSshConfig('a', 'Match exec "true"\n  User x\n', env), /\.ssh\/config: Match exec is not supported by provision/);
  });
});
