// The second day of a deployed Django site on a real lab host (Apache + mod_wsgi installed by the playbook): switching
// embedded → daemon takes Apache's user out of the site's group, a release with a migration goes through a saved plan
// whole (--check shows the migration), a 500's traceback is in the log the README names, and manage.py runs as the site.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { labAddress, startLab, type Lab } from '../lab/lab.js';

describe('Django on a lab host, the second day: mode switch, a release through a saved plan, errors, manage.py', function () {
  this.timeout(1_800_000);
  let lab: Lab;
  let work: string;
  let src: string;
  let inv: string;
  const site = (path = '/') => `http://${labAddress(1)}:8081${path}`;

  async function cli(args: string[]): Promise<{ code: number | null; report: RunReport; stderr: string }> {
    const r = await runCli([...args, '--known-hosts', lab.knownHosts, '--retry-file', join(work, 'r.retry'), '--json'], { cwd: work });
    return { code: r.code, report: parseReport(r.stdout), stderr: r.stderr };
  }
  const play = (playbook: string, ...extra: string[]) => cli(['run', join(repoRoot, `playbooks/${playbook}.ts`), '-i', inv, ...extra]);
  async function playOk(playbook: string, ...extra: string[]): Promise<RunReport> {
    const { code, report, stderr } = await play(playbook, ...extra);
    const failed = Object.values(report.hosts).flatMap((h) => [...(h.error ? [h.error] : []), ...h.tasks.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.error}`)]);
    assert.equal(code, 0, `${playbook} ${extra.join(' ')}: exit ${code}\n${failed.join('\n')}\n${stderr.slice(-2000)}`);
    return report;
  }
  const task = (report: RunReport, name: string) => report.hosts.h1?.tasks.find((t) => t.name === name);
  async function get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(site(path), { redirect: 'manual', signal: AbortSignal.timeout(20_000) });
    return { status: res.status, body: await res.text() };
  }

  before(async function () {
    lab = await startLab(1);
    work = mkdtempSync(join(tmpdir(), 'provision-release-lab-'));
    src = join(work, 'guestbook');
    cpSync(join(repoRoot, 'examples/guestbook'), src, { recursive: true, filter: (p) => !/(__pycache__|www_static|\.sqlite3|logfile)$/.test(p) });
    inv = join(work, 'inventory');
    mkdirSync(join(inv, 'group_vars'), { recursive: true });
    cpSync(lab.inventory, join(inv, 'hosts'));
    writeFileSync(
      join(inv, 'group_vars/web.yml'),
      `${JSON.stringify({
        project_dir: '/srv/guestbook',
        project_src: src,
        site_name: 'guestbook',
        http_port: 8081,
        allowed_hosts: ['127.0.0.1', labAddress(1)],
        // a value with a space and a quote: the env file must stay sourceable by sh
        app_env: { GUESTBOOK_GREETING: "Welcome to the lab's guestbook" },
        wsgi_processes: 1,
      })}\n`,
    );
  });
  after(async function () {
    if (lab) await lab.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('on a fresh host, --check names the task that creates what a check reads (the sync, the key\'s command)', async () => {
    const { code, report } = await play('embedded', '--check');
    assert.equal(code, 0);
    assert.match(task(report, 'migrate the database')?.summary ?? '', /depends on an earlier planned change: sync the project\)/);
    assert.match(task(report, 'secret key readable by the application only')?.summary ?? '', /depends on an earlier planned change: generate the Django secret key\)/);
  });

  it('embedded, then daemon: Apache\'s user leaves the site\'s group and cannot read its key', async () => {
    await playOk('embedded');
    assert.match(await lab.sshOk(1, 'id -nG www-data'), /\bguestbook\b/, 'embedded mode puts www-data in the group');
    const report = await playOk('daemon');
    assert.equal(task(report, 'www-data leaves group guestbook')?.changed, true);
    assert.doesNotMatch(await lab.sshOk(1, 'id -nG www-data'), /\bguestbook\b/);
    const read = await lab.ssh(1, 'runuser -u www-data -- cat /srv/guestbook/secret_key');
    assert.notEqual(read.code, 0, 'www-data cannot read the key');
    // the running Apache children too: restarted, they no longer hold the group
    const pid = (await lab.sshOk(1, "pgrep -u www-data -f apache2 | head -1")).trim();
    assert.doesNotMatch(await lab.sshOk(1, `grep ^Groups: /proc/${pid}/status`), new RegExp(`\\b${(await lab.sshOk(1, 'getent group guestbook | cut -d: -f3')).trim()}\\b`));
    assert.equal((await get('/')).status, 200);
    assert.equal((await playOk('daemon')).summary.changed, 0);
  });

  it('a release with a migration: --check shows it, the saved plan applies whole, the page shows the new field, rerun 0', async () => {
    const app = join(src, 'guestbook');
    writeFileSync(join(app, 'models.py'), readFileSync(join(app, 'models.py'), 'utf8').replace('    created =', '    mood = models.CharField(max_length=20, default="calm")\n    created ='));
    writeFileSync(
      join(app, 'migrations/0002_entry_mood.py'),
      'from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("guestbook", "0001_initial")]\n' +
        '    operations = [migrations.AddField(model_name="entry", name="mood", field=models.CharField(default="calm", max_length=20))]\n',
    );
    writeFileSync(
      join(app, 'views.py'),
      `${readFileSync(join(app, 'views.py'), 'utf8')}\n\ndef moods(request):\n    from django.http import JsonResponse\n    from guestbook.models import Entry\n` +
        '    return JsonResponse({"moods": sorted(set(Entry.objects.values_list("mood", flat=True)))})\n\n\ndef boom(request):\n    raise RuntimeError("provision-lab-boom")\n',
    );
    const urls = join(src, 'config/urls.py');
    writeFileSync(urls, readFileSync(urls, 'utf8').replace(']', '    path("moods.json", views.moods),\n    path("boom/", views.boom),\n]'));

    const plan = join(work, 'release.json');
    const checked = await play('daemon', '--check', '--diff', '--plan-out', plan);
    assert.equal(checked.code, 0, checked.stderr);
    const migrate = task(checked.report, 'migrate the database');
    assert.equal(migrate?.status, 'changed', JSON.stringify(migrate));
    assert.match(migrate?.summary ?? '', /would apply 1 migration: guestbook\.0002_entry_mood/);
    assert.notEqual(migrate?.predicted, true);
    assert.equal((await lab.ssh(1, 'test -e /srv/guestbook/guestbook/migrations/0002_entry_mood.py')).code, 1, '--check changed nothing');

    const applied = await cli(['apply', plan]);
    assert.equal(applied.code, 0, `${applied.stderr}\n${JSON.stringify(applied.report.hosts.h1?.tasks.filter((t) => t.status === 'failed'))}`);
    assert.match(task(applied.report, 'migrate the database')?.summary ?? '', /applied 1 migration: guestbook\.0002_entry_mood/);
    // an entry made through the manage.py recipe, as the site's user with its env file: the new column holds it
    const code = "import os; from guestbook.models import Entry; Entry.objects.create(name='lab', message='hi'); print(os.getuid(), os.environ['GUESTBOOK_GREETING'])";
    const made = await playOk('manage', '-e', JSON.stringify({ manage_args: `shell -c "${code}"` }));
    const uid = (await lab.sshOk(1, 'id -u guestbook')).trim();
    assert.equal(made.hosts.h1?.tasks[0]?.stdout?.trim(), `${uid} Welcome to the lab's guestbook`);
    const moods = await get('/moods.json');
    assert.equal(moods.status, 200, moods.body);
    assert.deepEqual(JSON.parse(moods.body), { moods: ['calm'] });
    assert.equal((await playOk('daemon')).summary.changed, 0);
  });

  it('a view that raises: its traceback is in errors.log in the site\'s log_dir', async () => {
    const r = await get('/boom/');
    assert.equal(r.status, 500);
    const log = await lab.sshOk(1, 'cat /srv/guestbook/logs/errors.log');
    assert.match(log, /Traceback/);
    assert.match(log, /RuntimeError: provision-lab-boom/);
    assert.equal((await playOk('daemon')).summary.changed, 0, 'the log is not a change to a deploy');
  });

  it('uploads are served at MEDIA_URL as plain files, never listed or run, and are not a change to a deploy', async () => {
    const code =
      'from django.core.files.base import ContentFile; from django.core.files.storage import default_storage as s; ' +
      "print(s.save('up/hello.txt', ContentFile(b'hello upload')), s.save('up/run.py', ContentFile(b'print(1)')))";
    const made = await playOk('manage', '-e', JSON.stringify({ manage_args: `shell -c "${code}"` }));
    assert.equal(made.hosts.h1?.tasks[0]?.stdout?.trim(), 'up/hello.txt up/run.py');
    assert.deepEqual(await get('/media/up/hello.txt'), { status: 200, body: 'hello upload' });
    assert.deepEqual(await get('/media/up/run.py'), { status: 200, body: 'print(1)' }, 'a script is sent as it is, not run');
    assert.equal((await get('/media/up/')).status, 403, 'no directory listing');
    const rerun = await playOk('daemon');
    assert.equal(rerun.summary.changed, 0, JSON.stringify(rerun.hosts.h1?.tasks.filter((t) => t.changed)));
  });
});
