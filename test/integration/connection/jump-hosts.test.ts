// Hosts behind a bastion, reached as OpenSSH reaches them: ProxyJump (config and inventory, one hop and two),
// ProxyCommand, Include and Match in ~/.ssh/config, one shared connection to the bastion. The hosts listen only inside
// a network namespace, so no test here can pass by a direct connection.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';
import { startBastionNet, type BastionNet, type NetSshd } from './bastion-net.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/basic.ts');

describe('jump hosts and proxies through the CLI (a bastion is the only way in)', function () {
  this.timeout(180_000);
  let net: BastionNet;
  let target: NetSshd;
  let inner: NetSshd;
  let knownHosts: string;
  let n = 0;

  before(async () => {
    net = await startBastionNet();
    target = await net.startInner('target');
    inner = await net.startInner('inner');
    knownHosts = join(net.dir, 'known_hosts');
    writeFileSync(knownHosts, net.knownHostsLines(net.bastion, target, inner));
  });
  after(async () => {
    await net?.stop();
  });

  /** A fresh HOME with `files` under it, an inventory, and a root folder per host for the playbook's files. */
  const setup = (files: Record<string, string>, inventoryLines: (root: (h: string) => string) => string[]) => {
    const dir = join(net.dir, `case${++n}`);
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(home, name, '..'), { recursive: true });
      writeFileSync(join(home, name), text);
    }
    const root = (h: string) => join(dir, 'hosts', h);
    const inventory = join(dir, 'inventory.ini');
    writeFileSync(inventory, `${inventoryLines(root).join('\n')}\n`);
    return { dir, home, inventory, root };
  };
  const run = (s: { home: string; inventory: string; dir: string }, extra: string[] = []) =>
    runCli(['run', playbook, '-i', s.inventory, '--json', '--retry-file', join(s.dir, 'retry'), ...extra], {
      env: { HOME: s.home, SSH_AUTH_SOCK: '' },
    });
  const bastionBlock = () =>
    `Host bastion\n  HostName ${net.bastion.address}\n  Port ${net.bastion.port}\n  User root\n  IdentityFile ${net.clientKeyPath}\n`;
  const targetBlock = (alias = 'target') => `Host ${alias}\n  HostName 127.0.0.1\n  Port ${target.port}\n`;
  const hostLine = (name: string, root: (h: string) => string, extra = '') =>
    `${name} ansible_host=target ansible_user=root ansible_ssh_private_key_file=${net.clientKeyPath} root=${root(name)}${extra ? ` ${extra}` : ''}`;
  const marker = (root: (h: string) => string, h: string) => join(root(h), 'app/marker');

  it('cannot reach the target without the bastion (the control case)', async () => {
    const s = setup({ '.ssh/config': targetBlock() }, (root) => [hostLine('web1', root)]);
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.equal(existsSync(marker(s.root, 'web1')), false);
    assert.equal(parseReport(r.stdout).summary.unreachable, 1);
  });

  it('follows ProxyJump from ~/.ssh/config, the bastion defined in an Included file (glob, relative to ~/.ssh)', async () => {
    const before = net.bastion.acceptedLogins();
    const s = setup(
      {
        '.ssh/config': `Include conf.d/*.conf\n\n${targetBlock()}  ProxyJump bastion\n`,
        '.ssh/conf.d/10-bastion.conf': bastionBlock(),
      },
      (root) => [hostLine('web1', root)],
    );
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(marker(s.root, 'web1'), 'utf8').trim(), 'web1');
    assert.equal(net.bastion.acceptedLogins() - before, 1);
  });

  it('follows -o ProxyJump and -J in ansible_ssh_common_args / _extra_args / ansible_ssh_args', async () => {
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}` }, (root) => [
      hostLine('web1', root, `ansible_ssh_common_args='-o ProxyJump=bastion'`),
      hostLine('web2', root, `ansible_ssh_extra_args="-J bastion"`),
      hostLine('web3', root, `ansible_ssh_args='-C -o ControlMaster=auto -o ControlPersist=60s -o ProxyJump=bastion'`),
    ]);
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(marker(s.root, 'web1'), 'utf8').trim(), 'web1');
    assert.equal(readFileSync(marker(s.root, 'web2'), 'utf8').trim(), 'web2');
    assert.equal(readFileSync(marker(s.root, 'web3'), 'utf8').trim(), 'web3');
  });

  it('takes the inventory Ansible takes: -F config and -J in ansible_ssh_common_args (ansible -m raw as the oracle)', async () => {
    const s = setup({}, (root) => [hostLine('web1', root, `ansible_ssh_common_args='-F CFG -J bastion'`)]);
    const cfg = join(s.dir, 'ssh_config');
    writeFileSync(cfg, `${bastionBlock()}${targetBlock()}Host *\n  UserKnownHostsFile ${knownHosts}\n`);
    writeFileSync(s.inventory, readFileSync(s.inventory, 'utf8').replace('CFG', cfg));
    const ansible = await promisify(execFile)('ansible', ['-i', s.inventory, 'all', '-m', 'raw', '-a', 'echo reached-$((40+2))'], {
      // No ControlPersist master left behind: every process this test starts ends with it.
      env: { ...process.env, HOME: s.home, SSH_AUTH_SOCK: '', ANSIBLE_NOCOLOR: '1', ANSIBLE_SSH_ARGS: '-o ControlMaster=no' },
    }).catch((e: { stdout: string; stderr: string }) => e);
    assert.match(ansible.stdout, /web1 \| CHANGED \| rc=0[\s\S]*reached-42/, `ansible: ${ansible.stdout}${ansible.stderr}`);
    const r = await run(s); // no --known-hosts: the file the config names
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(marker(s.root, 'web1'), 'utf8').trim(), 'web1');
  });

  it('takes a hop written as user@host:port, its key from ~/.ssh/id_ed25519', async () => {
    const s = setup({ '.ssh/config': targetBlock() }, (root) => [
      hostLine('web1', root, `ansible_ssh_common_args='-J root@${net.bastion.address}:${net.bastion.port}'`),
    ]);
    copyFileSync(net.clientKeyPath, join(s.home, '.ssh/id_ed25519'));
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(marker(s.root, 'web1')));
  });

  it('goes through two hops (ProxyJump a,b), the second reachable only through the first', async () => {
    const innerBefore = inner.acceptedLogins();
    const s = setup(
      {
        '.ssh/config': `${bastionBlock()}Host inner\n  HostName 127.0.0.1\n  Port ${inner.port}\n  User root\n  IdentityFile ${net.clientKeyPath}\n${targetBlock()}  ProxyJump bastion,inner\n`,
      },
      (root) => [hostLine('web1', root)],
    );
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(marker(s.root, 'web1')));
    assert.equal(inner.acceptedLogins() - innerBefore, 1);
  });

  it("verifies a jump host's key like any host's: an unknown bastion key is refused, naming the jump host", async () => {
    const onlyTargets = join(net.dir, 'known_hosts_targets');
    writeFileSync(onlyTargets, net.knownHostsLines(target));
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}  ProxyJump bastion\n` }, (root) => [hostLine('web1', root)]);
    const r = await run(s, ['--known-hosts', onlyTargets]);
    assert.equal(r.code === 0, false, r.stdout + r.stderr);
    const text = r.stdout + r.stderr;
    assert.match(text, /jump host bastion: host key verification failed/);
    assert.match(text, new RegExp(`\\[${net.bastion.address.replace(/\./g, '\\.')}\\]:${net.bastion.port}`));
    assert.equal(existsSync(marker(s.root, 'web1')), false);
  });

  it('applies Match blocks in order (originalhost, user) as OpenSSH does, the first value winning', async () => {
    const s = setup(
      {
        '.ssh/config': `${bastionBlock()}${targetBlock()}Match originalhost target user nobody\n  ProxyJump none\nMatch originalhost target user root\n  ProxyJump bastion\nHost *\n  ProxyJump none\n`,
      },
      (root) => [hostLine('web1', root)],
    );
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(marker(s.root, 'web1')));
  });

  it('runs a ProxyCommand (ssh -W %h:%p) with %h %p %r expanded, its stdin/stdout the transport', async () => {
    const seen = join(net.dir, `proxy-seen-${n + 1}`);
    const s = setup(
      {
        '.ssh/config': `${targetBlock()}  ProxyCommand sh -c 'echo "%r %h %p" > ${seen}; exec ssh -F none -i ${net.clientKeyPath} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${net.bastion.port} -W %h:%p root@${net.bastion.address}'\n`,
      },
      (root) => [hostLine('web1', root)],
    );
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(marker(s.root, 'web1')));
    assert.equal(readFileSync(seen, 'utf8').trim(), `root 127.0.0.1 ${target.port}`);
  });

  it("says a ProxyCommand's failure with its stderr, naming the host", async () => {
    const s = setup({ '.ssh/config': `${targetBlock()}  ProxyCommand sh -c 'echo no route to %h >&2; exit 3'\n` }, (root) => [
      hostLine('web1', root),
    ]);
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /web1: SSH connection to root@127\.0\.0\.1:\d+ via ProxyCommand failed[\s\S]*no route to 127\.0\.0\.1/);
  });

  it('reads known_hosts from UserKnownHostsFile in the config (no --known-hosts)', async () => {
    const s = setup({ '.ssh/config': `Host *\n  UserKnownHostsFile ~/kh\n${bastionBlock()}${targetBlock()}  ProxyJump bastion\n` }, (root) => [
      hostLine('web1', root),
    ]);
    writeFileSync(join(s.home, 'kh'), readFileSync(knownHosts));
    const r = await run(s);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(marker(s.root, 'web1')));
  });

  it('opens one connection to the bastion for fifty hosts behind it', async () => {
    const before = net.bastion.acceptedLogins();
    const targetBefore = target.acceptedLogins();
    const names = Array.from({ length: 50 }, (_, i) => `app${String(i + 1).padStart(2, '0')}`);
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}  ProxyJump bastion\n` }, (root) => names.map((h) => hostLine(h, root)));
    const r = await run(s, ['--known-hosts', knownHosts, '--forks', '50']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const h of names) assert.equal(readFileSync(marker(s.root, h), 'utf8').trim(), h);
    assert.equal(target.acceptedLogins() - targetBefore, 50);
    assert.equal(net.bastion.acceptedLogins() - before, 1);
  });

  it('keeps the bastion connection between hosts run one after another (--forks 1)', async () => {
    const before = net.bastion.acceptedLogins();
    const names = ['seq1', 'seq2', 'seq3', 'seq4', 'seq5'];
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}  ProxyJump bastion\n` }, (root) => names.map((h) => hostLine(h, root)));
    const r = await run(s, ['--known-hosts', knownHosts, '--forks', '1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const h of names) assert.ok(existsSync(marker(s.root, h)));
    assert.equal(net.bastion.acceptedLogins() - before, 1);
  });

  it('refuses ssh args it cannot follow, naming the host and the option', async () => {
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}` }, (root) => [
      hostLine('web1', root, `ansible_ssh_common_args='-J bastion -o ForwardAgent=yes'`),
    ]);
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /host web1: ansible_ssh_common_args: ForwardAgent yes is not supported by provision/);
  });

  it('refuses GSSAPI in the config, naming the host and the option', async () => {
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}  ProxyJump bastion\n  GSSAPIAuthentication yes\n` }, (root) => [
      hostLine('web1', root),
    ]);
    const r = await run(s, ['--known-hosts', knownHosts]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /host web1: GSSAPIAuthentication yes is not supported by provision/);
  });

  it('refuses a host trusted through @cert-authority, and does not advise --accept-new-host-keys', async () => {
    const ca = join(net.dir, 'known_hosts_ca');
    writeFileSync(ca, `${net.knownHostsLines(net.bastion)}@cert-authority [127.0.0.1]:* ${net.bastion.hostKey}\n`);
    const s = setup({ '.ssh/config': `${bastionBlock()}${targetBlock()}  ProxyJump bastion\n` }, (root) => [hostLine('web1', root)]);
    for (const extra of [[], ['--accept-new-host-keys']]) {
      const r = await run(s, ['--known-hosts', ca, ...extra]);
      assert.notEqual(r.code, 0);
      const text = r.stdout + r.stderr;
      assert.match(text, /web1: host key verification failed[\s\S]*@cert-authority line \(.*known_hosts_ca:2\)[\s\S]*not supported/);
      assert.doesNotMatch(text, /--accept-new-host-keys/);
      assert.equal(existsSync(marker(s.root, 'web1')), false);
    }
    assert.equal(readFileSync(ca, 'utf8').split('\n').filter(Boolean).length, 2); // nothing pinned
  });
});
