// Package state parsing and the commands packages() plans, for apt and dnf/yum.
import { strict as assert } from 'node:assert';
import {
  aptDidNothing,
  changeScript,
  describeChange,
  packages,
  parseDpkgQuery,
  parseRpmCheck,
  queryScript,
} from '../../../../src/modules/packages.js';

describe('packages: parsing installed state', () => {
  it('dpkg-query: only db:Status-Status "installed" counts (config-files and half-installed do not)', () => {
    const out = 'apache2 installed\ncoreutils installed\nfoo config-files\nbar half-installed\nlibc6 installed\nlibc6 installed\n';
    assert.deepEqual([...parseDpkgQuery(out)].sort(), ['apache2', 'coreutils', 'libc6']);
  });

  it('rpm loop: "installed NAME" and "missing NAME" lines', () => {
    assert.deepEqual([...parseRpmCheck('installed httpd\nmissing python3-mod_wsgi\n')], ['httpd']);
  });

  it('queries all names in one command, each quoted', () => {
    assert.equal(queryScript('apt', ['apache2', 'libapache2-mod-wsgi-py3']),
      "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' -- apache2 libapache2-mod-wsgi-py3 2>/dev/null");
    assert.match(queryScript('dnf', ['httpd', 'python3-mod_wsgi']), /^local p; for p in httpd python3-mod_wsgi; do .*rpm -q --quiet -- "\$p"/);
  });
});

describe('packages: planned commands', () => {
  it('summarises as + and - lines', () => {
    assert.equal(describeChange({ install: ['apache2', 'libapache2-mod-wsgi-py3'], remove: ['foo'] }), '+ apache2 + libapache2-mod-wsgi-py3 - foo');
  });

  it('apt: one install command, noninteractive options, index refreshed only when asked or empty', () => {
    const s = changeScript({ manager: 'apt', install: ['apache2', 'libapache2-mod-wsgi-py3'], remove: [] }, false);
    assert.match(s, /apt-get -y -q .*--force-confold install -- apache2 libapache2-mod-wsgi-py3$/m);
    assert.match(s, /if ! ls \/var\/lib\/apt\/lists\/ .*_Packages; then apt-get -q update; fi/);
    assert.match(changeScript({ manager: 'apt', install: ['x'], remove: [] }, true), /^apt-get -q update$/m);
    const remove = changeScript({ manager: 'apt', install: [], remove: ['foo'] }, true);
    assert.doesNotMatch(remove, /update/, 'nothing to install: no index refresh');
    assert.match(remove, /remove -- foo$/m);
  });

  it('dnf and yum: install and remove with -y, makecache when asked', () => {
    assert.equal(changeScript({ manager: 'dnf', install: ['httpd', 'python3-mod_wsgi'], remove: ['foo'] }, true),
      'set -e\ndnf -q makecache\ndnf -y -q install -- httpd python3-mod_wsgi\ndnf -y -q remove -- foo');
    assert.equal(changeScript({ manager: 'yum', install: ['httpd'], remove: [] }, false), 'set -e\nyum -y -q install -- httpd');
  });

  it('reads "0 newly installed" as no change, any other summary as a change', () => {
    assert.equal(aptDidNothing('x\n0 upgraded, 0 newly installed, 0 to remove and 135 not upgraded.\n'), true);
    assert.equal(aptDidNothing('0 upgraded, 2 newly installed, 0 to remove and 1 not upgraded.\n'), false);
    assert.equal(aptDidNothing('0 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.\n0 upgraded, 0 newly installed, 1 to remove and 1 not upgraded.\n'), false);
    assert.equal(aptDidNothing(''), false);
  });

  it('rejects bad parameters when the task is built', () => {
    assert.throws(() => packages({}), /give present and\/or absent/);
    assert.throws(() => packages({ present: ['-o=evil'] }), /not a package name/);
    assert.throws(() => packages({ present: ['a b'] }), /not a package name/);
    assert.throws(() => packages({ present: ['x'], absent: ['x'] }), /both present and absent/);
    assert.equal(packages({ present: ['apache2'], absent: ['nginx'] }).name, 'packages +apache2 -nginx');
  });
});
