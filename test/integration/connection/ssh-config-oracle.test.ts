// resolveSshConfig against OpenSSH itself: `ssh -G` prints what ssh resolved for a host from the same config and the
// same command-line options; each case compares the settings provision acts on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { resolveSshConfig } from '../../../src/connection/ssh-config.js';
import type { SshOption } from '../../../src/connection/ssh-options.js';

/** What `ssh -G` says, for the keys compared (the first line of each). */
function sshG(configFile: string, alias: string, options: readonly SshOption[]): Map<string, string> {
  const args = ['-G', '-F', configFile, ...options.flatMap(([k, v]) => ['-o', `${k}=${v}`]), alias];
  const out = execFileSync('ssh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0 && !map.has(line.slice(0, i))) map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

describe('resolveSshConfig agrees with `ssh -G`', () => {
  let dir: string;
  const me = userInfo();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-sshg-'));
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', '10-gw.conf'), 'Host gw\n  HostName gw.example.net\n  User jump\n  Port 2022\n');
    writeFileSync(join(dir, 'conf.d', '20-db.conf'), 'Host db*\n  ProxyJump gw\n  User postgres\n');
    writeFileSync(join(dir, 'conf.d', 'ignored.txt'), 'Host db*\n  User not-included\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const configs: Record<string, string> = {
    blocks: [
      'Host web*',
      '  ProxyCommand ssh -W %h:%p gw',
      '  ProxyJump bastion',
      '  User deploy',
      'Match originalhost web1 user admin',
      '  Port 2201',
      'Host *.internal !skip.internal',
      '  HOSTNAME %h.example.com',
      '  proxyjump a@hop1:2222,hop2',
      'Host *',
      '  Port 2200',
      '  IdentitiesOnly yes',
      '  UserKnownHostsFile ~/kh1 /tmp/kh2',
    ].join('\n'),
    include: `Include ${'DIR'}/conf.d/*.conf\n\nHost *\n  User fallback\n`,
    matchHost: ['Host x', '  HostName real.example.org', 'Match host real.*', '  User matched', '  ProxyJump none', 'Match all', '  ProxyCommand nc %h %p'].join('\n'),
    jumpNone: ['Host x', '  ProxyJump none', 'Host *', '  ProxyJump hop', '  ProxyCommand nc %h %p'].join('\n'),
    commandNone: ['Host x', '  ProxyCommand none', 'Host *', '  ProxyJump hop'].join('\n'),
    localUser: [`Match localuser ${me.username} originalhost l*`, '  Port 3022', 'Match localuser nobody-here', '  Port 4022'].join('\n'),
  };
  const cases: [config: string, alias: string, options: SshOption[]][] = [
    ['blocks', 'web1', []],
    ['blocks', 'web1', [['User', 'admin']]],
    ['blocks', 'web2', [['ProxyJump', 'a,b']]],
    ['blocks', 'db.internal', []],
    ['blocks', 'skip.internal', []],
    ['blocks', 'other', [['Port', '2999'], ['ProxyCommand', 'none']]],
    ['include', 'gw', []],
    ['include', 'db1', []],
    ['include', 'db1', [['User', 'me']]],
    ['matchHost', 'x', []],
    ['matchHost', 'y', []],
    ['jumpNone', 'x', []],
    ['jumpNone', 'y', []],
    ['commandNone', 'x', []],
    ['commandNone', 'y', []],
    ['localUser', 'l1', []],
    ['localUser', 'm1', []],
  ];

  for (const [name, alias, options] of cases) {
    it(`${name}: ${alias}${options.length ? ` with ${options.map(([k, v]) => `-o ${k}=${v}`).join(' ')}` : ''}`, () => {
      const text = configs[name]!.replace('DIR', dir);
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, text);
      const ours = resolveSshConfig(alias, text, { home: me.homedir, localUser: me.username, options, source: file });
      const theirs = sshG(file, alias, options);
      assert.equal(ours.hostName ?? alias, theirs.get('hostname'), 'hostname');
      assert.equal(ours.user ?? me.username, theirs.get('user'), 'user');
      assert.equal(String(ours.port ?? 22), theirs.get('port'), 'port');
      assert.equal(ours.proxyJump?.join(','), theirs.get('proxyjump'), 'proxyjump');
      // ssh -G prints ProxyCommand even when ProxyJump came first (ssh then ignores it): compare it only without a jump.
      if (!ours.proxyJump) assert.equal(ours.proxyCommand, theirs.get('proxycommand'), 'proxycommand');
      assert.equal(ours.identitiesOnly ? 'yes' : 'no', theirs.get('identitiesonly'), 'identitiesonly');
      if (ours.userKnownHostsFiles) assert.equal(ours.userKnownHostsFiles.join(' '), theirs.get('userknownhostsfile'), 'userknownhostsfile');
    });
  }
});

describe('host and user names from the command line: refused exactly where `ssh -G` refuses them', () => {
  const refusedBySsh = (args: string[]) => {
    try {
      execFileSync('ssh', ['-G', '-F', 'none', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return false;
    } catch (err) {
      return /contains invalid characters/.test(String((err as { stderr?: string }).stderr));
    }
  };
  const ours = (alias: string, options: SshOption[]) => {
    try {
      resolveSshConfig(alias, '', { options });
      return false;
    } catch (err) {
      return /contains invalid characters/.test((err as Error).message);
    }
  };
  const names = ['web1', '10.0.0.1', '::1', 'fe80::1%eth0', 'a_b.example', 'a[b]', 'a*b', 'a~b', 'a!b', 'a#b', 'ä.example',
    'a$b', 'a$(id)', 'a`id`', 'a;b', 'a&b', 'a|b', 'a<b', 'a>b', 'a(b', 'a{b', 'a"b', "a'b", 'a\\b', 'a b', 'a\tb', 'a,b', '-oProxyCommand=x', 'a-b'];
  for (const name of names) {
    it(`host ${JSON.stringify(name)} and user ${JSON.stringify(name)}`, () => {
      assert.equal(ours(name, []), refusedBySsh(['--', name]), 'host');
      assert.equal(ours('h', [['User', name]]), refusedBySsh(['-l', name, 'h']), 'user'); // -l: no quote parsing as -o has
    });
  }
  for (const user of ['a -b', 'a\\', 'a b', 'a\\b']) {
    it(`user ${JSON.stringify(user)}`, () => assert.equal(ours('h', [['User', user]]), refusedBySsh(['-l', user, 'h'])));
  }
  it('the first user given is the one checked, as ssh checks the one it uses', () => {
    assert.equal(ours('h', [['User', 'root'], ['User', 'a|b']]), refusedBySsh(['-o', 'User=root', '-l', 'a|b', 'h']));
    assert.equal(ours('h', [['User', 'a|b'], ['User', 'root']]), refusedBySsh(['-l', 'a|b', '-o', 'User=root', 'h']));
  });
});
