// Facts of a Debian 12 host and a Rocky 9 host, as gathering would report them, for planning-level tests.
import type { Facts } from '../../../src/facts/types.js';

export const debianFacts: Facts = {
  hostname: 'web1',
  os: { family: 'debian', id: 'debian', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  packageManager: 'apt',
  init: 'sysv',
  selinux: { present: false, mode: null },
  apache: {
    package: 'apache2',
    wsgiPackage: 'libapache2-mod-wsgi-py3',
    service: 'apache2',
    siteDir: '/etc/apache2/sites-available',
    usesA2ensite: true,
    user: 'www-data',
    group: 'www-data',
    apachectl: '/usr/sbin/apachectl',
    mainConfig: '/etc/apache2/apache2.conf',
    logDir: '/var/log/apache2',
  },
  python: '/usr/bin/python3',
  user: 'root',
  uid: 0,
  sudo: true,
};

export const rhelFacts: Facts = {
  hostname: 'rocky1',
  os: { family: 'redhat', id: 'rocky', version: '9.4', prettyName: 'Rocky Linux 9.4 (Blue Onyx)' },
  packageManager: 'dnf',
  init: 'systemd',
  selinux: { present: true, mode: 'enforcing' },
  apache: {
    package: 'httpd',
    wsgiPackage: 'python3-mod_wsgi',
    service: 'httpd',
    siteDir: '/etc/httpd/conf.d',
    usesA2ensite: false,
    user: 'apache',
    group: 'apache',
    apachectl: '/usr/sbin/apachectl',
    mainConfig: '/etc/httpd/conf/httpd.conf',
    logDir: '/var/log/httpd',
  },
  python: '/usr/bin/python3',
  user: 'deploy',
  uid: 1000,
  sudo: true,
};
