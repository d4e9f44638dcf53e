// ssh command-line arguments as Ansible users write them in ansible_ssh_*args: what is read, what is refused.
import assert from 'node:assert/strict';
import { parseSshArgs, unsupportedOption } from '../../../src/connection/ssh-options.js';
import { parseJumpHop } from '../../../src/connection/connect.js';
import { InputError } from '../../../src/errors.js';
import { resolveConnectionVars } from '../../../src/inventory/connection-vars.js';

describe('parseSshArgs', () => {
  const where = 'host web1: ansible_ssh_common_args';

  it('reads -o in its spellings, -J, -i, -l, -p, in order', () => {
    assert.deepEqual(
      parseSshArgs(['-o', 'ProxyJump=bastion', '-oUser=deploy', '-o', 'Port 2222', '-J', 'a,b', '-i', '~/k', '-l', 'x', '-p2200'], where),
      [
        ['ProxyJump', 'bastion'],
        ['User', 'deploy'],
        ['Port', '2222'],
        ['ProxyJump', 'a,b'],
        ['IdentityFile', '~/k'],
        ['User', 'x'],
        ['Port', '2200'],
      ],
    );
  });

  it("keeps a ProxyCommand's words as one value", () => {
    assert.deepEqual(parseSshArgs(['-o', 'ProxyCommand=ssh -W %h:%p -q bastion'], where), [['ProxyCommand', 'ssh -W %h:%p -q bastion']]);
  });

  it("takes Ansible's default ssh_args (multiplexing and compression change nothing here)", () => {
    assert.deepEqual(parseSshArgs(['-C', '-o', 'ControlMaster=auto', '-o', 'ControlPersist=60s', '-q'], where), [
      ['ControlMaster', 'auto'],
      ['ControlPersist', '60s'],
    ]);
    assert.deepEqual(parseSshArgs(['-Cq', '-4'], where), []);
  });

  const refused: [string[], RegExp][] = [
    [['-A'], /host web1: ansible_ssh_common_args: -A \(agent forwarding\) is not supported/],
    [['-K'], /-K \(GSSAPI authentication\) is not supported/],
    [['-L', '8080:localhost:80'], /-L \(local port forwarding\) is not supported/],
    [['-CA'], /-A \(agent forwarding\)/],
    [['-o', 'GSSAPIAuthentication=yes'], /GSSAPIAuthentication yes is not supported by provision/],
    [['-o', 'ForwardAgent yes'], /ForwardAgent yes is not supported/],
    [['-o', 'NoSuchOption=1'], /NoSuchOption is an ssh option provision does not know/],
    [['-Z'], /-Z is an ssh flag provision does not know/],
    [['bastion'], /unexpected argument 'bastion'/],
    [['-J'], /-J needs an argument/],
    [['-o', 'ProxyJump'], /expected -o Key=Value/],
  ];
  for (const [args, message] of refused) {
    it(`refuses ${args.join(' ')}, naming the host and variable`, () => {
      assert.throws(() => parseSshArgs(args, where), (e: Error) => e instanceof InputError && message.test(e.message));
    });
  }

  it('gives -F to its reader (the last one wins), and refuses it where no one reads it', () => {
    const files: string[] = [];
    assert.deepEqual(parseSshArgs(['-F', 'a', '-Fb', '-J', 'x'], where, (f) => files.push(f)), [['ProxyJump', 'x']]);
    assert.deepEqual(files, ['a', 'b']);
    assert.throws(() => parseSshArgs(['-F', 'a'], where), /-F \(another ssh config file\) is not supported/);
  });

  it('lets harmless values of refusable options through', () => {
    assert.deepEqual(parseSshArgs(['-o', 'GSSAPIAuthentication=no', '-o', 'ForwardAgent=no'], where), [
      ['GSSAPIAuthentication', 'no'],
      ['ForwardAgent', 'no'],
    ]);
    // Ansible inventories often turn the global known_hosts file off; provision never reads one.
    assert.equal(unsupportedOption('GlobalKnownHostsFile', '/dev/null', true), undefined);
    assert.match(unsupportedOption('GlobalKnownHostsFile', '/etc/ssh/other_hosts', true) ?? '', /GlobalKnownHostsFile \/etc\/ssh\/other_hosts is not supported/);
  });

  it('ignores options it does not know in a config file, refuses them in the args', () => {
    assert.equal(unsupportedOption('usekeychain', 'yes', false), undefined);
    assert.match(unsupportedOption('UseKeychain', 'yes', true) ?? '', /does not know/);
    assert.match(unsupportedOption('gssapiauthentication', 'yes', false) ?? '', /^GSSAPIAuthentication yes/);
  });
});

describe('parseJumpHop', () => {
  it('reads host, user@host, host:port, ssh:// and [v6]:port', () => {
    assert.deepEqual(parseJumpHop('bastion', 'h'), { host: 'bastion' });
    assert.deepEqual(parseJumpHop('ops@bastion:2222', 'h'), { user: 'ops', host: 'bastion', port: 2222 });
    assert.deepEqual(parseJumpHop('ssh://ops@10.0.0.1:22', 'h'), { user: 'ops', host: '10.0.0.1', port: 22 });
    assert.deepEqual(parseJumpHop('[fd00::1]:2200', 'h'), { host: 'fd00::1', port: 2200 });
  });
  it('refuses a hop that is not one', () => {
    assert.throws(() => parseJumpHop('a b', 'host x'), /host x: ProxyJump hop 'a b' is not \[user@\]host\[:port\]/);
    assert.throws(() => parseJumpHop('h:99999', 'host x'), /no valid port/);
  });
});

describe('resolveConnectionVars: ssh args', () => {
  it("splits the three variables as Ansible does, in Ansible's order", () => {
    const c = resolveConnectionVars(
      {
        ansible_ssh_extra_args: '-J bastion',
        ansible_ssh_common_args: `-o ProxyCommand="ssh -W %h:%p -q 'gw 1'"`,
        ansible_ssh_args: '-C -o ControlMaster=auto',
      },
      'web1',
    );
    assert.deepEqual(c.sshArgs, [
      { variable: 'ansible_ssh_args', args: ['-C', '-o', 'ControlMaster=auto'] },
      { variable: 'ansible_ssh_common_args', args: ['-o', "ProxyCommand=ssh -W %h:%p -q 'gw 1'"] },
      { variable: 'ansible_ssh_extra_args', args: ['-J', 'bastion'] },
    ]);
  });
  it('names the host and variable when the args cannot be split', () => {
    assert.throws(() => resolveConnectionVars({ ansible_ssh_common_args: '-o "ProxyJump=a' }, 'web1'), /host web1: ansible_ssh_common_args: cannot split/);
  });
  it('leaves sshArgs out when none is set', () => {
    assert.equal(resolveConnectionVars({ ansible_ssh_args: '' }, 'web1').sshArgs, undefined);
  });
});
