// The seed's job for real: the daemon and embedded playbooks deploy examples/mysite on this machine's Apache,
// reached through an sshd on loopback as a remote host would be, and the site is checked over HTTP.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import type { HostReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';

const apacheConfDir = '/etc/apache2';
const apachePidFile = '/run/apache2/apache2.pid';
const pageText = 'Hello from mysite';

type TaskReport = HostReport['tasks'][number];

/** A free loopback port: bound, then released for Apache to take. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function sh(cmd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of Apache's parent process, or null when it is not running. */
function apacheParentPid(): number | null {
  if (!existsSync(apachePidFile)) return null;
  const pid = Number(readFileSync(apachePidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : null;
}

interface Fetched {
  status: number;
  body: string;
}

/** GETs a URL on loopback, polling until Apache answers (it may be restarting) or 20 s pass. */
async function get(url: string): Promise<Fetched> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`GET ${url}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface WsgiInfo {
  mode: string;
  process_group: string | null;
  application_group: string | null;
  pid: number;
  debug: boolean;
  settings: string;
}

describe('Django on Apache + mod_wsgi, end to end (sshd on loopback)', function () {
  this.timeout(900_000);

  let fleet: Fleet;
  let work: string;
  let src: string;
  let projectDir: string;
  let inventory: string;
  let hostName: string;
  let port: number;
  const siteName = `provision_e2e_${process.pid}`;
  let apacheWasRunning = false;
  let wsgiWasEnabled = false;
  let vars: Record<string, unknown>;

  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const siteConf = () => `${apacheConfDir}/sites-available/${siteName}.conf`;

  function writeVars(overrides: Record<string, unknown> = {}): void {
    vars = { ...vars, ...overrides };
    // JSON is YAML: the group's variables as the example inventory keeps them.
    writeFileSync(join(work, 'inventory/group_vars/web.yml'), `${JSON.stringify(vars, null, 2)}\n`);
  }

  async function play(playbook: 'daemon' | 'embedded', ...extra: string[]): Promise<HostReport> {
    const r = await runCli([
      'run',
      join(repoRoot, `playbooks/${playbook}.ts`),
      '-i',
      inventory,
      '--known-hosts',
      fleet.knownHostsPath,
      '--json',
      ...extra,
    ]);
    const report = parseReport(r.stdout);
    const host = report.hosts[hostName];
    if (!host) throw new Error(`the report has no host ${hostName} (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    const failed = host.tasks.filter((t) => t.status === 'failed');
    assert.equal(r.code, 0, `provision run ${playbook} ${extra.join(' ')} exited ${r.code}: ${host.error ?? ''}\n` +
      `${failed.map((t) => `${t.name}: ${t.error}`).join('\n')}\n${r.stderr}`);
    return host;
  }

  async function wsgiInfo(): Promise<WsgiInfo> {
    const r = await get(url('/wsgi/'));
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as WsgiInfo;
  }

  const changedNames = (tasks: TaskReport[]) => tasks.filter((t) => t.changed).map((t) => t.name);
  // Handlers (Apache's restart, the daemon reload) are counted apart from the tasks that notify them.
  const changedTaskNames = (tasks: TaskReport[]) =>
    tasks.filter((t) => t.changed && t.module !== 'service' && t.name !== 'reload daemon').map((t) => t.name);

  before(async function () {
    if (process.getuid?.() !== 0) {
      throw new Error('this test installs and runs Apache on this machine: run it as root (as .ci/run does)');
    }
    if (!existsSync(apacheConfDir) && spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
      throw new Error('this test needs a Debian-family machine (apt-get, /etc/apache2)');
    }
    apacheWasRunning = apacheParentPid() !== null;
    wsgiWasEnabled = existsSync(`${apacheConfDir}/mods-enabled/wsgi.load`);

    work = mkdtempSync(join(tmpdir(), 'provision-e2e-'));
    chmodSync(work, 0o755); // Apache's user must reach the project below it
    src = join(work, 'src', 'mysite');
    cpSync(join(repoRoot, 'examples/mysite'), src, {
      recursive: true,
      filter: (p) => !/(__pycache__|www_static|db\.sqlite3|logfile|settings_production\.py)$/.test(p),
    });
    projectDir = join(work, 'srv', 'mysite');
    port = await freePort();

    fleet = await startFleet(1);
    const host = fleet.hosts[0]!;
    hostName = host.name;
    mkdirSync(join(work, 'inventory/group_vars'), { recursive: true });
    inventory = join(work, 'inventory/hosts.ini');
    writeFileSync(
      inventory,
      `[web]\n${host.name} ansible_host=127.0.0.1 ansible_port=${host.port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath}\n`,
    );
    vars = {};
    writeVars({
      project_dir: projectDir,
      project_src: src,
      site_name: siteName,
      http_port: port,
      allowed_hosts: ['localhost', '127.0.0.1'],
      // One daemon process, so /wsgi/ always answers from the process whose pid the test follows.
      wsgi_processes: 1,
      wsgi_threads: 15,
    });
  });

  after(async function () {
    await fleet?.stop();
    // Leave the machine as the test found it: the site gone, mod_wsgi and Apache as they were.
    rmSync(`${apacheConfDir}/sites-enabled/${siteName}.conf`, { force: true });
    rmSync(`${apacheConfDir}/sites-available/${siteName}.conf`, { force: true });
    for (const log of [`${siteName}_error.log`, `${siteName}_access.log`]) rmSync(join('/var/log/apache2', log), { force: true });
    if (!wsgiWasEnabled && existsSync(`${apacheConfDir}/mods-enabled/wsgi.load`)) sh('a2dismod -q wsgi');
    if (!apacheWasRunning && apacheParentPid() !== null) sh('service apache2 stop');
    else if (apacheWasRunning) sh('service apache2 reload');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('deploys in daemon mode: packages installed, page, static file, daemon process group, DEBUG off', async () => {
    const host = await play('daemon');
    assert.equal(host.stats.failed, 0);

    const pkgs = sh("dpkg-query -W -f='${Package} ${Status}\\n' apache2 libapache2-mod-wsgi-py3 python3-django");
    assert.equal(pkgs.code, 0, pkgs.out);
    for (const line of pkgs.out.trim().split('\n')) assert.match(line, /install ok installed$/);

    const home = await get(url('/'));
    assert.equal(home.status, 200, home.body);
    assert.ok(home.body.includes(pageText), home.body);
    const css = /href="([^"]*site\.css)"/.exec(home.body)?.[1];
    assert.equal(css, '/static/css/site.css');
    const style = await get(url('/static/css/site.css'));
    assert.equal(style.status, 200);
    assert.match(style.body, /font-family/);

    const info = await wsgiInfo();
    assert.equal(info.mode, 'daemon');
    assert.equal(info.process_group, siteName);
    assert.equal(info.application_group, '');
    assert.equal(info.debug, false);
    assert.equal(info.settings, 'mysite.settings_production');
    assert.notEqual(info.pid, apacheParentPid());

    const missing = await get(url('/no-such-page/'));
    assert.equal(missing.status, 404);
    assert.doesNotMatch(missing.body, /URLconf|DEBUG = True|Traceback/, 'a plain 404, not the debug page');

    const test = sh('apachectl -t');
    assert.equal(test.code, 0, test.out);

    // The page wrote to SQLite and the log as Apache's user, through group permissions only.
    for (const [path, mode] of [['db', 0o770], ['db/db.sqlite3', 0o660], ['logs', 0o770], ['logs/logfile', 0o660]] as const) {
      assert.equal(statSync(join(projectDir, path)).mode & 0o7777, mode, path);
    }
    assert.match(readFileSync(join(projectDir, 'logs/logfile'), 'utf8'), /home page served/);
    assert.ok(!existsSync(join(projectDir, 'db/db.sqlite3-journal')));
  });

  it('changes nothing when run again', async () => {
    const host = await play('daemon');
    assert.deepEqual(changedNames(host.tasks), []);
    assert.equal(host.stats.changed, 0);
  });

  it('shows a template variable change with --check --diff without making it, then applies exactly that', async () => {
    const confBefore = readFileSync(siteConf(), 'utf8');
    const parentBefore = apacheParentPid();
    writeVars({ wsgi_threads: 7 });

    const checked = await play('daemon', '--check', '--diff');
    const conf = checked.tasks.find((t) => t.module === 'template' && /Apache site config/.test(t.name));
    if (!conf?.changed) assert.fail(`the site config would change: ${JSON.stringify(checked.tasks)}`);
    const diff = conf.diff as Array<{ path: string; before: string | null; after: string | null }>;
    assert.equal(diff[0]?.path, siteConf());
    assert.match(diff[0]?.before ?? '', /threads=15 /);
    assert.match(diff[0]?.after ?? '', /threads=7 /);
    assert.equal(readFileSync(siteConf(), 'utf8'), confBefore, '--check changed nothing');
    assert.equal(apacheParentPid(), parentBefore, '--check restarted nothing');
    const wouldChange = changedTaskNames(checked.tasks);

    const applied = await play('daemon');
    const restarts = applied.tasks.filter((t) => t.module === 'service' && t.changed);
    assert.equal(restarts.length, 1, `Apache restarted once: ${JSON.stringify(applied.tasks)}`);
    assert.deepEqual(changedTaskNames(applied.tasks), wouldChange, 'the real run changed what --check said it would');
    assert.match(readFileSync(siteConf(), 'utf8'), /threads=7 /);
    assert.notEqual(apacheParentPid(), parentBefore);
    assert.equal((await wsgiInfo()).mode, 'daemon');
  });

  it('reloads only the daemon processes on a code change in daemon mode', async () => {
    const before = await wsgiInfo();
    const parent = apacheParentPid();
    const views = join(src, 'hello/views.py');
    writeFileSync(views, `${readFileSync(views, 'utf8')}\n# changed by the end-to-end test\n`);

    const host = await play('daemon');
    const names = changedNames(host.tasks);
    assert.ok(names.includes('sync the project'), names.join(', '));
    assert.ok(names.includes('reload daemon'), names.join(', '));
    assert.equal(host.tasks.filter((t) => t.module === 'service' && t.changed).length, 0, 'Apache itself was not restarted');

    const after = await wsgiInfo();
    assert.equal(after.mode, 'daemon');
    assert.notEqual(after.pid, before.pid, 'the daemon process was replaced');
    assert.equal(apacheParentPid(), parent, "Apache's parent process kept running");
    assert.equal(readFileSync(join(projectDir, 'hello/views.py'), 'utf8'), readFileSync(views, 'utf8'));
  });

  it('switches to embedded mode and back to daemon mode', async () => {
    await play('embedded');
    const embedded = await wsgiInfo();
    assert.equal(embedded.mode, 'embedded');
    assert.equal(embedded.process_group, '');
    assert.ok((await get(url('/'))).body.includes(pageText));
    assert.doesNotMatch(readFileSync(siteConf(), 'utf8'), /WSGIDaemonProcess/);

    await play('daemon');
    const daemon = await wsgiInfo();
    assert.equal(daemon.mode, 'daemon');
    assert.equal(daemon.process_group, siteName);
    assert.equal(sh('apachectl -t').code, 0);
  });
});
