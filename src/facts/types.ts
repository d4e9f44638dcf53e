// What a host is, learned in one round trip and typed so playbooks can branch on it.

export type OsFamily = 'debian' | 'redhat' | 'unknown';

export interface ApacheLayout {
  /** Package name: apache2 or httpd. */
  package: string;
  /** The mod_wsgi package for Python 3. */
  wsgiPackage: string;
  /** Service name: apache2 or httpd. */
  service: string;
  /** Directory where a site's config goes (sites-available on Debian, conf.d on RHEL). */
  siteDir: string;
  /** Whether sites are enabled with a2ensite (Debian) or loaded directly (RHEL). */
  usesA2ensite: boolean;
  /** The user and group Apache's children run as. */
  user: string;
  group: string;
  /** Path of apachectl. */
  apachectl: string;
  /** Main config file. */
  mainConfig: string;
  /** Directory of Apache's logs. */
  logDir: string;
  /** Whether apachectl was found on the host when facts were gathered. */
  installed?: boolean;
}

export interface Facts {
  hostname: string;
  os: {
    family: OsFamily;
    /** ID from /etc/os-release: debian, ubuntu, rhel, rocky, fedora… */
    id: string;
    version: string;
    prettyName: string;
  };
  packageManager: 'apt' | 'dnf' | 'yum' | null;
  init: 'systemd' | 'sysv';
  selinux: {
    present: boolean;
    /** The running mode (getenforce); 'disabled' when the config exists but the kernel runs without SELinux. */
    mode: 'enforcing' | 'permissive' | 'disabled' | null;
    /** SELINUX= in /etc/selinux/config: the mode after the next boot. */
    persistent?: 'enforcing' | 'permissive' | 'disabled' | null;
  };
  apache: ApacheLayout;
  /** The distribution's Python 3 (the one its mod_wsgi embeds), not whatever a login shell puts first. */
  python: string | null;
  /** The `python3` that PATH finds first for a non-login shell (may be a pyenv or venv Python). */
  pythonOnPath?: string | null;
  /** The user the connection logs in as, and uid. */
  user: string;
  uid: number;
  /** Whether `sudo -n true` succeeds (passwordless sudo) — or the login user is root. */
  sudo: boolean;
}
