// The habits of ansible-playbook and ansible, side by side with ansible-core on the same inventory of 3 real sshd
// hosts and the same play (test/fixtures/habits/play.yml and play.ts): recap counts, tags, --list-tasks/--list-tags,
// --start-at-task, patterns that match nothing, -T, -c, and ad-hoc commands' output.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCaptured, runCli, type CliResult } from '../../helpers/cli.js';

const suUser = 'provhabits';
const yml = join(repoRoot, 'test/fixtures/habits/play.yml');
const ts = join(repoRoot, 'test/fixtures/habits/play.ts');

/** `host: ok=… changed=… unreachable=… failed=… skipped=… rescued=… ignored=…` per host, from either recap. */
function recap(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stdout.matchAll(/^(\S+)\s+: (ok=\d+)\s+(changed=\d+)\s+(unreachable=\d+)\s+(failed=\d+)\s+(skipped=\d+)\s+(rescued=\d+)\s+(ignored=\d+)/gm)) {
    out[m[1] as string] = m.slice(2).join(' ');
  }
  return out;
}

/**
 * Runs a command in a terminal (util-linux `script` gives it a pty) and answers each --step question, in order, when
 * it is asked; returns the questions and the whole output.
 */
function inTerminal(command: string[], answers: string[], env: NodeJS.ProcessEnv): Promise<{ asked: string[]; output: string }> {
  const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const asked: string[] = [];
  let seen = -1;
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    // a terminal may draw a question twice: a question is new when it names another task than the last one
    for (const m of output.matchAll(/Perform task: TASK: (\S+)/g)) {
      if (m[1] === asked.at(-1) || m.index < seen) continue;
      seen = m.index;
      asked.push(m[1] as string);
      child.stdin.write(`${answers[asked.length - 1] ?? 'n'}\r`);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve({ asked, output }));
  });
}

/** An ad-hoc output's per-host blocks (a block starts at `HOST | `), sorted: hosts finish in any order. */
function blocks(stdout: string, hosts: string[]): string[] {
  const starts = new RegExp(`^(?=(?:${hosts.join('|')}) \\| )`, 'm');
  return stdout
    .split(/\n\nPLAY RECAP/)[0]!
    .split(starts)
    .map((b) => b.trimEnd())
    .filter((b) => b !== '')
    .sort();
}

describe('ansible-playbook and ansible habits, side by side with ansible-core (3 sshd hosts)', function () {
  this.timeout(300_000);
  let fleet: Fleet;
  let dir: string;
  let inventory: string;
  let names: string[];
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_RETRY_FILES_ENABLED: 'false', ANSIBLE_HOST_KEY_CHECKING: 'True' };
  const ansiblePlaybook = (...args: string[]) => runCaptured('ansible-playbook', ['-i', inventory, yml, ...args], { env, cwd: dir });
  const ansible = (...args: string[]) => runCaptured('ansible', ['-i', inventory, ...args], { env, cwd: dir });
  const ours = (...args: string[]) => runCli(['run', ts, '-i', inventory, '--retry-file', join(dir, 'r'), ...args], { cwd: dir });
  const adhoc = (...args: string[]) => runCli(['adhoc', ...args.slice(0, 1), '-i', inventory, ...args.slice(1)], { cwd: dir });
  const both = async (args: string[]): Promise<[CliResult, CliResult]> => [await ansiblePlaybook(...args), await ours(...args)];

  before(async function () {
    if (!existsSync('/usr/bin/ansible-playbook')) throw new Error('ansible-playbook is missing: apt-get install ansible-core (.ci/run installs it)');
    // a user with a login shell to become with su (this creates the account: see ensureSudoUser)
    fleet = await startFleet(3, { users: [{ name: suUser }] });
    dir = mkdtempSync(join(tmpdir(), 'provision-habits-'));
    // the known_hosts through ssh's own option: both tools read it from the inventory
    inventory = fleet.writeInventory(join(dir, 'hosts.ini'), `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHostsPath}'`);
    names = fleet.hosts.map((h) => h.name);
  });
  after(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts the recap as ansible-playbook does: ok includes changed, tags and --start-at-task leave tasks out uncounted', async () => {
    for (const args of [[], ['--tags', 'a'], ['--skip-tags', 'b'], ['--tags', 'n'], ['--start-at-task', 'two'], ['--start-at-task', 'fi*']]) {
      const [a, o] = await both(args);
      assert.equal(o.code, a.code, `${args.join(' ')}: exit codes\n${a.stdout}\n${o.stdout}\n${o.stderr}`);
      assert.equal(Object.keys(recap(a.stdout)).length, 3, a.stdout);
      assert.deepEqual(recap(o.stdout), recap(a.stdout), `${args.join(' ') || 'no options'}:\n${a.stdout}\n${o.stdout}`);
    }
    // the JSON report keeps its meaning: ok is tasks that changed nothing, skipped counts what was left out (left_out)
    const report = parseReport((await ours('--tags', 'a', '--json')).stdout);
    assert.deepEqual(report.hosts.host01?.stats, { ok: 1, changed: 1, failed: 0, skipped: 4, left_out: 4 });
  });

  it('lists tasks and tags as ansible-playbook does, honouring --tags/--skip-tags and leaving out never', async () => {
    for (const args of [['--list-tasks'], ['--list-tasks', '--tags', 'b'], ['--list-tasks', '--tags', 'n', '--skip-tags', 'always'], ['--list-tags'], ['--list-tasks', '--list-tags', '--skip-tags', 'a']]) {
      const [a, o] = await both(args);
      assert.equal(o.code, 0, o.stderr);
      assert.equal(o.stdout.replace(ts, 'PLAYBOOK'), a.stdout.replace(yml, 'PLAYBOOK'), args.join(' '));
    }
  });

  it('a play matching no host is skipped (exit 0); a --limit pattern matching nothing warns; one leaving no host fails', async () => {
    const [a, o] = await both([]);
    for (const r of [a, o]) {
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^PLAY \[?nothing\]?[ *]*\nskipping: no hosts matched$/m);
      assert.match(r.stderr, /Could not match supplied host pattern, ignoring: nosuch/);
    }
    const [la, lo] = await both(['--limit', 'host01,nosuch2']);
    for (const r of [la, lo]) {
      assert.equal(r.code, 0);
      assert.match(r.stderr, /Could not match supplied host pattern, ignoring: nosuch2/);
    }
    assert.deepEqual(Object.keys(recap(lo.stdout)), ['host01']);
    assert.deepEqual(recap(lo.stdout), recap(la.stdout));
    const [na, no] = await both(['--limit', 'nosuch2']);
    for (const r of [na, no]) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Specified inventory, host pattern and\/or --limit leaves us with no hosts to target/);
    }
  });

  it('prints ad-hoc results per host as ansible does: command output, failures, JSON results, exit codes', async () => {
    for (const args of [
      ['fleet', '-m', 'shell', '-a', 'echo hi; echo err >&2'],
      ['fleet', '-a', 'echo default is command'],
      ['host01:host02', '-m', 'command', '-a', 'false'],
      ['fleet', '-m', 'ansible.builtin.debug', '-a', 'msg=hello'],
      ['fleet', '-m', 'ping'],
    ]) {
      const a = await ansible(...args);
      const o = await adhoc(...args);
      assert.equal(o.code, a.code, `${args.join(' ')}\n${a.stdout}\n${o.stderr}`);
      const hosts = args[0] === 'fleet' ? names : ['host01', 'host02'];
      // Ansible's ping and debug results carry its interpreter discovery: compared without it
      const theirs = blocks(a.stdout.replace(/ {4}"ansible_facts": \{\n {8}"discovered_interpreter_python": "[^"]*"\n {4}\},\n/g, ''), hosts);
      assert.deepEqual(blocks(o.stdout, hosts), theirs, args.join(' '));
    }
    const list = ['fleet:!host02', '--list-hosts'];
    const [la, lo] = [await ansible(...list), await adhoc(...list)];
    assert.equal(lo.code, 0, lo.stderr);
    assert.equal(lo.stdout, la.stdout);
  });

  it('ad-hoc over the run machinery: --check, the JSON report, key=value typed by the schema, a module file of the user\'s', async () => {
    const root = fleet.hosts[0]!.root;
    const c = await adhoc('host01', '-m', 'file', '-a', `path=${root}/made state=directory recurse=no`, '--check', '--json');
    assert.equal(c.code, 0, c.stderr);
    const report = parseReport(c.stdout);
    assert.equal(report.check, true);
    assert.equal(report.hosts.host01?.tasks[0]?.status, 'changed');
    assert.equal(existsSync(`${root}/made`), false, '--check changed nothing');
    assert.match(c.stderr, /^host01 \| CHANGED => \{/m);
    // --diff: the change's diff, then its host's line
    const d = await adhoc('host01', '-m', 'copy', '-a', `dest=${root}/motd content=hello`, '--check', '--diff');
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^\+hello\n[\s\S]*^host01 \| CHANGED => \{/m);
    assert.equal(existsSync(`${root}/motd`), false);
    const mod = join(dir, 'marker.ts');
    writeFileSync(
      mod,
      "import { copy } from 'provision';\nexport const marker = (p: { at: string; text: string }) => copy({ dest: `${p.at}/marker`, content: `${p.text}\\n` });\n",
    );
    const m = await adhoc('host01', '-m', `${mod}#marker`, '-a', `at=${root} text=hi`);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /^host01 \| CHANGED => \{\n {4}"changed": true,/m);
    const again = await adhoc('host01', '-m', `${mod}#marker`, '-a', JSON.stringify({ at: root, text: 'hi' }));
    assert.match(again.stdout, /^host01 \| SUCCESS => \{\n {4}"changed": false,/m);
  });

  it('-T is the connect timeout and -c the connection type, as ansible\'s', async () => {
    // a host that takes the TCP connection and never says a word
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const inv = join(dir, 'silent.ini');
      writeFileSync(inv, `silent ansible_host=127.0.0.1 ansible_port=${port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath}\n`);
      const a = await runCaptured('ansible', ['-i', inv, 'silent', '-m', 'ping', '-T', '1'], { env, cwd: dir });
      const o = await runCli(['adhoc', 'silent', '-i', inv, '-m', 'ping', '-T', '1', '--connect-retries', '0'], { cwd: dir });
      assert.equal(a.code, 4, a.stdout);
      assert.equal(o.code, 4, o.stderr);
      assert.match(a.stdout, /^silent \| UNREACHABLE! => \{/m);
      assert.match(o.stdout, /^silent \| UNREACHABLE! => \{\n {4}"changed": false,\n {4}"msg": ".*within 1000 ms/m);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
    // -c local where the inventory names no connection: the command runs on the controller
    const local = join(dir, 'local.ini');
    writeFileSync(local, 'nowhere ansible_host=192.0.2.1\n');
    const a = await runCaptured('ansible', ['-i', local, 'nowhere', '-c', 'local', '-m', 'shell', '-a', 'echo local'], { env, cwd: dir });
    const o = await runCli(['adhoc', 'nowhere', '-i', local, '-c', 'local', '-m', 'shell', '-a', 'echo local'], { cwd: dir });
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(blocks(o.stdout, ['nowhere']), blocks(a.stdout, ['nowhere']));
    const bad = await runCli(['adhoc', 'nowhere', '-i', local, '-c', 'docker', '-m', 'ping'], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /-c\/--connection docker: not supported/);
  });

  it('--become-method su becomes another user from a root login, as ansible does; from another user it is refused, naming su', async () => {
    const args = ['host01', '-b', '--become-method', 'su', '--become-user', suUser, '-m', 'command', '-a', 'id -un'];
    const a = await ansible(...args);
    const o = await adhoc(...args);
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(blocks(o.stdout, ['host01']), blocks(a.stdout, ['host01']));
    assert.deepEqual(blocks(o.stdout, ['host01']), [`host01 | CHANGED | rc=0 >>\n${suUser}`]);
    // a nologin account refuses su, in both
    const n = ['host01', '-b', '--become-method', 'su', '--become-user', 'nobody', '-m', 'command', '-a', 'id -un'];
    assert.equal((await adhoc(...n)).code, (await ansible(...n)).code);
    // from a login that is not root, su would ask a password on a terminal: refused, naming su
    const inv = join(dir, 'as-user.ini');
    writeFileSync(inv, `host01 ansible_host=127.0.0.1 ansible_port=${fleet.hosts[0]!.port} ansible_user=${suUser} ansible_ssh_private_key_file=${fleet.clientKeyPath} ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHostsPath}'\n`);
    const u = await runCli(['adhoc', 'host01', '-i', inv, '-b', '--become-method', 'su', '-m', 'command', '-a', 'id -un'], { cwd: dir });
    assert.equal(u.code, 2, u.stdout);
    assert.match(u.stdout, /become method su from provhabits: su asks for its password on a terminal/);
    const bad = await adhoc('host01', '-b', '--become-method', 'doas', '-m', 'ping');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--become-method doas: not supported/);
  });

  it('-vvv shows the commands sent and the connection steps, secrets redacted; --step needs a terminal', async () => {
    const inv = fleet.writeInventory(join(dir, 'secret.ini'), `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHostsPath}' ansible_password=hunter2-habits`);
    const v = await runCli(['adhoc', 'host01', '-i', inv, '-m', 'shell', '-a', 'echo {{ ansible_password }} | wc -c', '-vvv'], { cwd: dir });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr, /^<host01> ESTABLISH SSH CONNECTION FOR USER: root to /m);
    assert.match(v.stderr, /^<host01> EXEC .*echo \*{8} \| wc -c/m);
    assert.doesNotMatch(`${v.stdout}${v.stderr}`, /hunter2-habits/);
    const v4 = await runCli(['adhoc', 'host01', '-i', inv, '-m', 'shell', '-a', 'echo {{ ansible_password }}', '-vvvv'], { cwd: dir });
    assert.equal(v4.code, 0, v4.stderr);
    const protocol = v4.stderr.split('\n').filter((l) => l.startsWith('<host01> ') && !/ (EXEC|ESTABLISH|SSH connection) /.test(l));
    assert.ok(protocol.length > 5, `-vvvv adds the SSH protocol's lines:\n${v4.stderr}`);
    assert.equal(v.stderr.split('\n').filter((l) => protocol.includes(l)).length, 0, '-vvv has none of them');
    assert.doesNotMatch(`${v4.stdout}${v4.stderr}`, /hunter2-habits/);
    const quiet = await runCli(['adhoc', 'host01', '-i', inv, '-m', 'shell', '-a', 'true', '-v'], { cwd: dir });
    assert.doesNotMatch(quiet.stderr, /EXEC/, '-v does not trace commands');
    const s = await ours('--step');
    assert.equal(s.code, 1);
    assert.match(s.stderr, /--step asks before each task: it needs a terminal/);
  });

  it('--step asks before each task in a terminal, once for every host: n leaves it out, c runs the rest unasked', async () => {
    const answers = ['y', 'n', 'c'];
    const theirs = await inTerminal(['ansible-playbook', '-i', inventory, join(repoRoot, 'test/fixtures/habits/step.yml'), '--step'], answers, env);
    const mine = await inTerminal(
      [process.execPath, join(repoRoot, 'bin/provision.js'), 'run', join(repoRoot, 'test/fixtures/habits/step.ts'), '-i', inventory, '--step', '--retry-file', join(dir, 'r')],
      answers,
      { ...process.env, CI: '1' },
    );
    assert.deepEqual(theirs.asked, ['one', 'two', 'three']);
    assert.deepEqual(mine.asked, theirs.asked, mine.output);
    const clean = (t: string) => t.replace(/\r/g, '');
    assert.equal(Object.keys(recap(clean(theirs.output))).length, 3, theirs.output);
    assert.deepEqual(recap(clean(mine.output)), recap(clean(theirs.output)));
  });
});
