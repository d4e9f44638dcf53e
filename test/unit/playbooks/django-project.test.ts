// Finding a Django project's settings module, WSGI callable and a static file from its source, as Django itself would.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverProject, pythonString, settingsFiles, starImports } from '../../../playbooks/roles/django-project.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('django project discovery', () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const manage = (module: string) => `import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "${module}")\n`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-discover-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads both example projects', () => {
    assert.deepEqual(discoverProject(join(root, 'examples/mysite')), {
      settingsModule: 'mysite.settings', settingsFrom: 'manage.py', wsgiModule: 'mysite.wsgi', wsgiCallable: 'application', staticUrl: '/static/', staticFile: 'css/site.css',
    });
    assert.deepEqual(discoverProject(join(root, 'examples/guestbook')), {
      settingsModule: 'config.settings', settingsFrom: 'manage.py', wsgiModule: 'config.wsgi', wsgiCallable: 'application', staticUrl: '/static/',
      staticFile: 'guestbook/css/guestbook.css',
    });
  });

  it('reads the test projects of other layouts: a settings package served with production.py, a login-only site', () => {
    assert.deepEqual(discoverProject(join(root, 'test/fixtures/django/recipes')), {
      settingsModule: 'config.settings.production', settingsFrom: 'config/wsgi.py', wsgiModule: 'config.wsgi', wsgiCallable: 'application',
      staticUrl: '/assets/', staticFile: 'recipes/recipes.css',
    });
    assert.deepEqual(discoverProject(join(root, 'test/fixtures/django/notes')), {
      settingsModule: 'notes_site.settings', settingsFrom: 'manage.py', wsgiModule: 'notes_site.wsgi', wsgiCallable: 'application',
      staticUrl: '/static/', staticFile: 'notes.css',
    });
  });

  it('reads Python string assignments and setdefault calls, not comments or other names', () => {
    assert.equal(pythonString("WSGI_APPLICATION = 'a.b.app'\n", 'WSGI_APPLICATION'), 'a.b.app');
    assert.equal(pythonString("# WSGI_APPLICATION = 'x.y'\n", 'WSGI_APPLICATION'), null);
    assert.equal(pythonString("MY_WSGI_APPLICATION = 'x.y'\n", 'WSGI_APPLICATION'), null);
    assert.equal(pythonString(manage('web_project.settings'), 'DJANGO_SETTINGS_MODULE'), 'web_project.settings');
  });

  it('finds WSGI_APPLICATION in any module of a settings package, and falls back to <package>/wsgi.py', () => {
    write('manage.py', manage('web_project.settings.production'));
    write('web_project/settings/__init__.py', '');
    write('web_project/settings/production.py', 'from .base import *\n');
    write('web_project/settings/base.py', "WSGI_APPLICATION = 'web_project.wsgi.app'\nSTATIC_URL = 'assets'\n");
    write('web_project/wsgi.py', 'app = None\n');
    const p = discoverProject(dir, { settings: 'web_project.settings' });
    assert.deepEqual([p.wsgiModule, p.wsgiCallable, p.staticUrl, p.staticFile], ['web_project.wsgi', 'app', '/assets/', null]);
    write('web_project/settings/base.py', '');
    assert.equal(discoverProject(dir, { settings: 'web_project.settings' }).wsgiCallable, 'application');
  });

  it('names the variable to set when something cannot be found', () => {
    assert.throws(() => discoverProject(join(dir, 'nope')), /is not a folder on the controller/);
    assert.throws(() => discoverProject(dir), /has no manage\.py: set django_settings/);
    write('manage.py', 'print("no settings named")\n');
    assert.throws(() => discoverProject(dir), /manage\.py does not name DJANGO_SETTINGS_MODULE: set django_settings/);
    write('manage.py', manage('site.settings'));
    assert.throws(() => discoverProject(dir), /the settings module site\.settings is neither site\/settings\.py nor a package: set django_settings/);
    write('site/settings.py', 'DEBUG = True\n');
    assert.throws(() => discoverProject(dir), /no WSGI_APPLICATION in site\.settings and no site\/wsgi\.py: set django_wsgi/);
    assert.throws(() => discoverProject(dir, { wsgi: 'other.wsgi.application' }), /the WSGI module other\.wsgi \(from django_wsgi\) is not in the project/);
    write('wsgi_production.py', '');
    assert.throws(() => discoverProject(dir), /has its own wsgi_production\.py beside manage\.py/);
  });

  it('takes the first static file under a static/ folder, skipping collected and vendored trees', () => {
    write('manage.py', manage('s.settings'));
    write('s/settings.py', "WSGI_APPLICATION = 's.wsgi.application'\nSTATIC_URL = 'https://cdn.example.com/'\n");
    write('s/wsgi.py', '');
    write('node_modules/x/static/a.js', '');
    write('www_static/admin/x.css', '');
    write('shop/static/shop/b.css', '');
    const p = discoverProject(dir);
    assert.deepEqual([p.staticUrl, p.staticFile], ['/static/', 'shop/b.css']);
  });
  it('resolves star imports, relative and absolute, as Python would', () => {
    const src = 'from .base import *  # noqa\nfrom config.common import *\nfrom ..shared import *\nfrom . import *\nfrom os import path\n# from .local import *\n';
    assert.deepEqual(starImports(src, 'config.settings.production', false), ['config.settings.base', 'config.common', 'config.shared', 'config.settings']);
    // in a package's __init__.py, `.` is the package itself
    assert.deepEqual(starImports('from .base import *\n', 'config.settings', true), ['config.settings.base']);
    assert.deepEqual(starImports('from ...x import *\n', 'a.b', false), []);
  });

  it('reads a settings module with what it star-imports, its own assignments first', () => {
    write('config/settings/__init__.py', '');
    write('config/settings/base.py', 'from config.common import *\n');
    write('config/settings/production.py', 'from .base import *\n');
    write('config/common.py', '');
    assert.deepEqual(settingsFiles(dir, 'config.settings.production').map((f) => f.slice(dir.length + 1)), [
      'config/settings/production.py', 'config/settings/base.py', 'config/common.py',
    ]);
    // a cycle is read once
    write('config/common.py', 'from config.settings.production import *\n');
    assert.equal(settingsFiles(dir, 'config.settings.production').length, 3);
  });

  it('builds on the settings the WSGI module names (config.settings.production), reading base.py for what production.py imports', () => {
    write('manage.py', manage('config.settings.base'));
    write('config/__init__.py', '');
    write('config/settings/__init__.py', '');
    write('config/settings/base.py', "WSGI_APPLICATION = 'config.wsgi.application'\nSTATIC_URL = 'assets/'\n");
    write('config/settings/production.py', "from .base import *  # noqa\nSTATIC_URL = '/s/'\n");
    write('config/wsgi.py', manage('config.settings.production'));
    const p = discoverProject(dir);
    assert.deepEqual([p.settingsModule, p.settingsFrom, p.wsgiModule, p.staticUrl], ['config.settings.production', 'config/wsgi.py', 'config.wsgi', '/s/']);
    // production.py without its own STATIC_URL: base.py's
    write('config/settings/production.py', 'from .base import *  # noqa\nDEBUG = False\n');
    assert.equal(discoverProject(dir).staticUrl, '/assets/');
    // django_settings wins; a WSGI module naming a module that is not there is ignored
    assert.deepEqual([discoverProject(dir, { settings: 'config.settings.base' }).settingsModule, discoverProject(dir, { settings: 'config.settings.base' }).settingsFrom], ['config.settings.base', 'django_settings']);
    write('config/wsgi.py', manage('config.settings.missing'));
    assert.deepEqual([discoverProject(dir).settingsModule, discoverProject(dir).settingsFrom], ['config.settings.base', 'manage.py']);
  });
});
