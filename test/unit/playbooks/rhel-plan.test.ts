// The Django-on-Apache role planned for given facts: the RHEL path (no RHEL host here) and the Debian one.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Facts, HostView, Task, Vars } from 'provision';
import {
  apacheConfigVars,
  djangoApacheGate,
  djangoApacheHandlers,
  djangoApacheTasks,
  readSiteVars,
  settingsVars,
  wsgiVars,
  type WsgiMode,
} from '../../../playbooks/roles/django-apache.js';
import { hostAllowed } from '../../../playbooks/roles/site-vars.js';
import { renderTemplate } from '../../../src/modules/lib/render-template.js';
import { debianFacts as debianHost, rhelFacts as rhelHost } from '../../fixtures/facts.js';

const debianFacts = debianHost();
const rhelFacts = rhelHost();

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const siteVars: Vars = {
  project_dir: '/srv/mysite',
  site_name: 'mysite',
  http_port: 8080,
  allowed_hosts: ['www.example.com', '127.0.0.1'],
  selinux_mode: 'permissive',
};

function plan(facts: Facts, mode: WsgiMode, vars: Vars = siteVars): Task[] {
  const view: HostView = { host: facts.hostname, vars, facts };
  return djangoApacheTasks(view, { mode });
}

const params = (t: Task): Record<string, unknown> => t.params as Record<string, unknown>;
const byModule = (tasks: Task[], module: string): Task[] => tasks.filter((t) => t.module === module);
function one(tasks: Task[], module: string, name: RegExp): Task {
  const found = tasks.filter((t) => t.module === module && name.test(t.name));
  assert.equal(found.length, 1, `one ${module} task named ${name} in: ${tasks.map((t) => `${t.module}:${t.name}`).join(', ')}`);
  return found[0]!;
}

function renderConf(facts: Facts, mode: WsgiMode, vars: Vars = siteVars): string {
  const source = readFileSync(join(root, 'templates/django-wsgi.conf.ejs'), 'utf8');
  return renderTemplate(source, apacheConfigVars(facts, readSiteVars(vars), mode), 'django-wsgi.conf.ejs');
}

describe('django-apache role: RHEL-family plan (facts given)', () => {
  const tasks = plan(rhelFacts, 'daemon');

  it('installs httpd, python3-mod_wsgi and Django', () => {
    const pkgs = byModule(tasks, 'packages');
    assert.equal(pkgs.length, 1);
    assert.deepEqual(params(pkgs[0]!)['present'], ['httpd', 'python3-mod_wsgi', 'python3-django']);
  });

  it('writes the site config to /etc/httpd/conf.d/ and validates it with apachectl', () => {
    const conf = one(tasks, 'template', /Apache site config/);
    assert.equal(params(conf)['dest'], '/etc/httpd/conf.d/mysite.conf');
    assert.equal(
      params(conf)['validate'],
      `/usr/sbin/apachectl -t -D provision_validating_mysite -c 'UnDefine provision_validating_mysite' -c "Include %s"`,
    );
    assert.deepEqual(conf.options.notify, 'restart apache');
  });

  it("runs the daemon processes as the site's own system user, who owns db/, logs/ and media/ by group", () => {
    const text = renderConf(rhelFacts, 'daemon');
    assert.match(text, /WSGIDaemonProcess mysite python-path=\/srv\/mysite .*user=mysite group=mysite umask=0007 processes=2 threads=15 display-name=%\{GROUP\}/);
    assert.match(text, /ErrorLog \/var\/log\/httpd\/mysite_error\.log/);
    for (const path of ['/srv/mysite/db', '/srv/mysite/logs', '/srv/mysite/media']) {
      const t = byModule(tasks, 'file').find((f) => params(f)['path'] === path);
      assert.ok(t, `a file task for ${path}`);
      assert.equal(params(t)['group'], 'mysite');
    }
    const account = one(tasks, 'user', /user mysite/);
    assert.deepEqual(
      [params(account)['system'], params(account)['group'], params(account)['shell'], params(account)['createHome']],
      [true, 'mysite', '/usr/sbin/nologin', false],
    );
    assert.equal(params(one(tasks, 'group', /group mysite/))['system'], true);
  });

  it('uses wsgi_user / wsgi_group as given, without creating them', () => {
    const mine = plan(rhelFacts, 'daemon', { ...siteVars, wsgi_user: 'apache', wsgi_group: 'apache' });
    assert.equal(byModule(mine, 'user').length + byModule(mine, 'group').length, 0, mine.map((t) => t.name).join(', '));
    assert.match(renderConf(rhelFacts, 'daemon', { ...siteVars, wsgi_user: 'apache', wsgi_group: 'apache' }), /user=apache group=apache /);
  });

  it('has the SELinux step, and no Debian-only a2enmod/a2ensite', () => {
    const se = one(tasks, 'selinux', /SELinux/);
    assert.equal(params(se)['state'], 'permissive');
    assert.equal(byModule(tasks, 'command').length, 0);
  });

  it('starts and enables httpd; its handler restarts httpd', () => {
    const svc = byModule(tasks, 'service');
    assert.equal(svc.length, 1);
    assert.deepEqual([params(svc[0]!)['name'], params(svc[0]!)['state'], params(svc[0]!)['enabled']], ['httpd', 'started', true]);
    const handlers = djangoApacheHandlers({ mode: 'daemon' });
    const restart = handlers['restart apache']!({ host: 'rocky1', vars: siteVars, facts: rhelFacts });
    assert.deepEqual([restart.module, params(restart)['name'], params(restart)['state']], ['service', 'httpd', 'restarted']);
  });
});

describe('django-apache role: Debian plan', () => {
  it('follows the seed in order', () => {
    const modules = plan(debianFacts, 'daemon').map((t) => t.module);
    assert.deepEqual(modules, [
      'guard', // the project's source read first
      'packages',
      'group', 'user', // the application's own account
      'file', // project directory
      'sync',
      'shell', // secret key
      'file',
      'copy', // env file
      'template', 'template', // production settings and WSGI entry
      'copy', // manage-production, manage.py as the application runs it
      'file', 'file', 'file', // db/, logs/, media/
      'django', 'django', // migrate, collectstatic
      'file', // what manage.py made, writable by the application
      'selinux',
      'command', // a2enmod wsgi
      'template', // site config
      'command', // a2ensite
      'user', // Apache's user leaves the site's group (an embedded deploy put it there), beside the other restarts
      'service',
      'flush_handlers', 'http', 'http', 'debug',
    ]);
    const embedded = plan(debianFacts, 'embedded').map((t) => `${t.module}:${t.name}`);
    assert.equal(embedded[1], 'guard:no other embedded Django site on this Apache');
    assert.ok(embedded.includes('user:user www-data present'), embedded.join(', '));
  });

  it('enables mod_wsgi and the site with guards, so a second run does nothing', () => {
    const tasks = plan(debianFacts, 'daemon');
    const mod = one(tasks, 'command', /enable mod_wsgi/);
    assert.deepEqual(params(mod)['cmd'], ['a2enmod', 'wsgi']);
    assert.equal(params(mod)['creates'], '/etc/apache2/mods-enabled/wsgi.load');
    const site = one(tasks, 'command', /enable the site/);
    assert.deepEqual(params(site)['cmd'], ['a2ensite', 'mysite']);
    assert.equal(params(site)['creates'], '/etc/apache2/sites-enabled/mysite.conf');
    assert.equal(params(one(tasks, 'template', /Apache site config/))['dest'], '/etc/apache2/sites-available/mysite.conf');
  });

  it('runs manage.py with the distribution python, the generated production settings and the app environment', () => {
    const vars = { ...siteVars, app_env: { API_TOKEN: 'tok-123', DEBUG_SQL: false } };
    for (const t of byModule(plan(debianFacts, 'daemon', vars), 'django')) {
      assert.equal(params(t)['python'], '/usr/bin/python3');
      assert.equal(params(t)['settings'], 'settings_production');
      assert.equal(params(t)['project'], '/srv/mysite');
      assert.deepEqual(params(t)['env'], { API_TOKEN: 'tok-123', DEBUG_SQL: 'false' });
    }
    const env = one(plan(debianFacts, 'daemon', vars), 'copy', /application environment/);
    assert.deepEqual([params(env)['content'], params(env)['mode'], params(env)['group'], params(env)['secret']], ['API_TOKEN=tok-123\nDEBUG_SQL=false\n', '0640', 'mysite', true]);
  });

  it('reloads only the daemon processes on a code change in daemon mode, restarts Apache in embedded mode', () => {
    assert.equal(one(plan(debianFacts, 'daemon'), 'sync', /sync/).options.notify, 'reload daemon');
    assert.equal(one(plan(debianFacts, 'embedded'), 'sync', /sync/).options.notify, 'restart apache');
    assert.deepEqual(Object.keys(djangoApacheHandlers({ mode: 'daemon' })), ['restart apache', 'reload daemon']);
    assert.deepEqual(Object.keys(djangoApacheHandlers({ mode: 'embedded' })), ['restart apache']);
    const touch = djangoApacheHandlers({ mode: 'daemon' })['reload daemon']!({ host: 'web1', vars: siteVars, facts: debianFacts });
    assert.deepEqual(params(touch)['cmd'], ['touch', '/srv/mysite/wsgi_production.py']);
  });

  it('keeps data, logs, uploads, collected files, secrets and generated modules out of the sync', () => {
    const exclude = params(one(plan(debianFacts, 'daemon'), 'sync', /sync/))['exclude'] as string[];
    for (const p of ['/db', '/logs', '/media', '/www_static', '/secret_key', '/production.env', '/settings_production.py', '/wsgi_production.py', '/manage-production',
      '.git/', '.venv/', '__pycache__/', '*.sqlite3', 'node_modules/']) {
      assert.ok(exclude.includes(p), p);
    }
    // sync_exclude replaces the defaults; what only lives on the host stays excluded; data outside project_dir needs no exclude
    const mine = params(one(plan(debianFacts, 'daemon', { ...siteVars, sync_exclude: ['*.log'], db_dir: '/var/lib/mysite' }), 'sync', /sync/))['exclude'];
    assert.deepEqual(mine, ['*.log', '/logs', '/media', '/www_static', '/secret_key', '/production.env', '/settings_production.py', '/wsgi_production.py', '/manage-production']);
  });

  it('leaves SELinux alone when selinux_mode is unset', () => {
    const { selinux_mode: _, ...vars } = siteVars;
    assert.equal(byModule(plan(debianFacts, 'daemon', vars), 'selinux').length, 0);
  });

  it('uses least privilege by default and the seed modes only when asked', () => {
    const modes = (tasks: Task[]) => byModule(tasks, 'file').filter((t) => /\/(db|logs)$/.test(String(params(t)['path']))).map((t) => params(t)['mode']);
    assert.deepEqual(modes(plan(debianFacts, 'daemon')), ['0770', '0770']);
    const seed = { ...siteVars, db_dir_mode: '0777', db_file_mode: '0666', log_dir_mode: '0777', log_file_mode: '0666' };
    assert.deepEqual(modes(plan(debianFacts, 'daemon', seed)), ['0777', '0777']);
  });

  it("installs the extra packages of the host's family", () => {
    const present = (facts: Facts, extra: unknown) => params(byModule(plan(facts, 'daemon', { ...siteVars, extra_packages: extra }), 'packages')[0]!)['present'];
    assert.deepEqual(present(debianFacts, ['python3-whitenoise']), ['apache2', 'libapache2-mod-wsgi-py3', 'python3-django', 'python3-whitenoise']);
    assert.deepEqual(present(rhelFacts, { debian: ['libpq5'], redhat: ['libpq'] }), ['httpd', 'python3-mod_wsgi', 'python3-django', 'libpq']);
  });
});

describe('django-apache role: a virtualenv', () => {
  const venvVars = { ...siteVars, virtualenv: '/srv/mysite/venv', pip_options: ['--no-index', '--find-links', '/srv/wheels'] };

  it('is made with the distribution python (seeing its packages), fed the requirements, and used by manage.py', () => {
    const tasks = plan(debianFacts, 'daemon', venvVars);
    assert.ok((params(byModule(tasks, 'packages')[0]!)['present'] as string[]).includes('python3-venv'));
    const venv = one(tasks, 'shell', /virtualenv/);
    assert.equal(params(venv)['cmd'], "/usr/bin/python3 -m venv --system-site-packages /srv/mysite/venv");
    assert.equal(params(venv)['creates'], '/srv/mysite/venv/bin/python');
    assert.equal(byModule(tasks, 'pip').length, 1);
    for (const t of byModule(tasks, 'django')) assert.equal(params(t)['python'], '/srv/mysite/venv/bin/python');
    assert.ok((params(one(tasks, 'sync', /sync/))['exclude'] as string[]).includes('/venv'));
    assert.equal(byModule(plan(debianFacts, 'daemon'), 'pip').length, 0, 'no virtualenv unless asked');
  });

  it("is mod_wsgi's python-home in daemon mode and WSGIPythonHome in embedded mode", () => {
    assert.match(renderConf(debianFacts, 'daemon', venvVars), /WSGIDaemonProcess mysite python-path=\/srv\/mysite python-home=\/srv\/mysite\/venv home=/);
    const embedded = renderConf(debianFacts, 'embedded', venvVars);
    assert.match(embedded, /^WSGIPythonHome \/srv\/mysite\/venv$/m);
    assert.doesNotMatch(renderConf(debianFacts, 'embedded'), /WSGIPythonHome/);
  });

  it('refuses a requirements path outside the project', () => {
    assert.throws(() => plan(debianFacts, 'daemon', { ...venvVars, requirements: '../x.txt' }), /variable requirements: must be a path inside the project/);
  });
});

describe('django-apache templates', () => {
  it('embedded mode puts WSGIPythonPath at server level, with no daemon process', () => {
    const text = renderConf(debianFacts, 'embedded');
    const vhost = text.indexOf('<VirtualHost *:8080>');
    assert.ok(text.indexOf('WSGIPythonPath /srv/mysite') > 0 && text.indexOf('WSGIPythonPath /srv/mysite') < vhost);
    assert.doesNotMatch(text, /WSGIDaemonProcess|WSGIProcessGroup/);
    assert.match(text, /^Listen 8080$/m);
  });

  it('wraps the config in the IfDefine that validation uses to hide the installed copy', () => {
    const text = renderConf(debianFacts, 'daemon');
    assert.match(text, /^<IfDefine !provision_validating_mysite>$/m);
    assert.match(text, /^<\/IfDefine>\n$/m);
  });

  it('daemon mode has the process group and application group, and no WSGIPythonPath', () => {
    const text = renderConf(debianFacts, 'daemon');
    assert.match(text, /^\s+WSGIProcessGroup mysite$/m);
    assert.match(text, /^\s+WSGIApplicationGroup %\{GLOBAL\}$/m);
    assert.match(text, /^\s+WSGIScriptAlias \/ \/srv\/mysite\/wsgi_production\.py$/m);
    assert.match(text, /^\s+Alias \/static\/ \/srv\/mysite\/www_static\/$/m);
    assert.doesNotMatch(text, /WSGIPythonPath/);
  });

  it('port 80 gets no Listen of its own', () => {
    assert.doesNotMatch(renderConf(debianFacts, 'daemon', { ...siteVars, http_port: 80 }), /^Listen/m);
  });

  it("production settings import the project's own, turn DEBUG off, list the allowed hosts, move data to db_dir", () => {
    const source = readFileSync(join(root, 'templates/settings_production.py.ejs'), 'utf8');
    const text = renderTemplate(source, settingsVars(readSiteVars(siteVars), { settingsModule: 'config.settings' }), 'settings_production.py.ejs');
    assert.match(text, /^from config\.settings import \*/m);
    assert.match(text, /^DEBUG = False$/m);
    assert.match(text, /^ALLOWED_HOSTS = \["www\.example\.com","127\.0\.0\.1"\]$/m);
    assert.match(text, /^STATIC_ROOT = "\/srv\/mysite\/www_static"$/m);
    assert.match(text, /^MEDIA_ROOT = "\/srv\/mysite\/media"$/m);
    assert.match(text, /open\("\/srv\/mysite\/secret_key"\)/);
    assert.match(text, /_os\.path\.join\("\/srv\/mysite\/db", _os\.path\.basename/);
  });

  it("the WSGI entry reads the env file, selects settings_production and serves the project's callable", () => {
    const source = readFileSync(join(root, 'templates/wsgi_production.py.ejs'), 'utf8');
    const text = renderTemplate(source, wsgiVars(readSiteVars(siteVars), { wsgiModule: 'config.wsgi', wsgiCallable: 'application' }), 'wsgi_production.py.ejs');
    assert.match(text, /^with open\("\/srv\/mysite\/production\.env"\) as _env:$/m);
    assert.match(text, /^os\.environ\["DJANGO_SETTINGS_MODULE"\] = "settings_production"$/m);
    assert.match(text, /^from config\.wsgi import application as application/m);
  });
});

describe('django-apache role: variables', () => {
  const bad = (vars: Vars, message: RegExp) => assert.throws(() => plan(debianFacts, 'daemon', vars), message);

  it('refuses an empty allowed_hosts', () => {
    bad({ ...siteVars, allowed_hosts: [] }, /variable allowed_hosts: is empty/);
    bad({ ...siteVars, allowed_hosts: '' }, /variable allowed_hosts: is empty/);
  });

  it('reads allowed_hosts from an INI-style comma list', () => {
    assert.deepEqual(readSiteVars({ ...siteVars, allowed_hosts: 'a.example.com, 127.0.0.1' }).allowedHosts, ['a.example.com', '127.0.0.1']);
  });

  it('needs an absolute, plain project_dir', () => {
    bad({ ...siteVars, project_dir: undefined }, /variable project_dir: is not set/);
    bad({ ...siteVars, project_dir: 'srv/mysite' }, /variable project_dir: must be an absolute path/);
    bad({ ...siteVars, project_dir: '/srv/my site' }, /variable project_dir/);
  });

  it('reads the project while the task list is built: a project without manage.py is an input error there', () => {
    const base = join(dirname(fileURLToPath(import.meta.url)), '../../../playbooks');
    const view = (src: string): HostView => ({ host: 'h', vars: { ...siteVars, project_src: src }, facts: debianFacts, baseDir: base });
    assert.throws(() => djangoApacheTasks(view('../playbooks/roles'), { mode: 'daemon' }), /has no manage\.py: set django_settings/);
    assert.ok(djangoApacheTasks(view('../examples/guestbook'), { mode: 'daemon' }).length > 10);
  });

  it('sends health_check_headers with every health check and the gate; refuses a header that is not one', () => {
    const vars = { ...siteVars, health_check_headers: { Accept: 'text/html' } };
    // (the static file's check is built from the project when it runs: pageCheck, as these)
    const checks = byModule(plan(debianFacts, 'daemon', vars), 'http').filter((t) => t.name !== 'a static file answers');
    assert.ok(checks.length > 0);
    for (const c of checks) assert.deepEqual(params(c)['headers'], { Accept: 'text/html' }, c.name);
    assert.deepEqual(params(djangoApacheGate({ host: 'h', vars, facts: debianFacts }))['headers'], { Accept: 'text/html' });
    bad({ ...siteVars, health_check_headers: { 'Bad Name': 'x' } }, /variable health_check_headers: "Bad Name" is not a header name/);
    bad({ ...siteVars, health_check_headers: { Accept: 'a\nb' } }, /Accept cannot hold a newline/);
  });

  it('refuses a health check Django would reject', () => {
    bad({ ...siteVars, allowed_hosts: ['www.example.com'] }, /variable health_check_host: "127.0.0.1" is not in allowed_hosts/);
  });

  it('checks ports, modes and the SELinux mode', () => {
    bad({ ...siteVars, http_port: '80a' }, /variable http_port/);
    bad({ ...siteVars, db_dir_mode: 770 }, /variable db_dir_mode: must be an octal mode/);
    bad({ ...siteVars, selinux_mode: 'off' }, /variable selinux_mode/);
    assert.equal(readSiteVars({ ...siteVars, http_port: '8081' }).httpPort, 8081);
  });

  it('matches host names as Django does', () => {
    assert.ok(hostAllowed('127.0.0.1', ['*']));
    assert.ok(hostAllowed('www.example.com', ['.example.com']));
    assert.ok(hostAllowed('example.com', ['.example.com']));
    assert.ok(!hostAllowed('badexample.com', ['.example.com']));
    assert.ok(hostAllowed('LOCALHOST', ['localhost']));
  });
});
