// Which data and log files the role hands back to the application's group: those it cannot write, not its own.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataFilesCommand, readSiteVars } from '../../../playbooks/roles/django-apache.js';

describe('data files the application cannot write', function () {
  let dir: string;
  const me = execFileSync('id', ['-un']).toString().trim();
  const myGroup = execFileSync('id', ['-gn']).toString().trim();
  const site = () => readSiteVars({ project_dir: dir, allowed_hosts: ['127.0.0.1'] });
  const run = (group: string, user: string) =>
    execFileSync('sh', ['-c', dataFilesCommand(site(), group, user)]).toString().split('\n').filter((l) => l !== '').map((l) => l.slice(dir.length + 1)).sort();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-datafiles-'));
    mkdirSync(join(dir, 'db'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'db/app.sqlite3'), '');
    writeFileSync(join(dir, 'logs/app.log'), '');
    chmodSync(join(dir, 'db/app.sqlite3'), 0o644);
    chmodSync(join(dir, 'logs/app.log'), 0o660);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a file of another user is listed unless it is the group\'s and group-writable', () => {
    // the files are this user's: seen from another application user, the 0644 one is not writable by the group
    assert.deepEqual(run(myGroup, 'nobody'), ['db/app.sqlite3']);
  });

  it('a file the application\'s own user made is its own (a log Apache\'s user opened in embedded mode)', () => {
    assert.deepEqual(run(myGroup, me), []);
  });

  it('a user not made yet owns nothing: every file is looked at', () => {
    assert.deepEqual(run(myGroup, 'provision-no-such-user'), ['db/app.sqlite3']);
  });
});
