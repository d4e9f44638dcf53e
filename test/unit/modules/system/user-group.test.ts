// user and group: the probes' output read into one shape, and the command planned from found → wanted.
import { strict as assert } from 'node:assert';
import { group, parseGroupLine, planGroup } from '../../../../src/modules/group.js';
import { parseUserProbe, planUser, user, type UserEntry } from '../../../../src/modules/user.js';

const found: UserEntry = { name: 'app', uid: 998, group: 'app', groups: ['adm'], comment: 'App', home: '/srv/app', shell: '/bin/sh' };

describe('group: planning', () => {
  it('reads getent group', () => {
    assert.deepEqual(parseGroupLine('www-data:x:33:alice,bob\n'), { name: 'www-data', gid: 33, members: ['alice', 'bob'] });
    assert.deepEqual(parseGroupLine('app:x:998:\n'), { name: 'app', gid: 998, members: [] });
    assert.equal(parseGroupLine(''), null);
  });

  it('creates, changes the gid, removes, and is converged otherwise', () => {
    assert.deepEqual(planGroup(null, { name: 'app', state: 'present', system: true }).data, { argv: ['groupadd', '-r', 'app'] });
    assert.equal(planGroup(null, { name: 'app', state: 'present', gid: 2000 }).summary, 'absent → present (gid 2000)');
    const g = { name: 'app', gid: 998, members: [] };
    assert.deepEqual(planGroup(g, { name: 'app', state: 'present', gid: 2000 }).data, { argv: ['groupmod', '-g', '2000', 'app'] });
    assert.equal(planGroup(g, { name: 'app', state: 'present', system: true }).changed, false);
    assert.deepEqual(planGroup(g, { name: 'app', state: 'absent' }).data, { argv: ['groupdel', 'app'] });
    assert.equal(planGroup(null, { name: 'app', state: 'absent' }).changed, false);
  });

  it('refuses bad names and ids when the task is built', () => {
    assert.throws(() => group({ name: 'bad name' }), /"bad name" is not a group name/);
    assert.throws(() => group({ name: 'app', gid: -1 }), /gid must be a whole number/);
  });
});

describe('user: planning', () => {
  it('reads the passwd line, the primary group and the supplementary groups', () => {
    assert.deepEqual(parseUserProbe('app:x:998:998:App:/srv/app:/bin/sh\napp\napp adm\n'), found);
    assert.equal(parseUserProbe(''), null);
  });

  it('creates a system user with its own group, no home made, a nologin shell', () => {
    const p = planUser(null, { name: 'app', state: 'present', system: true, group: 'app', home: '/srv/app', createHome: false, shell: '/usr/sbin/nologin' });
    assert.deepEqual(p.data, { argv: ['useradd', '-r', '-g', 'app', '-d', '/srv/app', '-M', '-s', '/usr/sbin/nologin', 'app'] });
    assert.equal(p.summary, 'absent → present (system user, group app, home /srv/app)');
  });

  it('changes only what differs, in one usermod; converged otherwise', () => {
    const p = planUser(found, { name: 'app', state: 'present', shell: '/usr/sbin/nologin', groups: ['www-data'] });
    assert.deepEqual(p.data, { argv: ['usermod', '-G', 'www-data', '-s', '/usr/sbin/nologin', 'app'] });
    assert.equal(p.summary, 'groups +www-data -adm, shell /bin/sh → /usr/sbin/nologin');
    const append = planUser(found, { name: 'app', state: 'present', groups: ['www-data'], append: true });
    assert.deepEqual(append.data, { argv: ['usermod', '-a', '-G', 'www-data', 'app'] });
    assert.equal(planUser(found, { name: 'app', state: 'present', groups: ['adm'], append: true, home: '/srv/app' }).changed, false);
    assert.equal(planUser(found, { name: 'app', state: 'present', system: true }).summary, 'present (uid 998, group app)');
  });

  it('removes, with its home when asked', () => {
    assert.deepEqual(planUser(found, { name: 'app', state: 'absent', remove: true }).data, { argv: ['userdel', '-r', 'app'] });
    assert.equal(planUser(null, { name: 'app', state: 'absent' }).changed, false);
  });

  it('refuses bad values when the task is built', () => {
    assert.throws(() => user({ name: 'app', home: 'srv/app' }), /home must be an absolute path/);
    assert.throws(() => user({ name: 'app', groups: ['ok', 'not ok'] }), /"not ok" is not a group name/);
    assert.throws(() => user({ name: 'app', comment: 'a:b' }), /comment cannot hold ':'/);
  });
});
