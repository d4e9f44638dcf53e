// The seed's job for real on 3 separate lab hosts (systemd, their own package databases), through the CLI: two
// projects, both modes, a serial rollout with the health gate, reboots, a code change, data kept, and a network fault.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostReport, RunReport } from '../../src/runner/events.js';
import { cliPath, parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { labAddress, startLab, type Lab } from '../lab/lab.js';

type TaskReport = HostReport['tasks'][number];
const hosts = ['h1', 'h2', 'h3'];
const addressOf = labAddress;

interface Fetched {
  status: number;
  body: string;
  headers: Headers;
}

/** GETs (or POSTs) a URL on a lab host, polling while Apache is not answering yet (a restart, a reboot), up to 30 s. */
async function get(url: string, init: RequestInit = {}): Promise<Fetched> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
      return { status: res.status, body: await res.text(), headers: res.headers };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${init.method ?? 'GET'} ${url}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Signs the guestbook through its form, as a browser does: the CSRF cookie and token from the page, then the POST. */
async function sign(base: string, name: string, message: string): Promise<void> {
  const page = await get(`${base}/`);
  assert.equal(page.status, 200, page.body);
  const cookie = /csrftoken=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
  const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(cookie && token, 'the form has a CSRF cookie and token');
  const r = await get(`${base}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `csrftoken=${cookie}` },
    body: new URLSearchParams({ csrfmiddlewaretoken: token, name, message }).toString(),
  });
  assert.equal(r.status, 302, `the form saved and redirected: ${r.status} ${r.body.slice(0, 300)}`);
}

interface Entries {
  entries: Array<{ name: string; message: string }>;
  mode: string;
  process_group: string | null;
  pid: number;
  uid: number;
  debug: boolean;
  settings: string;
  database: string;
}

interface WsgiInfo {
  mode: string;
  process_group: string | null;
  application_group: string | null;
  pid: number;
  debug: boolean;
  settings: string;
}

describe('Django on Apache + mod_wsgi, end to end on 3 lab hosts', function () {
  this.timeout(1_800_000);

  let lab: Lab;
  let work: string;
  const inv = { mysite: '', guestbook: '' };
  const src = { mysite: '', guestbook: '' };
  const retryFile = () => join(work, 'daemon.retry');

  const mysiteUrl = (i: number, path = '/') => `http://${addressOf(i)}:8080${path}`;
  const guestbookUrl = (i: number, path = '/') => `http://${addressOf(i)}:8081${path}`;

  function writeInventory(site: 'mysite' | 'guestbook', vars: Record<string, unknown>): void {
    mkdirSync(join(inv[site], 'group_vars'), { recursive: true });
    cpSync(lab.inventory, join(inv[site], 'hosts'));
    // JSON is YAML: the group's variables as an inventory keeps them.
    writeFileSync(join(inv[site], 'group_vars/web.yml'), `${JSON.stringify(vars, null, 2)}\n`);
  }

  async function play(site: 'mysite' | 'guestbook', playbook: 'daemon' | 'embedded', ...extra: string[]): Promise<{ code: number | null; report: RunReport; stderr: string }> {
    const r = await runCli([
      'run',
      join(repoRoot, `playbooks/${playbook}.ts`),
      '-i',
      inv[site],
      '--known-hosts',
      lab.knownHosts,
      '--retry-file',
      retryFile(),
      '--json',
      ...extra,
    ]);
    return { code: r.code, report: parseReport(r.stdout), stderr: r.stderr };
  }

  /** Runs and asserts exit 0, naming each failed task otherwise. */
  async function playOk(site: 'mysite' | 'guestbook', playbook: 'daemon' | 'embedded', ...extra: string[]): Promise<RunReport> {
    const { code, report, stderr } = await play(site, playbook, ...extra);
    const failures = Object.entries(report.hosts).flatMap(([h, r]) => [
      ...(r.error ? [`${h}: ${r.error}`] : []),
      ...r.tasks.filter((t) => t.status === 'failed').map((t) => `${h}: ${t.name}: ${t.error}`),
    ]);
    assert.equal(code, 0, `provision run ${playbook} (${site}) ${extra.join(' ')} exited ${code}:\n${failures.join('\n')}\n${stderr.slice(-2000)}`);
    return report;
  }

  const changedNames = (tasks: TaskReport[]) => tasks.filter((t) => t.changed).map((t) => t.name);
  const changedPerHost = (report: RunReport) => Object.fromEntries(hosts.map((h) => [h, report.hosts[h]?.stats.changed]));

  async function wsgiInfo(i: number): Promise<WsgiInfo> {
    const r = await get(mysiteUrl(i, '/wsgi/'));
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as WsgiInfo;
  }

  async function entries(i: number): Promise<Entries> {
    const r = await get(guestbookUrl(i, '/entries.json'));
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as Entries;
  }

  const apacheParent = async (i: number) => (await lab.sshOk(i, 'cat /run/apache2/apache2.pid')).trim();

  before(async function () {
    lab = await startLab(3);
    work = mkdtempSync(join(tmpdir(), 'provision-e2e-lab-'));
    for (const site of ['mysite', 'guestbook'] as const) {
      src[site] = join(work, 'src', site);
      cpSync(join(repoRoot, 'examples', site), src[site], { recursive: true, filter: (p) => !/(__pycache__|www_static|\.sqlite3|logfile)$/.test(p) });
      inv[site] = join(work, `inventory-${site}`);
    }
    const allowed = ['127.0.0.1', ...hosts.map((_, k) => addressOf(k + 1))];
    writeInventory('mysite', {
      project_dir: '/srv/mysite',
      project_src: src.mysite,
      site_name: 'mysite',
      http_port: 8080,
      allowed_hosts: allowed,
      page_text: 'Hello from mysite',
      // One daemon process, so /wsgi/ always answers from the process whose pid the test follows.
      wsgi_processes: 1,
      wsgi_threads: 15,
    });
    writeInventory('guestbook', {
      project_dir: '/srv/guestbook',
      project_src: src.guestbook,
      site_name: 'guestbook',
      http_port: 8081,
      allowed_hosts: allowed,
      app_env: { GUESTBOOK_GREETING: 'Welcome to the lab guestbook' },
      wsgi_processes: 1,
    });
  });

  after(async function () {
    if (lab) await lab.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('deploys mysite in daemon mode with --serial 1,100% and the health gate: each host installs from its own package database', async () => {
    const report = await playOk('mysite', 'daemon', '--serial', '1,100%', '--max-fail-percentage', '0');
    assert.deepEqual(report.batches, [['h1'], ['h2', 'h3']]);
    for (const [k, h] of hosts.entries()) {
      const i = k + 1;
      assert.equal(report.hosts[h]?.status, 'changed');
      const pkgs = await lab.sshOk(i, "dpkg-query -W -f='${Package} ${Status}\\n' apache2 libapache2-mod-wsgi-py3 python3-django");
      for (const line of pkgs.trim().split('\n')) assert.match(line, /install ok installed$/, `h${i}: ${line}`);

      const home = await get(mysiteUrl(i));
      assert.equal(home.status, 200, home.body);
      assert.match(home.body, /Hello from mysite/);
      assert.equal((await get(mysiteUrl(i, '/static/css/site.css'))).status, 200);
      const info = await wsgiInfo(i);
      assert.deepEqual([info.mode, info.process_group, info.debug, info.settings], ['daemon', 'mysite', false, 'settings_production']);
      // the daemon runs as the site's own system user, not as Apache's
      assert.equal((await lab.sshOk(i, `ps -o user= -p ${info.pid}`)).trim(), 'mysite');
      const missing = await get(mysiteUrl(i, '/no-such-page/'));
      assert.equal(missing.status, 404);
      assert.doesNotMatch(missing.body, /URLconf|DEBUG = True|Traceback/, 'a plain 404, not the debug page');
    }
    // what the page wrote, through group permissions only
    const modes = (await lab.sshOk(1, 'stat -c "%n %a %G" /srv/mysite/db /srv/mysite/db/db.sqlite3 /srv/mysite/logs /srv/mysite/logs/logfile')).trim();
    assert.equal(modes, ['/srv/mysite/db 770 mysite', '/srv/mysite/db/db.sqlite3 660 mysite', '/srv/mysite/logs 770 mysite', '/srv/mysite/logs/logfile 660 mysite'].join('\n'));
    assert.match(await lab.sshOk(1, 'cat /srv/mysite/logs/logfile'), /home page served/);
    // a real run speaks in the past tense
    const summaries = report.hosts['h1']!.tasks.map((t) => t.summary ?? '');
    assert.ok(summaries.some((s) => /^created the database and applied \d+ migrations: /.test(s)), summaries.join('\n'));
    assert.ok(summaries.some((s) => /^copied 1 static file /.test(s)), summaries.join('\n'));
  });

  it('changes nothing on any host when run again', async () => {
    const report = await playOk('mysite', 'daemon');
    assert.deepEqual(changedPerHost(report), { h1: 0, h2: 0, h3: 0 });
  });

  it('shows a variable change with --check --diff without making it, then applies exactly that', async () => {
    const vars = JSON.parse(readFileSync(join(inv.mysite, 'group_vars/web.yml'), 'utf8')) as Record<string, unknown>;
    writeInventory('mysite', { ...vars, wsgi_threads: 7 });
    const parent = await apacheParent(1);
    const checked = await playOk('mysite', 'daemon', '--check', '--diff', '--limit', 'h1');
    const conf = checked.hosts['h1']!.tasks.find((t) => /Apache site config/.test(t.name));
    assert.ok(conf?.changed, JSON.stringify(checked.hosts['h1']!.tasks));
    assert.match(conf.diff?.[0]?.before ?? '', /threads=15 /);
    assert.match(conf.diff?.[0]?.after ?? '', /threads=7 /);
    assert.match(await lab.sshOk(1, 'cat /etc/apache2/sites-available/mysite.conf'), /threads=15 /, '--check changed nothing');
    assert.equal(await apacheParent(1), parent, '--check restarted nothing');

    const applied = await playOk('mysite', 'daemon');
    for (const h of hosts) {
      const tasks = applied.hosts[h]!.tasks;
      assert.deepEqual(changedNames(tasks.filter((t) => t.module !== 'service')), ['Apache site config (daemon mode)'], h);
      assert.equal(tasks.filter((t) => t.module === 'service' && t.changed).length, 1, `${h}: Apache restarted once`);
    }
    assert.notEqual(await apacheParent(1), parent);
  });

  it('reloads only the daemon processes on a code change in daemon mode', async () => {
    const before = await Promise.all([1, 2, 3].map(wsgiInfo));
    const parents = await Promise.all([1, 2, 3].map(apacheParent));
    const views = join(src.mysite, 'hello/views.py');
    writeFileSync(views, `${readFileSync(views, 'utf8')}\n# changed by the end-to-end test\n`);
    const report = await playOk('mysite', 'daemon');
    for (const [k, h] of hosts.entries()) {
      const names = changedNames(report.hosts[h]!.tasks);
      assert.deepEqual(names, ['sync the project', 'reload daemon'], h);
      const after = await wsgiInfo(k + 1);
      assert.equal(after.mode, 'daemon');
      assert.notEqual(after.pid, before[k]!.pid, `${h}: the daemon process was replaced`);
      assert.equal(await apacheParent(k + 1), parents[k], `${h}: Apache's parent process kept running`);
    }
  });

  it('is enabled under systemd: a rebooted host serves the site again with no run', async () => {
    assert.equal((await lab.sshOk(2, 'systemctl is-enabled apache2')).trim(), 'enabled');
    await lab.restart(2);
    const home = await get(mysiteUrl(2));
    assert.equal(home.status, 200);
    assert.match(home.body, /Hello from mysite/);
    assert.equal((await wsgiInfo(2)).mode, 'daemon');
  });

  it('deploys a second project (guestbook: another layout) by inventory variables alone, as a second daemon-mode site', async () => {
    const report = await playOk('guestbook', 'daemon');
    for (const h of hosts) assert.equal(report.hosts[h]?.stats.failed, 0);
    const page = await get(guestbookUrl(1));
    assert.match(page.body, /Welcome to the lab guestbook/, 'the env file reached the application');
    assert.equal((await get(guestbookUrl(1, '/static/guestbook/css/guestbook.css'))).status, 200);
    await sign(guestbookUrl(1), 'Ada', 'first entry');
    await sign(guestbookUrl(1), 'Grace', 'second entry');
    const e = await entries(1);
    assert.deepEqual(e.entries.map((x) => x.name), ['Grace', 'Ada']);
    assert.deepEqual([e.mode, e.process_group, e.settings, e.database], ['daemon', 'guestbook', 'settings_production', '/srv/guestbook/db/db.sqlite3']);
    assert.equal(String(e.uid), (await lab.sshOk(1, 'id -u guestbook')).trim(), 'the daemon runs as the guestbook user');
    // both sites answer, each in its own process group
    assert.equal((await wsgiInfo(1)).process_group, 'mysite');
    // the env file: the application's group only; its content never printed
    assert.equal((await lab.sshOk(1, 'stat -c "%a %U %G" /srv/guestbook/production.env')).trim(), '640 root guestbook');
    const envTask = report.hosts['h1']!.tasks.find((t) => t.name === 'application environment');
    assert.doesNotMatch(JSON.stringify(envTask), /Welcome to the lab guestbook/);
  });

  it('keeps the data through a redeploy and mode switches: daemon, embedded, daemon; reruns change nothing', async () => {
    assert.deepEqual(changedPerHost(await playOk('guestbook', 'daemon')), { h1: 0, h2: 0, h3: 0 });
    assert.equal((await entries(1)).entries.length, 2);

    await playOk('guestbook', 'embedded');
    const embedded = await entries(1);
    assert.deepEqual([embedded.mode, embedded.entries.length], ['embedded', 2]);
    await sign(guestbookUrl(1), 'Linus', 'written in embedded mode');
    assert.deepEqual(changedPerHost(await playOk('guestbook', 'embedded')), { h1: 0, h2: 0, h3: 0 });

    await playOk('guestbook', 'daemon');
    const daemon = await entries(1);
    assert.deepEqual([daemon.mode, daemon.entries.map((x) => x.name)], ['daemon', ['Linus', 'Grace', 'Ada']]);
    assert.deepEqual(changedPerHost(await playOk('guestbook', 'daemon')), { h1: 0, h2: 0, h3: 0 });
  });

  it('embedded mode refuses a second embedded site before changing anything', async () => {
    await playOk('guestbook', 'embedded');
    const before = await lab.sshOk(1, 'cat /etc/apache2/sites-available/mysite.conf');
    const { code, report } = await play('mysite', 'embedded');
    assert.equal(code, 2);
    for (const h of hosts) {
      const r = report.hosts[h]!;
      assert.equal(r.stats.changed, 0, `${h} changed nothing`);
      assert.match(r.error ?? r.tasks.find((t) => t.status === 'failed')?.error ?? '', /embedded mode serves one Django site per Apache, and .*guestbook\.conf already serves one embedded/);
    }
    assert.equal(await lab.sshOk(1, 'cat /etc/apache2/sites-available/mysite.conf'), before);
    assert.equal((await wsgiInfo(1)).mode, 'daemon');
    assert.equal((await entries(1)).mode, 'embedded');
    await playOk('guestbook', 'daemon');
  });

  it('a project that cannot be read fails before anything changes, naming the variable to set', async function () {
    const vars = JSON.parse(readFileSync(join(inv.guestbook, 'group_vars/web.yml'), 'utf8')) as Record<string, unknown>;
    const empty = join(work, 'src', 'not-a-project');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'app.py'), 'print("no manage.py here")\n');
    writeInventory('guestbook', { ...vars, project_src: empty, site_name: 'broken', project_dir: '/srv/broken', http_port: 8082 });
    try {
      // an input error (exit 1) while the task list is built: no task runs on any host
      const r = await runCli(['run', join(repoRoot, 'playbooks/daemon.ts'), '-i', inv.guestbook, '--known-hosts', lab.knownHosts, '--retry-file', retryFile()]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /has no manage\.py: set django_settings/);
      assert.equal((await lab.ssh(1, 'test -e /srv/broken || getent passwd broken')).code, 2, 'no folder, no user made');
    } finally {
      writeInventory('guestbook', vars);
    }
  });

  it('a host whose network is dropped during a rollout is unreachable after the connect timeout; the others finish; a rerun of the retry file converges', async function () {
    rmSync(retryFile(), { force: true });
    // h1 (batch 1 of --serial 1,100%) is slowed down, so h3's network can be dropped while batch 1 runs, before h3 is reached.
    await lab.fault(1, 'delay 200');
    let droppedAt = 0;
    let firstH3Line = 0;
    let dropping: Promise<void> | undefined;
    try {
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [cliPath, 'run', join(repoRoot, 'playbooks/daemon.ts'), '-i', inv.mysite, '--known-hosts', lab.knownHosts, '--retry-file', retryFile(),
            '--json', '-v', '--serial', '1,100%', '--connect-timeout', '3', '--connect-retries', '0'],
          { cwd: repoRoot, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (!dropping && /\[h1\]/.test(stderr)) dropping = lab.fault(3, 'drop').then(() => void (droppedAt = Date.now()));
          if (!firstH3Line && /\[h3\]/.test(stderr)) firstH3Line = Date.now();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      await dropping;
      const report = parseReport(r.stdout);
      assert.deepEqual(report.batches, [['h1'], ['h2', 'h3']]);
      assert.ok(droppedAt > 0 && firstH3Line >= droppedAt, 'the fault came while batch 1 ran, before h3 was reached');
      assert.equal(r.code, 4, r.stderr.slice(-2000));
      assert.equal(report.hosts['h3']?.status, 'unreachable');
      assert.match(report.hosts['h3']?.error ?? '', /timed out/);
      for (const h of ['h1', 'h2']) assert.equal(report.hosts[h]?.stats.failed, 0, h);
      assert.equal(report.retry_file, retryFile());
      assert.deepEqual(readFileSync(retryFile(), 'utf8').trim().split('\n'), ['h3']);
    } finally {
      await lab.fault(1, 'clear');
      await lab.fault(3, 'clear');
    }
    const rerun = await playOk('mysite', 'daemon', '--limit', `@${retryFile()}`);
    assert.deepEqual(Object.keys(rerun.hosts), ['h3']);
    assert.equal(rerun.hosts['h3']?.stats.changed, 0);
  });

  it('a virtualenv with requirements.txt from an offline wheelhouse: python-home in daemon mode, WSGIPythonHome in embedded mode', async () => {
    // A small package of our own, built into a wheelhouse with `pip wheel` and shipped with the project.
    const pkg = join(work, 'labhello');
    mkdirSync(join(pkg, 'labhello'), { recursive: true });
    writeFileSync(join(pkg, 'setup.py'), 'from setuptools import setup\nsetup(name="labhello", version="1.0", packages=["labhello"])\n');
    writeFileSync(join(pkg, 'labhello/__init__.py'), 'VERSION = "1.0"\n\ndef greet():\n    return "hello from a wheel"\n');
    const wheels = join(src.guestbook, 'wheels');
    const built = spawnSync('/usr/bin/python3', ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-w', wheels, pkg], { encoding: 'utf8' });
    assert.equal(built.status, 0, `pip wheel: ${built.stdout}${built.stderr}`);
    writeFileSync(join(src.guestbook, 'requirements.txt'), 'labhello==1.0\n');
    writeFileSync(
      join(src.guestbook, 'config/urls.py'),
      `${readFileSync(join(src.guestbook, 'config/urls.py'), 'utf8')}
import sys
from django.http import JsonResponse


def _venv(request):
    import labhello
    return JsonResponse({"prefix": sys.prefix, "labhello": labhello.VERSION, "greeting": labhello.greet()})


urlpatterns.append(path("venv.json", _venv))
`,
    );
    const vars = JSON.parse(readFileSync(join(inv.guestbook, 'group_vars/web.yml'), 'utf8')) as Record<string, unknown>;
    writeInventory('guestbook', { ...vars, virtualenv: '/srv/guestbook-venv', pip_options: ['--no-index', '--find-links', '/srv/guestbook/wheels'] });

    const report = await playOk('guestbook', 'daemon');
    const pip = report.hosts['h1']!.tasks.find((t) => t.module === 'pip');
    assert.equal(pip?.summary, 'successfully installed labhello-1.0');
    const venvInfo = async (i: number) => JSON.parse((await get(guestbookUrl(i, '/venv.json'))).body) as { prefix: string; labhello: string };
    for (const i of [1, 2, 3]) assert.deepEqual(await venvInfo(i), { prefix: '/srv/guestbook-venv', labhello: '1.0', greeting: 'hello from a wheel' });
    assert.equal((await entries(1)).entries.length, 3, 'the data is still there');
    assert.deepEqual(changedPerHost(await playOk('guestbook', 'daemon')), { h1: 0, h2: 0, h3: 0 });

    await playOk('guestbook', 'embedded');
    assert.equal((await entries(1)).mode, 'embedded');
    assert.equal((await venvInfo(1)).prefix, '/srv/guestbook-venv');
    assert.match(await lab.sshOk(1, 'cat /etc/apache2/sites-available/guestbook.conf'), /^WSGIPythonHome \/srv\/guestbook-venv$/m);
    await playOk('guestbook', 'daemon');
    assert.equal((await venvInfo(2)).labhello, '1.0');
  });
});
