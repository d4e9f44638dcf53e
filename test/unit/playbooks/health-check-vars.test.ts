// The health check's variables (page_path, page_status, page_text): a site whose `/` needs a login is checked at its login page.
import { strict as assert } from 'node:assert';
import type { HostView, Task, Vars } from 'provision';
import { djangoApacheGate, djangoApacheTasks, readSiteVars } from '../../../playbooks/roles/django-apache.js';
import { debianFacts } from '../../fixtures/facts.js';

const base: Vars = { project_dir: '/srv/notes', site_name: 'notes', http_port: 8082, allowed_hosts: ['127.0.0.1'] };
const params = (t: Task) => t.params as { url: string; status: number | number[]; contains?: string };
const view = (vars: Vars): HostView => ({ host: 'h1', vars, facts: debianFacts() });
const checks = (vars: Vars) => djangoApacheTasks(view(vars), { mode: 'daemon' }).filter((t) => t.module === 'http');

describe('health check variables: page_path, page_status, page_text', () => {
  it('default: / answers 200, page_text looked for there', () => {
    const s = readSiteVars({ ...base, page_text: 'Hello' });
    assert.deepEqual([s.pagePath, s.pageStatus], ['/', [200]]);
    const gate = params(djangoApacheGate(view({ ...base, page_text: 'Hello' })));
    assert.deepEqual([gate.url, gate.status, gate.contains], ['http://127.0.0.1:8082/', [200], 'Hello']);
  });

  it('page_path points the check and the gate at the login page, where page_text is looked for', () => {
    const vars = { ...base, page_path: '/accounts/login/', page_text: 'Password' };
    const [home] = checks(vars);
    assert.equal(home?.name, '/accounts/login/ answers at http://127.0.0.1:8082/accounts/login/');
    assert.deepEqual([params(home!).status, params(home!).contains], [[200], 'Password']);
    const gate = params(djangoApacheGate(view(vars)));
    assert.deepEqual([gate.url, gate.contains], ['http://127.0.0.1:8082/accounts/login/', 'Password']);
  });

  it('with health_check_paths, page_text and page_status hold for page_path only, 200 for the others', () => {
    const vars = { ...base, health_check_paths: ['/', '/api/', '/static/x.css'], page_path: '/api/', page_status: [401, 403], page_text: 'credentials' };
    const got = checks(vars).map((t) => [params(t).url.replace('http://127.0.0.1:8082', ''), params(t).status, params(t).contains ?? null]);
    assert.deepEqual(got, [['/', 200, null], ['/api/', [401, 403], 'credentials'], ['/static/x.css', 200, null]]);
  });

  it('page_status takes a status, a list or an INI string; a redirect or a non-status is refused by name', () => {
    assert.deepEqual(readSiteVars({ ...base, page_status: 403 }).pageStatus, [403]);
    assert.deepEqual(readSiteVars({ ...base, page_status: '401, 403' }).pageStatus, [401, 403]);
    assert.throws(() => readSiteVars({ ...base, page_status: 302 }), /variable page_status: 302 is a redirect, which the health check follows: set page_path to the page it leads to/);
    assert.throws(() => readSiteVars({ ...base, page_status: 'ok' }), /variable page_status: must be an HTTP status/);
    assert.throws(() => readSiteVars({ ...base, page_status: [] }), /variable page_status: is an empty list/);
    assert.throws(() => readSiteVars({ ...base, page_path: 'accounts/login/' }), /variable page_path: must be a path starting with \//);
  });
});
