// Django commands: which can be predicted, and how their output says whether they changed anything.
import { strict as assert } from 'node:assert';
import { changedFromOutput, classifyDjangoCommand, doneSummary, django } from '../../../../src/modules/django.js';
import { migrateChanged, parseCollectstatic, parseMigratePlan, parseReleaseState, pendingAfterRelease, releaseMarker, releaseProbe, staticAfterRelease, type ReleaseState } from '../../../../src/modules/lib/sys/django-output.js';
import { splitArgs } from '../../../../src/modules/lib/sys/split-args.js';

describe('django: output parsing', () => {
  it('collectstatic counts copied, symlinked, unmodified and deleted files', () => {
    assert.deepEqual(parseCollectstatic("Pretending to copy 'x'\n\n120 static files copied to '/srv/www_static'.\n"), { copied: 120, unmodified: 0, deleted: 0 });
    assert.deepEqual(parseCollectstatic("\n0 static files copied to '/srv/www_static', 120 unmodified.\n"), { copied: 0, unmodified: 120, deleted: 0 });
    assert.deepEqual(parseCollectstatic("1 static file symlinked to '/s', 3 unmodified, 2 post-processed.\n"), { copied: 1, unmodified: 3, deleted: 0 });
    assert.equal(parseCollectstatic('nothing here'), null);
  });

  it('migrate: "No migrations to apply." is no change, "Applying …" is', () => {
    assert.equal(migrateChanged('Operations to perform:\n  Apply all migrations: admin\nRunning migrations:\n  No migrations to apply.\n'), false);
    assert.equal(migrateChanged('Running migrations:\n  Applying contenttypes.0001_initial... OK\n'), true);
  });

  it('reads the migration-plan probe', () => {
    assert.deepEqual(parseMigratePlan('provision-migrate-plan: 2\n  auth.0001_initial\n  sessions.0001_initial\n'),
      { pending: 2, names: ['auth.0001_initial', 'sessions.0001_initial'] });
    assert.deepEqual(parseMigratePlan('provision-migrate-plan: missing-database\n'), { pending: 'missing-database', names: [] });
    assert.equal(parseMigratePlan('Traceback'), null);
  });
});

describe('django: classifying commands', () => {
  it('collectstatic gets a --noinput --dry-run twin; --clear cannot be predicted', () => {
    assert.deepEqual(classifyDjangoCommand(splitArgs('collectstatic --noinput')), { kind: 'collectstatic', dryRun: ['collectstatic', '--noinput', '--dry-run'] });
    assert.deepEqual(classifyDjangoCommand(['collectstatic']), { kind: 'collectstatic', dryRun: ['collectstatic', '--noinput', '--dry-run'] });
    assert.deepEqual(classifyDjangoCommand(splitArgs('collectstatic --noinput --clear')), { kind: 'other' });
  });

  it('migrate with options is planned against its database; targets and --fake are not', () => {
    assert.deepEqual(classifyDjangoCommand(['migrate']), { kind: 'migrate', database: 'default', globals: [] });
    assert.deepEqual(classifyDjangoCommand(splitArgs('migrate --noinput --database=other -v 2 --settings x.y')),
      { kind: 'migrate', database: 'other', globals: ['--settings=x.y'] });
    assert.deepEqual(classifyDjangoCommand(splitArgs('migrate polls 0002')), { kind: 'other' });
    assert.deepEqual(classifyDjangoCommand(splitArgs('migrate --fake')), { kind: 'other' });
    assert.deepEqual(classifyDjangoCommand(['createcachetable']), { kind: 'other' });
  });

  it('other commands always count as changed', () => {
    assert.equal(changedFromOutput({ kind: 'other' }, ''), true);
    assert.equal(changedFromOutput({ kind: 'collectstatic', dryRun: [] }, "0 static files copied to '/x', 3 unmodified."), false);
  });

  it('rejects a relative project or an empty command', () => {
    assert.throws(() => django({ project: 'mysite', command: 'migrate' }), /absolute path/);
    assert.throws(() => django({ project: '/srv/mysite', command: ' ' }), /command is required/);
  });
});

describe('django: what a real run says it did', () => {
  const migrate = classifyDjangoCommand(['migrate', '--noinput']);
  const collect = classifyDjangoCommand(['collectstatic', '--noinput']);

  it('migrate: the migrations applied, in the past tense; a new database said so', () => {
    const out = 'Operations to perform:\n  Apply all migrations: contenttypes, hello\nRunning migrations:\n  Applying contenttypes.0001_initial... OK\n  Applying hello.0001_initial... OK\n';
    assert.equal(doneSummary(migrate, out, 'migrate --noinput'), 'applied 2 migrations: contenttypes.0001_initial, hello.0001_initial');
    assert.equal(doneSummary(migrate, out, 'migrate --noinput', true), 'created the database and applied 2 migrations: contenttypes.0001_initial, hello.0001_initial');
    assert.equal(doneSummary(migrate, '  Applying a.0001_x... OK\n', 'migrate'), 'applied 1 migration: a.0001_x');
  });

  it('collectstatic: the files copied (and deleted)', () => {
    assert.equal(doneSummary(collect, "\n121 static files copied to '/srv/s/www_static', 3 unmodified.\n", 'collectstatic --noinput'), 'copied 121 static files (3 unmodified)');
    assert.equal(doneSummary(collect, "1 static file copied to '/x', 0 unmodified.\n", 'collectstatic'), 'copied 1 static file (0 unmodified)');
  });

  it('other commands: what ran', () => {
    assert.equal(doneSummary(classifyDjangoCommand(['createcachetable']), '', 'createcachetable'), 'ran: manage.py createcachetable');
  });
});

describe('django: what a release brings (--check reads the planned tree)', () => {
  const project = '/srv/site';
  const tree = (files: string[], changed: string[], added = changed) => ({ dest: project, files, deletes: true, changed, added });
  const state: ReleaseState = {
    watch: ['mysite/settings.py', 'polls/apps.py', '../../usr/lib/python3/dist-packages/django/contrib/auth/apps.py'],
    plan: [],
    apps: [
      { label: 'auth', dir: '../../usr/lib/python3/dist-packages/django/contrib/auth/migrations', applied: ['0001_initial'] },
      { label: 'polls', dir: 'polls/migrations', applied: ['0001_initial'] },
    ],
  };

  it('reads the probe line', () => {
    assert.deepEqual(parseReleaseState(`noise\n${releaseMarker}{"watch":[],"missing":true}\n`), { watch: [], missing: true });
    assert.equal(parseReleaseState('nothing'), null);
    assert.match(releaseProbe({ kind: 'migrate', database: 'default' }), /applied_migrations/);
  });

  it('counts the migration files of the new tree that the database has not applied', () => {
    const files = ['manage.py', 'polls/migrations/__init__.py', 'polls/migrations/0001_initial.py', 'polls/migrations/0002_question_note.py', 'polls/models.py'];
    const r = pendingAfterRelease(state, project, tree(files, ['polls/migrations/0002_question_note.py', 'polls/models.py'], ['polls/migrations/0002_question_note.py']));
    assert.deepEqual(r, { names: ['polls.0002_question_note'], unsure: [] });
  });

  it('keeps the host plan for apps outside the tree; a release without migrations brings none', () => {
    const s: ReleaseState = { ...state, plan: ['auth.0002_alter'] };
    const files = ['polls/migrations/__init__.py', 'polls/migrations/0001_initial.py'];
    assert.deepEqual(pendingAfterRelease(s, project, tree(files, ['polls/views.py'])).names, ['auth.0002_alter']);
  });

  it('cannot know when the release changes the settings, or migrations of an app the host does not list', () => {
    const files = ['mysite/settings.py', 'blog/migrations/__init__.py', 'blog/migrations/0001_initial.py'];
    const r = pendingAfterRelease(state, project, tree(files, ['mysite/settings.py', 'blog/migrations/0001_initial.py']));
    assert.deepEqual(r.names, []);
    assert.equal(r.unsure.length, 2);
    assert.match(r.unsure.join('\n'), /mysite\/settings\.py/);
    assert.match(r.unsure.join('\n'), /blog\/migrations/);
  });

  it('a project in a subfolder of the synced tree maps its paths', () => {
    const t = { dest: '/srv', files: ['site/polls/migrations/0001_initial.py', 'site/polls/migrations/0002_x.py'], deletes: true, changed: ['site/polls/migrations/0002_x.py'], added: [] };
    assert.deepEqual(pendingAfterRelease(state, project, t).names, ['polls.0002_x']);
  });

  it('static files the release adds are a change; changed ones are predicted', () => {
    const s: ReleaseState = { watch: [], dirs: ['static', '../../usr/lib/python3/dist-packages/django/contrib/admin/static'] };
    const files = ['static/site.css', 'static/new.js', 'polls/views.py'];
    const r = staticAfterRelease(s, project, { dest: project, files, deletes: true, changed: ['static/site.css', 'static/new.js', 'polls/views.py', 'static/gone.css'], added: ['static/new.js'] });
    assert.deepEqual(r, { added: ['static/new.js'], modified: ['static/site.css'], unsure: [] });
  });
});
