// Two Django projects laid out unlike the bundled examples, deployed unedited by inventory variables alone on real lab
// hosts, embedded then daemon mode: a settings package served with its production.py (h1), a site whose `/` needs a
// login (h2). Each keeps its data across the switch, reruns with changed=0, and --check of the converged hosts exits 0.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { labAddress, startLab, type Lab } from '../lab/lab.js';

describe('Django projects of other layouts on lab hosts: a settings package, a login-only site, in both modes', function () {
  this.timeout(2_400_000);
  let lab: Lab;
  let work: string;
  let inv: string;
  const recipes = (path = '/') => `http://${labAddress(1)}:8083${path}`;
  const notes = (path = '/') => `http://${labAddress(2)}:8084${path}`;

  async function play(playbook: string, ...extra: string[]): Promise<{ code: number | null; report: RunReport; stderr: string }> {
    const args = ['run', join(repoRoot, `playbooks/${playbook}.ts`), '-i', inv, ...extra, '--known-hosts', lab.knownHosts, '--retry-file', join(work, 'r.retry'), '--json'];
    const r = await runCli(args, { cwd: work });
    return { code: r.code, report: parseReport(r.stdout), stderr: r.stderr };
  }
  async function playOk(playbook: string, ...extra: string[]): Promise<RunReport> {
    const { code, report, stderr } = await play(playbook, ...extra);
    const failed = Object.entries(report.hosts).flatMap(([h, r]) => [...(r.error ? [`${h}: ${r.error}`] : []), ...r.tasks.filter((t) => t.status === 'failed').map((t) => `${h} ${t.name}: ${t.error}`)]);
    assert.equal(code, 0, `${playbook} ${extra.join(' ')}: exit ${code}\n${failed.join('\n')}\n${stderr.slice(-2000)}`);
    return report;
  }
  const changedTasks = (report: RunReport) => Object.entries(report.hosts).flatMap(([h, r]) => r.tasks.filter((t) => t.changed).map((t) => `${h}: ${t.name}: ${t.summary ?? ''}`));
  async function converged(playbook: string): Promise<void> {
    const rerun = await playOk(playbook);
    assert.equal(rerun.summary.changed, 0, `${playbook} rerun: ${changedTasks(rerun).join('\n')}`);
    const checked = await play(playbook, '--check');
    assert.equal(checked.code, 0, checked.stderr.slice(-2000));
    assert.equal(checked.report.summary.changed, 0, `${playbook} --check: ${changedTasks(checked.report).join('\n')}`);
  }
  async function get(url: string, cookie = ''): Promise<{ status: number; body: string; location: string | null; cookies: string[] }> {
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(20_000) });
    return { status: res.status, body: await res.text(), location: res.headers.get('location'), cookies: res.headers.getSetCookie() };
  }
  const cookieOf = (cookies: string[], name: string) => cookies.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`)) ?? '';
  /** Logs in through the site's own login form (CSRF cookie and token, as a browser does); the session cookie. */
  async function logIn(username: string, password: string): Promise<string> {
    const form = await get(notes('/accounts/login/'));
    assert.equal(form.status, 200);
    const csrf = cookieOf(form.cookies, 'csrftoken');
    const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const res = await fetch(notes('/accounts/login/'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: csrf, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrfmiddlewaretoken: token, username, password, next: '/' }).toString(),
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(res.status, 302, `login: ${res.status} ${(await res.text()).slice(0, 300)}`);
    assert.equal(res.headers.get('location'), '/');
    return cookieOf(res.headers.getSetCookie(), 'sessionid');
  }
  const manage = (host: string, args: string) => playOk('manage', '--limit', host, '-e', JSON.stringify({ manage_args: args }));

  before(async function () {
    lab = await startLab(2);
    work = mkdtempSync(join(tmpdir(), 'provision-layouts-lab-'));
    for (const p of ['recipes', 'notes']) cpSync(join(repoRoot, 'test/fixtures/django', p), join(work, p), { recursive: true });
    inv = join(work, 'inventory');
    mkdirSync(join(inv, 'group_vars'), { recursive: true });
    mkdirSync(join(inv, 'host_vars'), { recursive: true });
    cpSync(lab.inventory, join(inv, 'hosts'));
    writeFileSync(join(inv, 'group_vars/web.yml'), `${JSON.stringify({ wsgi_processes: 1, wsgi_threads: 4 })}\n`);
    // the settings package: nothing names config.settings.production (config/wsgi.py does); the lab has no TLS, which
    // production.py is told through its own environment variable
    writeFileSync(
      join(inv, 'host_vars/h1.yml'),
      `${JSON.stringify({
        project_dir: '/srv/recipes',
        project_src: join(work, 'recipes'),
        site_name: 'recipes',
        http_port: 8083,
        allowed_hosts: ['127.0.0.1', labAddress(1)],
        app_env: { DJANGO_SECURE_SSL_REDIRECT: 'false', RECIPES_TITLE: 'Lab recipes' },
        page_text: 'Lab recipes',
      })}\n`,
    );
    // the login-only site: the health check and the gate read the login page
    writeFileSync(
      join(inv, 'host_vars/h2.yml'),
      `${JSON.stringify({
        project_dir: '/srv/notes',
        project_src: join(work, 'notes'),
        site_name: 'notes',
        http_port: 8084,
        allowed_hosts: ['127.0.0.1', labAddress(2)],
        app_env: { NOTES_DEBUG: '0' },
        page_path: '/accounts/login/',
        page_text: 'Log in to your notes',
      })}\n`,
    );
  });
  after(async function () {
    if (lab) await lab.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('embedded: both deploy with what their source says, the pages answer, data is made, rerun 0, --check converged', async () => {
    const first = await playOk('embedded');
    const found = (h: string) => first.hosts[h]?.tasks.find((t) => t.module === 'guard' && t.name.startsWith('the Django project'))?.summary ?? '';
    assert.match(found('h1'), /settings config\.settings\.production \(from config\/wsgi\.py\), WSGI config\.wsgi\.application, static \/assets\/recipes\/recipes\.css/);
    assert.match(found('h2'), /settings notes_site\.settings \(from manage\.py\), WSGI notes_site\.wsgi\.application, static \/static\/notes\.css/);
    const health = first.hosts.h2?.tasks.find((t) => t.module === 'http' && t.name.startsWith('/accounts/login/ answers'));
    assert.equal(health?.status, 'ok', JSON.stringify(first.hosts.h2?.tasks.filter((t) => t.module === 'http')));

    // recipes: production.py's settings are the ones served (no redirect to https: its env var said so), DEBUG off
    const page = await get(recipes('/'));
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.match(page.body, /<h1>Lab recipes<\/h1>/);
    assert.equal((await get(recipes('/assets/recipes/recipes.css'))).status, 200);
    assert.equal((await get(recipes('/nope/'))).status, 404);
    await manage('h1', 'shell -c "from recipes.models import Recipe; Recipe.objects.create(title=\'Lab soup\', minutes=20)"');
    assert.match((await get(recipes('/'))).body, /Lab soup \(20 min\)/);
    // production.py's own LOGGING is kept, its log file moved to log_dir
    assert.match(await lab.sshOk(1, 'cat /srv/recipes/logs/recipes.log'), /INFO recipes\.views index: 1 recipes/);
    // Apache's user made it (embedded mode runs the site in Apache's processes): its own file, no change to a deploy
    assert.equal((await lab.sshOk(1, 'stat -c %U:%G /srv/recipes/logs/recipes.log')).trim(), 'www-data:www-data');

    // notes: / redirects to the login page; a user made with manage.py logs in and sees their note
    const home = await get(notes('/'));
    assert.deepEqual([home.status, home.location], [302, '/accounts/login/?next=/']);
    assert.equal((await get(notes('/static/notes.css'))).status, 200);
    await manage(
      'h2',
      'shell -c "from django.contrib.auth.models import User; u = User.objects.create_user(\'lab\', password=\'lab-pass-19\'); u.notes.create(text=\'kept across modes\')"',
    );
    const session = await logIn('lab', 'lab-pass-19');
    const mine = await get(notes('/'), session);
    assert.equal(mine.status, 200);
    assert.match(mine.body, /Notes of lab/);
    assert.match(mine.body, /kept across modes/);

    await converged('embedded');
  });

  it('daemon: the data is kept, the sites run as their own users, rerun 0, --check converged', async () => {
    await playOk('daemon');
    assert.match((await get(recipes('/'))).body, /Lab soup \(20 min\)/);
    const session = await logIn('lab', 'lab-pass-19');
    assert.match((await get(notes('/'), session)).body, /kept across modes/);
    assert.match(await lab.sshOk(1, 'pgrep -a -u recipes'), /wsgi:recipes/, 'the daemon processes run as the site\'s user');
    // the log embedded mode's Apache user made is handed to the site's group, so the daemon's user writes it
    assert.equal((await lab.sshOk(1, 'stat -c "%U:%G %a" /srv/recipes/logs/recipes.log')).trim(), 'www-data:recipes 660');
    assert.match(await lab.sshOk(1, 'tail -1 /srv/recipes/logs/recipes.log'), /index: 1 recipes/);
    await converged('daemon');
  });
});
