// Facts parsing: the facts script's raw output of real distributions → typed Facts.
import { strict as assert } from 'node:assert';
import { osFamilyOf, parseFacts, parseOsRelease, parseSelinux, sectionMarker, selinuxConfigMode } from '../../../src/facts/parse.js';

/** Builds raw output as the facts script prints it. */
function raw(sections: Record<string, string>): string {
  const names = ['os-release', 'hostname', 'user', 'systemd', 'selinux-getenforce', 'selinux-enforce', 'selinux-config',
    'package-managers', 'sudo', 'python', 'python-path', 'platform-python', 'apachectl', 'end'];
  return names.map((n) => `${sectionMarker(n)}\n${sections[n] ?? ''}`.trimEnd()).join('\n') + '\n';
}

const debian12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"`;

const ubuntu = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy`;

const rocky9 = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"`;

const rhel9 = `NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.3"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"`;

const fedora = `NAME="Fedora Linux"
VERSION="39 (Container Image)"
ID=fedora
VERSION_ID=39
PRETTY_NAME="Fedora Linux 39 (Container Image)"`;

const alpine = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"`;

const selinuxConfig = `# This file controls the state of SELinux on the system.
SELINUX=enforcing
# SELINUXTYPE= can take one of these three values:
SELINUXTYPE=targeted`;

describe('parseFacts', () => {
  it('reads a Debian 12 container as root without systemd (this project CI machine)', () => {
    const f = parseFacts(raw({
      'os-release': debian12, hostname: 'vm', user: 'root\n0', systemd: 'no', 'package-managers': 'apt-get',
      sudo: 'no', python: '/usr/bin/python3', 'python-path': '/root/.pyenv/shims/python3', apachectl: '/usr/sbin/apachectl',
    }));
    assert.deepEqual(f.os, { family: 'debian', id: 'debian', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    assert.equal(f.hostname, 'vm');
    assert.equal(f.packageManager, 'apt');
    assert.equal(f.init, 'sysv');
    assert.deepEqual(f.selinux, { present: false, mode: null, persistent: null });
    assert.equal(f.user, 'root');
    assert.equal(f.uid, 0);
    assert.equal(f.sudo, true, 'root can do what sudo would');
    assert.equal(f.python, '/usr/bin/python3', 'the distribution python wins over a pyenv shim');
    assert.equal(f.pythonOnPath, '/root/.pyenv/shims/python3');
    assert.equal(f.apache.package, 'apache2');
    assert.equal(f.apache.wsgiPackage, 'libapache2-mod-wsgi-py3');
    assert.equal(f.apache.service, 'apache2');
    assert.equal(f.apache.siteDir, '/etc/apache2/sites-available');
    assert.equal(f.apache.usesA2ensite, true);
    assert.equal(f.apache.user, 'www-data');
    assert.equal(f.apache.group, 'www-data');
    assert.equal(f.apache.mainConfig, '/etc/apache2/apache2.conf');
    assert.equal(f.apache.logDir, '/var/log/apache2');
    assert.equal(f.apache.installed, true);
  });

  it('reads Ubuntu as the Debian family, with systemd and a sudoer', () => {
    const f = parseFacts(raw({
      'os-release': ubuntu, hostname: 'web1', user: 'ubuntu\n1000', systemd: 'yes', 'package-managers': 'apt-get',
      sudo: 'yes', python: '/usr/bin/python3', 'python-path': '/usr/bin/python3',
    }));
    assert.equal(f.os.family, 'debian');
    assert.equal(f.os.id, 'ubuntu');
    assert.equal(f.os.version, '22.04');
    assert.equal(f.init, 'systemd');
    assert.equal(f.user, 'ubuntu');
    assert.equal(f.uid, 1000);
    assert.equal(f.sudo, true);
    assert.equal(f.apache.installed, false);
    assert.equal(f.apache.apachectl, '/usr/sbin/apachectl', 'the family default when not installed yet');
  });

  it('reads Rocky 9 as the RHEL family with dnf, SELinux enforcing, and the httpd layout', () => {
    const f = parseFacts(raw({
      'os-release': rocky9, hostname: 'rocky', user: 'rocky\n1000', systemd: 'yes', 'selinux-getenforce': 'Enforcing',
      'selinux-enforce': '1', 'selinux-config': selinuxConfig, 'package-managers': 'dnf\nyum', sudo: 'no',
      python: '/usr/bin/python3', 'python-path': '/usr/bin/python3', 'platform-python': '',
    }));
    assert.equal(f.os.family, 'redhat');
    assert.equal(f.os.id, 'rocky');
    assert.equal(f.os.version, '9.3');
    assert.equal(f.packageManager, 'dnf');
    assert.deepEqual(f.selinux, { present: true, mode: 'enforcing', persistent: 'enforcing' });
    assert.equal(f.sudo, false);
    assert.deepEqual(
      { ...f.apache },
      {
        package: 'httpd', wsgiPackage: 'python3-mod_wsgi', service: 'httpd', siteDir: '/etc/httpd/conf.d',
        usesA2ensite: false, user: 'apache', group: 'apache', apachectl: '/usr/sbin/apachectl',
        mainConfig: '/etc/httpd/conf/httpd.conf', logDir: '/var/log/httpd', installed: false,
      },
    );
  });

  it('reads RHEL 9 with SELinux permissive at runtime but enforcing after reboot', () => {
    const f = parseFacts(raw({
      'os-release': rhel9, user: 'cloud-user\n1000', systemd: 'yes', 'selinux-getenforce': 'Permissive',
      'selinux-config': selinuxConfig, 'package-managers': 'dnf\nyum', apachectl: '/usr/sbin/apachectl',
    }));
    assert.equal(f.os.family, 'redhat');
    assert.equal(f.os.id, 'rhel');
    assert.deepEqual(f.selinux, { present: true, mode: 'permissive', persistent: 'enforcing' });
    assert.equal(f.apache.service, 'httpd');
  });

  it('reads Fedora (no ID_LIKE) as the RHEL family; SELinux seen through selinuxfs without getenforce', () => {
    const f = parseFacts(raw({
      'os-release': fedora, user: 'root\n0', systemd: 'no', 'selinux-enforce': '0', 'package-managers': 'dnf',
      'python-path': '/usr/bin/python3',
    }));
    assert.equal(f.os.family, 'redhat');
    assert.equal(f.os.version, '39');
    assert.equal(f.packageManager, 'dnf');
    assert.deepEqual(f.selinux, { present: true, mode: 'permissive', persistent: null });
    assert.equal(f.python, '/usr/bin/python3');
  });

  it('reads an unknown distribution (Alpine) without a package manager it supports', () => {
    const f = parseFacts(raw({ 'os-release': alpine, hostname: 'alp', user: 'root\n0', systemd: 'no' }));
    assert.equal(f.os.family, 'unknown');
    assert.equal(f.os.id, 'alpine');
    assert.equal(f.os.prettyName, 'Alpine Linux v3.19');
    assert.equal(f.packageManager, null);
    assert.equal(f.python, null);
    assert.equal(f.apache.service, 'apache2', 'unknown families get the Debian layout');
  });

  it('falls back to platform-python on RHEL 8 without python3, and to defaults on empty output', () => {
    const f = parseFacts(raw({ 'os-release': rhel9, 'platform-python': '/usr/libexec/platform-python' }));
    assert.equal(f.python, '/usr/libexec/platform-python');
    const empty = parseFacts('');
    assert.equal(empty.os.family, 'unknown');
    assert.equal(empty.uid, -1);
    assert.equal(empty.hostname, 'unknown');
    assert.equal(empty.sudo, false);
  });
});

describe('facts helpers', () => {
  it('parseOsRelease unquotes single, double and escaped values', () => {
    assert.deepEqual(parseOsRelease(`A="x \\"y\\" \\$z"\nB='q r'\nC=plain\n# comment\n`), { A: 'x "y" $z', B: 'q r', C: 'plain' });
  });

  it('osFamilyOf uses ID, then ID_LIKE, then the package manager when os-release is missing', () => {
    assert.equal(osFamilyOf('linuxmint', 'ubuntu debian'), 'debian');
    assert.equal(osFamilyOf('almalinux', 'rhel centos fedora'), 'redhat');
    assert.equal(osFamilyOf('amzn', 'centos rhel fedora'), 'redhat');
    assert.equal(osFamilyOf('', '', ['apt-get']), 'debian');
    assert.equal(osFamilyOf('', '', ['yum']), 'redhat');
    assert.equal(osFamilyOf('arch', ''), 'unknown');
  });

  it('selinuxConfigMode takes the last SELINUX= line and ignores SELINUXTYPE', () => {
    assert.equal(selinuxConfigMode('SELINUX=enforcing\nSELINUXTYPE=targeted\nSELINUX="permissive" # later\n'), 'permissive');
    assert.equal(selinuxConfigMode('# SELINUX=enforcing\n'), null);
  });

  it('parseSelinux: config without a running SELinux is present but disabled', () => {
    assert.deepEqual(parseSelinux('', '', 'SELINUX=disabled'), { present: true, mode: 'disabled', persistent: 'disabled' });
    assert.deepEqual(parseSelinux('Disabled', '', ''), { present: true, mode: 'disabled', persistent: null });
  });
});
