// Host and user names from a dynamic inventory (cloud tags) reach a ProxyCommand's %h %n %r: a name ssh itself refuses
// is refused naming the host, before any shell runs, and every expanded token is passed as one word.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/basic.ts');

// The ProxyCommand's program (run with exec, as ssh runs it): records the words it was given (a JSON line), then relays stdin/stdout to host:port.
const RELAY = `import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';
const [seen, host, port, ...rest] = process.argv.slice(2);
appendFileSync(seen, JSON.stringify([host, port, ...rest]) + '\\n');
const s = connect(Number(port), host, () => { process.stdin.pipe(s); s.pipe(process.stdout); });
s.on('close', () => process.exit(0));
s.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
`;

describe('host and user names in a ProxyCommand, from an inventory script, against sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let homes: Record<'direct' | 'shell', string>;
  let seen: string;
  let n = 0;
  const makeHome = (name: string, proxy: string) => {
    const home = join(fleet.dir, `home-${name}`);
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh/config'), `Host *\n  ${proxy}\n`);
    return home;
  };

  before(async () => {
    fleet = await startFleet(1);
    const relay = join(fleet.dir, 'relay.mjs');
    writeFileSync(relay, RELAY);
    seen = join(fleet.dir, 'seen');
    const relayCommand = `${process.execPath} ${relay} ${seen} %h %p %r %n`;
    // Two forms seen in the wild: the program itself, and a shell line (logging, AWS SSM) whose tokens sit inside
    // single quotes, where no quoting by provision can help: only refusing the name does.
    homes = {
      direct: makeHome('direct', `ProxyCommand ${relayCommand}`),
      shell: makeHome('shell', `ProxyCommand sh -c 'echo %h %r %n >/dev/null; exec ${relayCommand}'`),
    };
  });
  after(async () => fleet?.stop());

  /** Runs basic.ts against an inventory script holding one host `name` with `vars` over the fleet host's settings. */
  const run = async (name: string, vars: Record<string, unknown>, form: 'direct' | 'shell' = 'shell') => {
    const dir = join(fleet.dir, `case${++n}`);
    mkdirSync(dir);
    const host = fleet.hosts[0]!;
    const hostvars = {
      ansible_host: '127.0.0.1',
      ansible_port: host.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: fleet.clientKeyPath,
      root: join(dir, 'root'),
      ...vars,
    };
    const script = join(dir, 'cloud.py');
    const inventory = { cloud: { hosts: [name] }, _meta: { hostvars: { [name]: hostvars } } };
    writeFileSync(script, `#!/usr/bin/env python3\nprint(${JSON.stringify(JSON.stringify(inventory))})\n`);
    chmodSync(script, 0o755);
    rmSync(seen, { force: true });
    const r = await runCli(['run', playbook, '-i', script, '--known-hosts', fleet.knownHostsPath, '--retry-file', join(dir, 'retry')], {
      env: { HOME: homes[form], SSH_AUTH_SOCK: '' },
    });
    return { ...r, dir, seen: existsSync(seen) ? readFileSync(seen, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]) : [] };
  };

  for (const form of ['direct', 'shell'] as const) {
    it(`reaches the host through the ProxyCommand, ${form} (the control case)`, async () => {
      const r = await run('web1', {}, form);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(readFileSync(join(r.dir, 'root/app/marker'), 'utf8').trim(), 'web1');
      assert.deepEqual(r.seen, [['127.0.0.1', String(fleet.hosts[0]!.port), 'root', '127.0.0.1']]);
    });
  }

  const hostile: [string, (mark: string) => [string, Record<string, unknown>], RegExp][] = [
    ['ansible_host with $(…)', (m) => ['web1', { ansible_host: `127.0.0.1$(touch ${m})` }], /hostname contains invalid characters/],
    ['ansible_host with a backquote', (m) => ['web1', { ansible_host: `127.0.0.1\`touch ${m}\`` }], /hostname contains invalid characters/],
    ['an inventory name (the address, no ansible_host) with ;', (m) => [`web1;touch ${m};x`, { ansible_host: undefined }], /hostname contains invalid characters/],
    ['ansible_host starting with -', (m) => ['web1', { ansible_host: `-oProxyCommand=touch ${m}` }], /hostname contains invalid characters/],
    ['ansible_user with ;', (m) => ['web1', { ansible_user: `root;touch ${m};x` }], /remote username contains invalid characters/],
    ['ansible_user with $(…)', (m) => ['web1', { ansible_user: `root$(touch ${m})` }], /remote username contains invalid characters/],
    ['-l in ansible_ssh_extra_args with |', (m) => ['web1', { ansible_user: undefined, ansible_ssh_extra_args: `-l 'root|touch ${m} #'` }], /remote username contains invalid characters/],
  ];
  for (const [what, make, message] of hostile) {
    it(`${what}: refused naming the host, nothing run on the controller`, async () => {
      const mark = join(fleet.dir, `planted-${n + 1}`);
      const [name, vars] = make(mark);
      const r = await run(name, vars);
      assert.notEqual(r.code, 0, r.stdout + r.stderr);
      assert.equal(existsSync(mark), false, `the name ran a command: ${mark} exists`);
      assert.deepEqual(r.seen, [], 'the ProxyCommand was not started');
      const out = r.stdout + r.stderr;
      assert.match(out, message);
      assert.ok(out.includes(`host ${name}:`), `the error names the host ${name}:\n${out}`);
      assert.doesNotMatch(out, /internal error|\n\s+at /);
    });
  }

  it('a user name ssh accepts is still one word to the ProxyCommand: no expansion, no globbing', async () => {
    const user = 'x $HOME * \\n';
    const r = await run('web1', { ansible_user: user }, 'direct');
    assert.notEqual(r.code, 0, 'no such user on the host');
    assert.deepEqual(r.seen[0], ['127.0.0.1', String(fleet.hosts[0]!.port), user, '127.0.0.1']);
  });
});
