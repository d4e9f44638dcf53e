// What the embedded and daemon playbooks share: Django on Apache + mod_wsgi, the seed's chapter as idempotent tasks.
import {
  command,
  debug,
  django,
  flushHandlers,
  file,
  http,
  packages,
  selinux,
  service,
  sh,
  shell,
  sync,
  template,
  type Facts,
  type HostView,
  type Task,
  type Vars,
} from 'provision';
import { readSiteVars, type SiteVars } from './site-vars.js';

export { readSiteVars, type SiteVars } from './site-vars.js';

/** How mod_wsgi runs the application: inside Apache's children, or in its own daemon processes. */
export type WsgiMode = 'embedded' | 'daemon';

export interface DjangoApacheOptions {
  mode: WsgiMode;
}

/** Handler names the tasks notify. */
export const restartApache = 'restart apache';
export const reloadDaemon = 'reload daemon';

type FileMode = NonNullable<Parameters<typeof file>[0]['mode']>;

/** Where the site's Apache config goes on this host (sites-available on Debian, conf.d on RHEL). */
export function siteConfigPath(facts: Facts, site: SiteVars): string {
  return `${facts.apache.siteDir}/${site.siteName}.conf`;
}

/** The `-D` name that hides the installed copy of the site config while a new one is validated. */
export function validateDefine(siteName: string): string {
  return `provision_validating_${siteName.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The command that checks a new site config (`%s`) against the whole server configuration: the installed
 * copy is skipped (its content sits in `<IfDefine !NAME>`), then the new file is read, so a duplicate
 * `Listen` or daemon name cannot fail the check and a real error in the new file does.
 */
export function validateCommand(facts: Facts, siteName: string): string {
  const name = validateDefine(siteName);
  return `${facts.apache.apachectl} -t -D ${name} -c 'UnDefine ${name}' -c "Include %s"`;
}

/** The variables templates/django-wsgi.conf.ejs needs, all given (the template is strict). */
export function apacheConfigVars(facts: Facts, site: SiteVars, mode: WsgiMode): Vars {
  return {
    mode,
    site_name: site.siteName,
    project_dir: site.projectDir,
    http_port: site.httpPort,
    server_name: site.serverName,
    apache_user: facts.apache.user,
    wsgi_user: site.wsgiUser ?? facts.apache.user,
    wsgi_group: site.wsgiGroup ?? facts.apache.group,
    wsgi_processes: site.wsgiProcesses,
    wsgi_threads: site.wsgiThreads,
    log_dir: facts.apache.logDir,
    validate_define: validateDefine(site.siteName),
  };
}

/** The variables templates/settings_production.py.ejs needs. */
export function settingsVars(site: SiteVars): Vars {
  return {
    site_name: site.siteName,
    project_dir: site.projectDir,
    allowed_hosts: site.allowedHosts,
    secret_key_file: secretKeyPath(site),
  };
}

function secretKeyPath(site: SiteVars): string {
  return `${site.projectDir}/secret_key`;
}

/** The directory beside siteDir where Debian keeps its enabled links (sites-enabled, mods-enabled). */
function debianEnabledDir(facts: Facts, kind: 'sites' | 'mods'): string {
  const root = facts.apache.siteDir.replace(/\/sites-available\/?$/, '');
  return `${root}/${kind}-enabled`;
}

/**
 * The Python that runs manage.py: the distribution's, the one its mod_wsgi embeds (never a login shell's
 * first python3). On a fresh host it is not there yet when facts are gathered; the packages task installs it.
 */
function pythonOf(facts: Facts): string {
  return facts.python ?? '/usr/bin/python3';
}

/**
 * The tasks that deploy examples/mysite (or `project_src`) on Apache + mod_wsgi in the given mode, in the
 * order of the seed's chapter. Throws a clear error for bad or missing variables before anything runs.
 */
export function djangoApacheTasks(view: HostView, options: DjangoApacheOptions): Task[] {
  const { facts } = view;
  const site = readSiteVars(view.vars);
  const { mode } = options;
  if (facts.os.family === 'unknown') {
    throw new Error(`${view.host}: unsupported OS family (${facts.os.id || 'unknown'}): only the Debian and RHEL families are supported`);
  }
  const apache = facts.apache;
  const python = pythonOf(facts);
  const project = site.projectDir;
  const settingsModule = 'mysite.settings_production';
  // A code change: daemon mode reloads only mod_wsgi's processes, embedded mode needs Apache restarted.
  const codeChanged = mode === 'daemon' ? reloadDaemon : restartApache;
  const dataGroup = apache.group;
  const debian = apache.usesA2ensite;
  const conf = siteConfigPath(facts, site);

  return [
    // 1-2. Apache, mod_wsgi and the distribution's Django.
    packages({
      name: 'install Apache, mod_wsgi and Django',
      present: [apache.package, apache.wsgiPackage, site.djangoPackage],
      // Refreshed only when something is missing: an old package index points at files the mirror has dropped.
      updateCache: true,
    }),

    // 3. The project's code; what lives only on the host (data, logs, collected files, secrets) is excluded.
    file({ name: 'project directory', path: project, state: 'directory', mode: '0755' }),
    sync({
      name: 'sync the project',
      src: site.projectSrc,
      dest: project,
      delete: true,
      exclude: ['/db', '/logs', '/www_static', '/secret_key', '/mysite/settings_production.py', '__pycache__', '*.pyc'],
      notify: codeChanged,
    }),

    // 4. Production settings, selected by mysite/wsgi.py; the secret key is made on the host and stays there.
    shell({
      name: 'generate the Django secret key',
      cmd: sh`umask 077 && ${python} -c 'import secrets; print(secrets.token_urlsafe(50))' > ${secretKeyPath(site)}`,
      creates: secretKeyPath(site),
    }),
    file({ name: 'secret key readable by Apache only', path: secretKeyPath(site), state: 'file', owner: 'root', group: dataGroup, mode: '0640' }),
    template({
      name: 'production settings',
      src: '../templates/settings_production.py.ejs',
      dest: `${project}/mysite/settings_production.py`,
      vars: settingsVars(site),
      mode: '0644',
      notify: codeChanged,
    }),

    // 5. The database and the log, writable by Apache's group only (unless the inventory asks for the seed's 0777/0666).
    file({ name: 'db directory', path: `${project}/db`, state: 'directory', owner: 'root', group: dataGroup, mode: site.dbDirMode as FileMode }),
    file({ name: 'SQLite database file', path: `${project}/db/db.sqlite3`, state: 'touch', owner: 'root', group: dataGroup, mode: site.dbFileMode as FileMode }),
    file({ name: 'logs directory', path: `${project}/logs`, state: 'directory', owner: 'root', group: dataGroup, mode: site.logDirMode as FileMode }),
    file({ name: 'Django log file', path: `${project}/logs/logfile`, state: 'touch', owner: 'root', group: dataGroup, mode: site.logFileMode as FileMode }),

    // 6. Schema and static files, with the Python mod_wsgi embeds.
    django({ name: 'migrate the database', project, command: 'migrate --noinput', settings: settingsModule, python }),
    django({ name: 'collect static files', project, command: 'collectstatic --noinput', settings: settingsModule, python }),

    // 7. The seed's SELinux step, when asked for; the module skips it with the reason where SELinux is absent.
    site.selinuxMode ? selinux({ name: `SELinux ${site.selinuxMode}`, state: site.selinuxMode }) : null,

    // 8. mod_wsgi enabled before the site config is validated (the check needs its directives), then the site.
    debian
      ? command({
          name: 'enable mod_wsgi',
          cmd: ['a2enmod', 'wsgi'],
          creates: `${debianEnabledDir(facts, 'mods')}/wsgi.load`,
          notify: restartApache,
        })
      : null,
    template({
      name: `Apache site config (${mode} mode)`,
      src: '../templates/django-wsgi.conf.ejs',
      dest: conf,
      vars: apacheConfigVars(facts, site, mode),
      mode: '0644',
      validate: validateCommand(facts, site.siteName),
      notify: restartApache,
    }),
    debian
      ? command({
          name: 'enable the site',
          cmd: ['a2ensite', site.siteName],
          creates: `${debianEnabledDir(facts, 'sites')}/${site.siteName}.conf`,
          notify: restartApache,
        })
      : null,
    service({ name: apache.service, state: 'started', enabled: true }),

    // 10. Health checks from the host itself, once a restart or a daemon reload has happened.
    flushHandlers(),
    homePageCheck(site),
    http({
      name: 'static file answers',
      url: `${siteUrl(site)}static/css/site.css`,
      status: 200,
      from: 'host',
      retries: 10,
      delay: 1,
    }),
    debug({ name: 'where the site is served', msg: `Django site served at http://${site.serverName}:${site.httpPort}/ (${mode} mode)` }),
  ].filter((t): t is Task => t !== null);
}

/** The site's address as the host itself reaches it. */
function siteUrl(site: SiteVars): string {
  return `http://${site.healthCheckHost}:${site.httpPort}/`;
}

/** GET / from the host until it answers 200 with the page's text (Apache may still be starting). */
function homePageCheck(site: SiteVars): Task {
  return http({
    name: `home page answers at ${siteUrl(site)}`,
    url: siteUrl(site),
    status: 200,
    contains: site.pageText,
    from: 'host',
    retries: 10,
    delay: 1,
  });
}

/**
 * The handlers the tasks notify, in the order they run: a config change restarts Apache; a code change in
 * daemon mode touches wsgi.py, which makes mod_wsgi's daemon processes reload on their next request.
 */
export function djangoApacheHandlers(options: DjangoApacheOptions): Record<string, (view: HostView) => Task> {
  const handlers: Record<string, (view: HostView) => Task> = {
    [restartApache]: ({ facts }) => service({ name: facts.apache.service, state: 'restarted' }),
  };
  if (options.mode === 'daemon') {
    handlers[reloadDaemon] = ({ vars }) => {
      const site = readSiteVars(vars);
      return command({ name: reloadDaemon, cmd: ['touch', `${site.projectDir}/mysite/wsgi.py`] });
    };
  }
  return handlers;
}
