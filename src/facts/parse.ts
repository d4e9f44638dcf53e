// Turns the facts script's raw output into typed Facts; pure, so every distribution is a unit-test case.
import type { ApacheLayout, Facts, OsFamily } from './types.js';

type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

/** The line that opens a section of the facts script's output. */
export function sectionMarker(name: string): string {
  return `::provision-facts:${name}::`;
}

const markerLine = /^::provision-facts:([a-z-]+)::$/;

/** Splits the raw output into its sections by marker line. */
export function splitSections(raw: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (current !== undefined) sections.set(current, lines.join('\n').trim());
  };
  for (const line of raw.split(/\r?\n/)) {
    const hit = markerLine.exec(line);
    if (hit) {
      flush();
      current = hit[1];
      lines = [];
    } else if (current !== undefined) {
      lines.push(line);
    }
  }
  flush();
  return sections;
}

/** Parses os-release's KEY=value lines (values optionally quoted, with shell escapes inside double quotes). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const hit = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!hit) continue;
    let value = hit[2]!.trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    }
    out[hit[1]!] = value;
  }
  return out;
}

const debianIds = ['debian', 'ubuntu', 'raspbian', 'linuxmint', 'pop', 'kali', 'devuan'];
const redhatIds = ['rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'ol', 'amzn', 'scientific', 'redhat'];

/** Decides the OS family from os-release's ID and ID_LIKE, then from the package manager. */
export function osFamilyOf(id: string, idLike: string, managers: readonly string[] = []): OsFamily {
  const names = [id, ...idLike.split(/\s+/)].map((s) => s.toLowerCase()).filter(Boolean);
  if (names.some((n) => debianIds.includes(n))) return 'debian';
  if (names.some((n) => redhatIds.includes(n))) return 'redhat';
  if (names.length === 0) {
    if (managers.includes('apt-get')) return 'debian';
    if (managers.includes('dnf') || managers.includes('yum')) return 'redhat';
  }
  return 'unknown';
}

/** Where Apache lives on each family; an unknown family gets the Debian layout (the most common one). */
export function apacheLayoutFor(family: OsFamily, apachectl?: string): ApacheLayout {
  const layout: ApacheLayout =
    family === 'redhat'
      ? {
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
        }
      : {
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
        };
  if (apachectl) {
    layout.apachectl = apachectl;
    layout.installed = true;
  } else {
    layout.installed = false;
  }
  return layout;
}

function asMode(word: string | undefined): SelinuxMode | null {
  const w = (word ?? '').trim().toLowerCase();
  return w === 'enforcing' || w === 'permissive' || w === 'disabled' ? w : null;
}

/** The SELINUX= value of /etc/selinux/config, or null. */
export function selinuxConfigMode(config: string): SelinuxMode | null {
  let mode: SelinuxMode | null = null;
  for (const line of config.split('\n')) {
    const hit = /^\s*SELINUX\s*=\s*["']?(\w+)["']?\s*(#.*)?$/.exec(line);
    if (hit) mode = asMode(hit[1]);
  }
  return mode;
}

/** SELinux is present when the kernel exposes it, getenforce answers, or its config file exists. */
export function parseSelinux(getenforce: string, enforce: string, config: string): Facts['selinux'] {
  const persistent = config ? selinuxConfigMode(config) : null;
  let mode = asMode(getenforce.split('\n')[0]);
  if (mode === null && (enforce === '1' || enforce === '0')) mode = enforce === '1' ? 'enforcing' : 'permissive';
  const present = mode !== null || config !== '';
  if (!present) return { present: false, mode: null, persistent: null };
  // config present but neither getenforce nor selinuxfs: the kernel runs without SELinux
  return { present: true, mode: mode ?? 'disabled', persistent };
}

/** Parses the facts script's output into Facts. */
export function parseFacts(raw: string): Facts {
  const s = splitSections(raw);
  const get = (name: string): string => s.get(name) ?? '';
  const os = parseOsRelease(get('os-release'));
  const managers = get('package-managers').split('\n').filter(Boolean);
  const family = osFamilyOf(os.ID ?? '', os.ID_LIKE ?? '', managers);
  const packageManager = pickPackageManager(family, managers);
  const [userLine, uidLine] = get('user').split('\n');
  const uid = Number.parseInt(uidLine ?? '', 10);
  const user = userLine?.trim() || 'unknown';
  const python = get('python').split('\n')[0] || null;
  const pythonOnPath = get('python-path').split('\n')[0] || null;
  return {
    hostname: get('hostname').split('\n')[0] || 'unknown',
    os: {
      family,
      id: os.ID || 'unknown',
      version: os.VERSION_ID ?? '',
      prettyName: os.PRETTY_NAME || os.NAME || 'unknown',
    },
    packageManager,
    init: get('systemd') === 'yes' ? 'systemd' : 'sysv',
    selinux: parseSelinux(get('selinux-getenforce'), get('selinux-enforce'), get('selinux-config')),
    apache: apacheLayoutFor(family, get('apachectl').split('\n')[0] || undefined),
    // the distribution's python3, else PATH's, else RHEL 8's platform-python (which has no extra modules)
    python: python ?? pythonOnPath ?? (get('platform-python') || null),
    pythonOnPath,
    user,
    uid: Number.isNaN(uid) ? -1 : uid,
    sudo: uid === 0 || get('sudo') === 'yes',
  };
}

function pickPackageManager(family: OsFamily, managers: readonly string[]): Facts['packageManager'] {
  const has = (c: string) => managers.includes(c);
  if (family === 'debian' && has('apt-get')) return 'apt';
  if (family === 'redhat') {
    if (has('dnf')) return 'dnf';
    if (has('yum')) return 'yum';
  }
  if (has('apt-get')) return 'apt';
  if (has('dnf')) return 'dnf';
  if (has('yum')) return 'yum';
  return null;
}
