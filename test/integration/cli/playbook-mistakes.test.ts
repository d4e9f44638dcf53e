// Mistakes of the playbook are the playbook's: reported once with its file:line:column, exit 1, no retry file; and
// the ansible-playbook style views (--syntax-check, --list-hosts, --list-tasks) that contact no host or change nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, runCli } from '../../helpers/cli.js';

describe('playbook mistakes and listings through the CLI (sshd on loopback)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let inventory: string;
  let dir: string;
  const retry = () => join(dir, 'out.retry');

  const playbook = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const run = (path: string, ...extra: string[]) =>
    runCli(['run', path, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--retry-file', retry(), ...extra]);

  before(async () => {
    fleet = await startFleet(3);
    dir = mkdtempSync(join(tmpdir(), 'provision-mistakes-'));
    inventory = fleet.writeInventory(join(dir, 'inventory.ini'), (h) => `root=${h.root}`);
  });
  after(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a module call that throws inside tasks() is reported once, at the playbook line, exit 1, no retry file', async () => {
    const path = playbook(
      'typo.ts',
      "import { copy, definePlaybook } from 'provision';\n\nexport default definePlaybook({\n  name: 'typo',\n  hosts: 'all',\n  tasks: ({ vars }) => [\n    // @ts-expect-error: the typo\n    copy({ dest: `${String(vars.root)}/motd`, content: 'hi\\n', mdoe: '0600' }),\n  ],\n});\n",
    );
    const r = await run(path);
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('provision: error:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, new RegExp(`^provision: error: ${path.replace(/[.]/g, '\\.')}:8:5: building the task list \\(for host0[123]\\): copy: unknown parameter "mdoe" \\(did you mean "mode"\\?\\)$`));
    assert.equal(existsSync(retry()), false);
    for (const h of fleet.hosts) assert.equal(existsSync(join(h.root, 'motd')), false);
    // --check stops on it the same way (the plan never hides a mistake the real run would meet)
    const checked = await run(path, '--check');
    assert.equal(checked.code, 1, checked.stderr);
    assert.equal(checked.stderr.split('\n').filter((l) => l.startsWith('provision: error:')).length, 1, checked.stderr);
  });

  it('tasks() returning a non-task, a throwing handler: the playbook, once, exit 1', async () => {
    const notTask = playbook(
      'not-task.ts',
      "import { debug, definePlaybook } from 'provision';\nexport default definePlaybook({ name: 'n', hosts: 'all', tasks: () => [debug({ msg: 'a' }), 'debug' as never] });\n",
    );
    const r = await run(notTask);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.match(/provision: error:/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /not-task\.ts: building the task list \(for host0\d\): the list tasks\(\) returned\[1\] is not a task \(got "debug"\)/);

    const handler = playbook(
      'handler.ts',
      "import { copy, definePlaybook, service } from 'provision';\nexport default definePlaybook({ name: 'h', hosts: 'all',\n  tasks: ({ vars }) => [copy({ dest: `${String(vars.root)}/h.conf`, content: 'x\\n', notify: 'restart' })],\n  handlers: { restart: () => service({ name: 'x', state: 'restarted', enabld: true } as never) },\n});\n",
    );
    const h = await run(handler);
    assert.equal(h.code, 1, h.stderr);
    assert.match(h.stderr, /handler\.ts:4:30: building the handler "restart" \(for host0\d\): service: unknown parameter "enabld" \(did you mean "enabled"\?\)/);
  });

  it('load errors point at the playbook: a top-level throw, a package that is not installed', async () => {
    const top = playbook('top.ts', "import { definePlaybook } from 'provision';\n\nconst port = Number('x');\nif (Number.isNaN(port)) throw new Error('port is not a number');\nexport default definePlaybook({ name: 't', hosts: 'all', tasks: [] });\n");
    const r = await run(top);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`provision: error: ${top.replace(/[.]/g, '\\.')}:4:31: the playbook does not load: port is not a number`));
    assert.doesNotMatch(r.stderr, /dist\/(playbook|chunks)\//); // the loader's own frame is not the location

    const pkg = playbook('pkg.ts', "import { definePlaybook } from 'provision';\nimport { thing } from 'no-such-package/sub';\nexport default definePlaybook({ name: thing, hosts: 'all', tasks: [] });\n");
    const p = await run(pkg);
    assert.equal(p.code, 1);
    assert.match(p.stderr, /pkg\.ts:2:23: cannot find the package "no-such-package\/sub" imported here: install it in the playbook's project \(npm install no-such-package\)/);
    assert.doesNotMatch(p.stderr, /'provision'/);
  });

  it('a --limit that leaves no host is an error (exit 1); a play whose hosts match nothing is skipped (exit 0); as ansible-playbook', async () => {
    const ok = playbook('ok.ts', "import { debug, definePlaybook } from 'provision';\nexport default definePlaybook({ name: 'ok', hosts: 'fleet', tasks: [debug({ msg: 'hi' })] });\n");
    const r = await run(ok, '--limit', 'flet');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^provision: warning: Could not match supplied host pattern, ignoring: flet$/m);
    assert.match(r.stderr, /provision: error: Specified inventory, host pattern and\/or --limit leaves us with no hosts to target/);
    const none = playbook('none.ts', "import { debug, definePlaybook } from 'provision';\nexport default definePlaybook({ name: 'none', hosts: 'webservers', tasks: [debug({ msg: 'hi' })] });\n");
    const n = await run(none);
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stderr, /^provision: warning: Could not match supplied host pattern, ignoring: webservers$/m);
    assert.match(n.stdout, /^PLAY none\nskipping: no hosts matched$/m);
  });

  it('a host whose connection type is not supported does not abort the run: outside --limit it is ignored, inside it alone fails', async () => {
    const inv = join(dir, 'mixed.ini');
    writeFileSync(inv, `${readFileSync(inventory, 'utf8')}[odd]\ncontainer1 ansible_connection=docker root=/nonexistent\n`);
    const path = playbook('all.ts', "import { debug, definePlaybook } from 'provision';\nexport default definePlaybook({ name: 'all', hosts: 'all', tasks: [debug({ msg: 'hi' })] });\n");
    const limited = await runCli(['run', path, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--retry-file', retry(), '--json', '--limit', 'fleet']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.deepEqual(Object.keys(parseReport(limited.stdout).hosts), fleet.hosts.map((h) => h.name));
    const all = await runCli(['run', path, '-i', inv, '--known-hosts', fleet.knownHostsPath, '--retry-file', retry(), '--json']);
    assert.equal(all.code, 4, all.stderr);
    const report = parseReport(all.stdout);
    assert.equal(report.hosts.container1?.status, 'unreachable');
    assert.match(report.hosts.container1?.error ?? '', /unsupported connection 'docker'/);
    for (const h of fleet.hosts) assert.equal(report.hosts[h.name]?.status, 'ok');
    rmSync(retry(), { force: true });
  });

  it('--syntax-check and --list-hosts contact no host; --list-tasks neither', async () => {
    const down = join(dir, 'down.ini');
    writeFileSync(down, '[fleet]\nghost ansible_host=127.0.0.1 ansible_port=1 root=/nonexistent\n');
    const path = playbook(
      'list.ts',
      "import { definePlaybook, file, debug } from 'provision';\nexport default definePlaybook({ name: 'list', hosts: 'fleet',\n  tasks: ({ vars, facts }) => [file({ path: `${String(vars.root)}/d`, state: 'directory', tags: ['dirs'] }), debug({ msg: `os ${facts.os.family}` })] });\n",
    );
    const s = await runCli(['run', path, '-i', down, '--syntax-check']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, `playbook: ${path}\n`);
    const l = await runCli(['run', path, '-i', down, '--list-hosts']);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, 'play: list (hosts: fleet)\n  hosts (1):\n    ghost\n');
    const bad = playbook('bad.ts', "import { definePlaybook } from 'provision';\nexport default definePlaybook({ name: 'x', hosts: 'all', tasks: [ ) });\n");
    assert.equal((await runCli(['run', bad, '-i', down, '--syntax-check'])).code, 1);

    // listed without connecting: the host is down, its facts unknown
    const t = await runCli(['run', path, '-i', down, '--list-tasks']);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, `\nplaybook: ${path}\n\n  play #1 (fleet): list\tTAGS: []\n    tasks:\n      directory /nonexistent/d\tTAGS: [dirs]\n      debug\tTAGS: []\n`);
  });

  it('import.meta.url and import.meta.dirname are the files\' own, in the playbook and what it imports', async () => {
    mkdirSync(join(dir, 'roles'), { recursive: true });
    writeFileSync(join(dir, 'roles', 'motd.ejs'), 'hello <%= inventory_hostname %>\n');
    writeFileSync(
      join(dir, 'roles', 'motd.ts'),
      "import { template } from 'provision';\nexport const motd = (root: string) => template({ src: new URL('./motd.ejs', import.meta.url).pathname, dest: `${root}/motd-${import.meta.dirname.split('/').pop()}` });\n",
    );
    const path = playbook(
      'meta.ts',
      "import { definePlaybook, copy } from 'provision';\nimport { motd } from './roles/motd.js';\nexport default definePlaybook({ name: 'meta', hosts: 'fleet',\n  tasks: ({ vars }) => [motd(String(vars.root)), copy({ dest: `${String(vars.root)}/url`, content: `${import.meta.url}\\n` })] });\n",
    );
    const r = await run(path);
    assert.equal(r.code, 0, r.stderr);
    for (const h of fleet.hosts) {
      assert.equal(readdirSync(h.root).includes('motd-roles'), true);
    }
  });
});
