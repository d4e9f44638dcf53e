// A common Ansible app-server role, module for module: a user, a release downloaded and unpacked, a git tag checked
// out, requirements into a virtualenv, a cron job, a config block, a regex replace, an apt source with its key in
// /etc/apt/keyrings, a systemd unit and its service. Vars: release_url/release_sha256 and key_url/key_sha256 (a
// server the test starts), config_repo (a bare repository on the host), app_version.
import { aptRepository, blockinfile, cron, definePlaybook, file, getUrl, git, packages, pip, replace, service, template, unarchive, user } from 'provision';

export default definePlaybook({
  name: 'app server',
  hosts: 'lab',
  tasks: ({ vars }) => {
    const v = (k: string) => String(vars[k]);
    const release = `/srv/appsrv/releases/app-${v('app_version')}.tar.gz`;
    return [
      packages({ name: 'cron, git, venv', present: ['cron', 'git', 'python3-venv'], updateCache: true }),
      user({ name: 'appsrv', system: true, home: '/srv/appsrv', createHome: false, shell: '/usr/sbin/nologin' }),
      file({ path: '/srv/appsrv/releases', state: 'directory', mode: '0755' }),
      file({ path: '/srv/appsrv/app', state: 'directory', mode: '0755' }),
      getUrl({ url: v('release_url'), dest: release, checksum: `sha256:${v('release_sha256')}`, mode: '0644' }),
      unarchive({ src: release, dest: '/srv/appsrv/app', remoteSrc: true }),
      git({ repo: v('config_repo'), dest: '/srv/appsrv/config', version: 'v1' }),
      pip({ requirements: '/srv/appsrv/app/requirements.txt', virtualenv: '/srv/appsrv/venv', virtualenvCommand: 'python3 -m venv', extraArgs: '--no-index --find-links /srv/appsrv/app/wheels' }),
      cron({ name: 'appsrv cleanup', job: '/srv/appsrv/venv/bin/python -m appsrvdemo --cleanup', minute: '15', hour: '3', user: 'appsrv' }),
      blockinfile({ path: '/etc/appsrv/app.conf', block: 'listen = 8080\nworkers = 2', create: true, mode: '0644' }),
      replace({ path: '/etc/default/cron', regexp: '^#?EXTRA_OPTS=.*$', replace: 'EXTRA_OPTS="-L 1"' }),
      getUrl({ url: v('key_url'), dest: '/etc/apt/keyrings/appsrv.gpg', checksum: `sha256:${v('key_sha256')}`, mode: '0644' }),
      aptRepository({ repo: 'deb [trusted=yes] file:/srv/appsrv/app/repo ./', filename: 'appsrv', signedBy: '/etc/apt/keyrings/appsrv.gpg' }),
      template({ src: 'templates/app-server.service.ejs', dest: '/etc/systemd/system/appsrv.service', mode: '0644' }),
      service({ name: 'appsrv', state: 'started', enabled: true, daemonReload: true }),
    ];
  },
});
