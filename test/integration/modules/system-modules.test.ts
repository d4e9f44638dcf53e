// The system modules against this machine through LocalConnection: facts, command/shell, packages (check only),
// service (a throwaway init script), django (a throwaway project), http (a local server), selinux (absent here).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';
import { CommandError, MissingOnHostError } from '../../../src/errors.js';
import { gatherFacts } from '../../../src/facts/gather.js';
import type { Facts } from '../../../src/facts/types.js';
import { command, shell } from '../../../src/modules/command.js';
import { django } from '../../../src/modules/django.js';
import { http } from '../../../src/modules/http.js';
import { packages } from '../../../src/modules/packages.js';
import { selinux } from '../../../src/modules/selinux.js';
import { service } from '../../../src/modules/service.js';
import type { ApplyResult, Plan, Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';

const conn = new LocalConnection('local');
let facts: Facts;
let dir: string;

function ctxFor(checkMode: boolean, f: Facts = facts) {
  return createContext({ host: 'local', conn, vars: {}, facts: f, checkMode, become: false, baseDir: dir });
}

/** Check, then apply what was planned, as the runner does; returns both. */
async function runTask(task: Task): Promise<{ plan: Plan; applied?: ApplyResult | void }> {
  const ctx = ctxFor(false);
  const plan = await task.check(ctx);
  if (!plan.changed || plan.skipped !== undefined) return { plan };
  return { plan, applied: await task.apply(ctx, plan) };
}

const checkOnly = (task: Task, f?: Facts) => task.check(ctxFor(true, f));

before(async function () {
  dir = mkdtempSync(join(tmpdir(), 'provision-sys-'));
  facts = await gatherFacts(conn);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('facts on this machine', () => {
  it('are gathered in one round trip and describe this Debian host', async () => {
    const c = new LocalConnection('local');
    const f = await gatherFacts(c);
    assert.equal(c.stats.roundTrips, 1);
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    assert.equal(f.os.id, /^ID=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, ''));
    assert.equal(f.os.family, 'debian');
    assert.equal(f.packageManager, 'apt');
    assert.equal(f.init, existsSync('/run/systemd/system') ? 'systemd' : 'sysv');
    assert.equal(f.user, execFileSync('id', ['-un']).toString().trim());
    assert.equal(f.uid, process.getuid?.());
    assert.equal(f.python, '/usr/bin/python3');
    assert.equal(f.apache.service, 'apache2');
    assert.equal(f.selinux.present, existsSync('/sys/fs/selinux/enforce') || existsSync('/etc/selinux/config'));
  });

  it('name the python that has the distribution Django, whatever PATH puts first', () => {
    requireDistributionDjango(facts.python!);
  });
});

/** These tests need the distribution's Django (`.ci/run` installs it); say so rather than show a traceback. */
function requireDistributionDjango(python: string): void {
  try {
    execFileSync(python, ['-c', 'import django'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${python} cannot import django: install the distribution's Django (apt-get install python3-django)`);
  }
}

describe('command and shell', () => {
  it('creates: changed and run the first time, ok (not run) the second', async () => {
    const target = join(dir, 'made by command');
    const task = command({ cmd: ['touch', target], creates: target });
    const first = await runTask(task);
    assert.equal(first.plan.summary, `would run: touch '${target}'`);
    assert.equal(first.applied?.changed, true);
    assert.ok(existsSync(target));
    const second = await runTask(task);
    assert.equal(second.plan.changed, false);
    assert.equal(second.plan.summary, `skipped, since ${target} exists`);
  });

  it('removes: runs only while the path exists; relative guards resolve against chdir', async () => {
    writeFileSync(join(dir, 'old'), 'x');
    const task = command({ cmd: 'rm old', chdir: dir, removes: 'old' });
    assert.equal((await runTask(task)).plan.changed, true);
    assert.ok(!existsSync(join(dir, 'old')));
    assert.equal((await runTask(task)).plan.summary, 'skipped, since old does not exist');
  });

  it('without a guard: check says would run and changes nothing; apply returns stdout, stderr and rc', async () => {
    const marker = join(dir, 'never');
    const task = command({ cmd: ['sh', '-c', `echo out; echo err >&2; touch "$1"`, 'sh', marker] });
    const plan = await checkOnly(task);
    assert.equal(plan.changed, true);
    assert.match(plan.summary ?? '', /^would run: sh -c /);
    assert.ok(!existsSync(marker), 'check must not run the command');
    const { applied } = await runTask(task);
    assert.deepEqual({ ...applied, summary: undefined }, { changed: true, stdout: 'out\n', stderr: 'err\n', rc: 0, summary: undefined });
  });

  it('passes arguments literally: spaces, quotes, $(), backticks, newlines and non-ASCII', async () => {
    const weird = join(dir, `a b 'c' "d" $(echo e) \`f\` g\nh é`);
    await runTask(command({ cmd: ['touch', weird] }));
    assert.ok(existsSync(weird));
    const viaString = await runTask(command({ cmd: `printf '%s|' "$HOME" 'x y' a\\ b` }));
    assert.equal(viaString.applied?.stdout, '$HOME|x y|a b|');
  });

  it('a non-zero exit fails the task with a CommandError carrying rc and stderr', async () => {
    await assert.rejects(runTask(command({ cmd: ['sh', '-c', 'echo nope >&2; exit 3'] })), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.equal(err.code, 3);
      assert.equal(err.stderr, 'nope\n');
      return true;
    });
  });

  it('shell: pipes, variables, chdir, env and stdin work', async () => {
    const { applied } = await runTask(shell({ cmd: 'cat | tr a-z A-Z; echo "$GREETING" $(basename "$PWD")', chdir: dir, env: { GREETING: 'hi there' }, stdin: 'abc\n' }));
    assert.equal(applied?.stdout, `ABC\nhi there ${dir.split('/').pop()}\n`);
  });

  it('shell with creates is idempotent', async () => {
    const target = join(dir, 'shell-made');
    const task = shell({ cmd: `echo made > ${target}`, creates: target });
    assert.equal((await runTask(task)).plan.changed, true);
    assert.equal(readFileSync(target, 'utf8'), 'made\n');
    assert.equal((await runTask(task)).plan.changed, false);
  });
});

describe('packages (check phase; nothing is installed or removed)', () => {
  const fake = 'provision-test-no-such-package';

  it('an installed package is ok; a missing one is planned as + name, in one round trip', async () => {
    assert.equal((await checkOnly(packages({ present: ['coreutils'] }))).changed, false);
    const before = conn.stats.roundTrips;
    const plan = await checkOnly(packages({ present: ['coreutils', fake] }));
    assert.equal(conn.stats.roundTrips - before, 1);
    assert.equal(plan.changed, true);
    assert.equal(plan.summary, `+ ${fake}`);
    assert.deepEqual(plan.data, { manager: 'apt', install: [fake], remove: [] });
  });

  it('absent: a package that is not installed is ok; an installed one is planned as - name', async () => {
    assert.equal((await checkOnly(packages({ absent: [fake] }))).changed, false);
    const plan = await checkOnly(packages({ absent: ['coreutils'] }));
    assert.equal(plan.summary, '- coreutils');
  });

  it('an unknown package fails the real run with apt\'s own error', async function () {
    this.timeout(120_000);
    await assert.rejects(runTask(packages({ present: [fake] })), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.match(err.message, new RegExp(`Unable to locate package ${fake}`));
      return true;
    });
  });

  it('a host without a supported package manager is a clear error', async () => {
    await assert.rejects(checkOnly(packages({ present: ['x'] }), { ...facts, packageManager: null }), /no supported package manager on local/);
  });
});

describe('service (SysV, with a throwaway init script)', function () {
  const name = `provision-test-${process.pid}`;
  const script = `/etc/init.d/${name}`;
  let pidFile: string;

  before(function () {
    if (facts.init !== 'sysv' || !existsSync('/usr/sbin/update-rc.d') || process.getuid?.() !== 0) this.skip();
    pidFile = join(dir, 'svc.pid');
    writeFileSync(script, `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${name}
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: provision test service
### END INIT INFO
pidfile='${pidFile}'
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
  start) running || { sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > "$pidfile"; } ;;
  stop) running && kill "$(cat "$pidfile")"; rm -f "$pidfile" ;;
  restart|reload) "$0" stop; "$0" start ;;
  status) running && exit 0; exit 3 ;;
  *) exit 2 ;;
esac
`);
    chmodSync(script, 0o755);
  });

  after(() => {
    if (!pidFile) return;
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()));
      } catch {}
    }
    try {
      execFileSync('update-rc.d', ['-f', name, 'remove'], { stdio: 'ignore' });
    } catch {}
    rmSync(script, { force: true });
  });

  const rcLinks = () => ['rc2.d', 'rc3.d'].flatMap((d) => readdirSync(`/etc/${d}`).filter((f) => f.endsWith(name) && f.startsWith('S')));

  it('started and enabled: changed, then ok', async () => {
    const task = service({ name, state: 'started', enabled: true });
    const check = await checkOnly(task);
    assert.equal(check.summary, 'stopped → started, disabled → enabled');
    await runTask(task);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 0); // throws unless running
    assert.equal(rcLinks().length, 2);
    const again = await checkOnly(task);
    assert.equal(again.changed, false);
    assert.equal(again.summary, 'running, enabled');
  });

  it('restarted always changes (a new process); stopped and disabled, then ok', async () => {
    const before = readFileSync(pidFile, 'utf8');
    const restart = await runTask(service({ name, state: 'restarted' }));
    assert.equal(restart.plan.summary, 'restart');
    assert.notEqual(readFileSync(pidFile, 'utf8'), before);
    const stop = service({ name, state: 'stopped', enabled: false });
    assert.equal((await runTask(stop)).plan.summary, 'started → stopped, enabled → disabled');
    assert.ok(!existsSync(pidFile));
    assert.equal(rcLinks().length, 0);
    assert.equal((await checkOnly(stop)).changed, false);
  });

  it('a service that does not exist: missing on the host (the runner predicts it only after a planned change that may create it), a clear failure in a real run', async () => {
    const task = service({ name: 'provision-test-missing', state: 'started' });
    await assert.rejects(checkOnly(task), (err: unknown) => {
      assert.ok(err instanceof MissingOnHostError);
      assert.match(err.message, /service provision-test-missing not found on local \(no \/etc\/init.d\/provision-test-missing\)/);
      assert.deepEqual(err.needs, [{ path: 'service:provision-test-missing' }, { path: '/etc/init.d/provision-test-missing' }]);
      return true;
    });
    await assert.rejects(runTask(task), /service provision-test-missing not found on local \(no \/etc\/init.d\/provision-test-missing\)/);
  });
});

describe('django (a throwaway project)', function () {
  let project: string;

  before(function () {
    this.timeout(60_000);
    requireDistributionDjango(facts.python!);
    project = join(dir, 'site');
    mkdirSync(project);
    execFileSync(facts.python!, ['-m', 'django', 'startproject', 'mysite', project], { stdio: 'ignore', env: { ...process.env, PATH: '/usr/bin:/bin' } });
    const settings = join(project, 'mysite', 'settings.py');
    writeFileSync(settings, `${readFileSync(settings, 'utf8')}\nSTATIC_ROOT = BASE_DIR / 'www_static'\n`);
  });

  it('migrate: check plans without creating the database; run applies; then ok', async () => {
    const task = django({ project, command: 'migrate --noinput' });
    const plan = await checkOnly(task);
    assert.equal(plan.summary, 'would create the database and apply all migrations');
    assert.ok(!existsSync(join(project, 'db.sqlite3')), 'check must not create the SQLite file');
    const { applied } = await runTask(task);
    assert.equal(applied?.changed, true);
    assert.match(applied?.stdout ?? '', /Applying auth\.0001_initial/);
    assert.match(applied?.summary ?? '', /^created the database and applied \d+ migrations: contenttypes\.0001_initial, /);
    const again = await checkOnly(task);
    assert.equal(again.changed, false);
    assert.equal(again.summary, 'no migrations to apply');
  });

  it('migrate on an existing empty database names the pending migrations', async () => {
    const other = join(dir, 'empty.sqlite3');
    writeFileSync(other, '');
    const settings = join(project, 'mysite', 'settings_empty.py');
    writeFileSync(settings, `from .settings import *\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ${JSON.stringify(other)}}}\n`);
    const plan = await checkOnly(django({ project, command: 'migrate', settings: 'mysite.settings_empty' }));
    assert.match(plan.summary ?? '', /^would apply \d+ migrations: contenttypes\.0001_initial, /);
  });

  it('collectstatic: check counts what a dry run would copy; run copies; then ok', async () => {
    const task = django({ project, command: 'collectstatic --noinput' });
    const plan = await checkOnly(task);
    assert.match(plan.summary ?? '', /^would copy [1-9]\d* static files \(0 unmodified\)$/);
    assert.ok(!existsSync(join(project, 'www_static')), 'the dry run copies nothing');
    const { applied } = await runTask(task);
    assert.equal(applied?.changed, true);
    assert.ok(existsSync(join(project, 'www_static', 'admin')));
    assert.match(applied?.summary ?? '', /^copied [1-9]\d* static files \(0 unmodified\)$/);
    const again = await runTask(task);
    assert.equal(again.plan.changed, false);
    assert.match(again.plan.summary ?? '', /^0 static files to copy, \d+ unmodified$/);
  });

  it('other commands: would run, and changed', async () => {
    const task = django({ project, command: 'check' });
    assert.equal((await checkOnly(task)).summary, 'would run: manage.py check');
    const { applied } = await runTask(task);
    assert.equal(applied?.changed, true);
    assert.match(applied?.stdout ?? '', /System check identified no issues/);
  });

  it('a failing command fails the task with its error', async () => {
    await assert.rejects(runTask(django({ project, command: 'no-such-command' })), /Unknown command: 'no-such-command'/);
  });
});

describe('http (a local server on 127.0.0.1)', () => {
  let server: Server;
  let base: string;
  let flaky = 0;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/flaky' && flaky++ < 2) {
        res.writeHead(503).end('warming up');
      } else if (req.url === '/down') {
        res.writeHead(500).end('x'.repeat(500));
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1>Hello ${req.headers['x-who'] ?? 'world'}</h1>`);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const from of ['controller', 'host'] as const) {
    it(`from ${from}: ok when the status and text match (never a change), redirects followed, headers sent`, async () => {
      const plan = await checkOnly(http({ url: `${base}/moved`, contains: 'Hello world', from }));
      assert.equal(plan.changed, false);
      assert.equal(plan.summary, `GET ${base}/moved → 200`);
      assert.equal((await checkOnly(http({ url: base, contains: 'Hello me', headers: { 'X-Who': 'me' }, from }))).changed, false);
    });

    it(`from ${from}: retries until healthy`, async () => {
      flaky = 0;
      const plan = await checkOnly(http({ url: `${base}/flaky`, retries: 3, delay: 0.05, from }));
      assert.equal(plan.changed, false);
      assert.equal(flaky, 3);
    });

    it(`from ${from}: fails with what it received`, async () => {
      await assert.rejects(checkOnly(http({ url: `${base}/down`, retries: 1, delay: 0.01, from })),
        new RegExp(`: GET ${base}/down: expected status 200, got 500 after 2 attempts; body: "x{200}"$`));
      const closed = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const port = (s.address() as AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      await assert.rejects(checkOnly(http({ url: `http://127.0.0.1:${closed}/`, retries: 0, from })), /got no answer after 1 attempt: .*(refused|ECONNREFUSED)/i);
    });
  }

  it('the common timeout bounds the whole check, retries included, and the failure still says what was received', async () => {
    const started = Date.now();
    await assert.rejects(checkOnly(http({ url: `${base}/down`, retries: 100, delay: 0.2, timeout: 1, from: 'controller' })),
      /got 500 after \d attempts/);
    assert.ok(Date.now() - started < 1000);
  });

  it('from host without python falls back to curl', async () => {
    const plan = await checkOnly(http({ url: base, contains: 'Hello', from: 'host' }), { ...facts, python: null });
    assert.equal(plan.changed, false);
    await assert.rejects(checkOnly(http({ url: `${base}/down`, retries: 0, from: 'host' }), { ...facts, python: null }), /got 500 after 1 attempt/);
  });
});

describe('selinux', () => {
  it('is skipped with the reason where SELinux is absent', async function () {
    if (facts.selinux.present) this.skip();
    const plan = await checkOnly(selinux({ state: 'permissive' }));
    assert.equal(plan.skipped, 'SELinux is not present on this host');
  });
});
