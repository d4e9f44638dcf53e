// What the embedded and daemon playbooks share: Django on Apache + mod_wsgi, the seed's chapter as idempotent tasks.
import { posix, resolve } from 'node:path';
import {
  command,
  copy,
  debug,
  defineTask,
  django,
  flushHandlers,
  file,
  group,
  http,
  noChange,
  packages,
  quote,
  secret,
  selinux,
  service,
  sh,
  shell,
  sync,
  template,
  user,
  type CommonOptions,
  type Facts,
  type Footprint,
  type HostView,
  type Task,
  type TaskContext,
  type Vars,
} from 'provision';
import { discoverProject, type DjangoProject } from './django-project.js';
import { readSiteVars, type SiteVars } from './site-vars.js';

export { readSiteVars, type SiteVars } from './site-vars.js';
export { discoverProject, type DjangoProject } from './django-project.js';

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

/** The settings module the playbook generates beside manage.py (the project's own, with production overrides). */
export const productionSettings = 'settings_production';

/** Who runs the application in daemon mode, and the group that owns its data (both modes). */
export function appAccount(site: SiteVars): { user: string; group: string } {
  return { user: site.wsgiUser ?? site.siteName, group: site.wsgiGroup ?? site.siteName };
}

/** The variables templates/django-wsgi.conf.ejs needs, all given (the template is strict). */
export function apacheConfigVars(facts: Facts, site: SiteVars, mode: WsgiMode, project?: Pick<DjangoProject, 'staticUrl'>): Vars {
  const account = appAccount(site);
  return {
    mode,
    site_name: site.siteName,
    project_dir: site.projectDir,
    http_port: site.httpPort,
    server_name: site.serverName,
    apache_user: facts.apache.user,
    wsgi_user: account.user,
    wsgi_group: account.group,
    wsgi_processes: site.wsgiProcesses,
    wsgi_threads: site.wsgiThreads,
    log_dir: facts.apache.logDir,
    validate_define: validateDefine(site.siteName),
    static_url: project?.staticUrl ?? '/static/',
    media_url: site.mediaUrl,
    media_dir: site.mediaDir,
    python_home: site.virtualenv ?? '',
  };
}

/** The variables templates/settings_production.py.ejs needs. */
export function settingsVars(site: SiteVars, project: Pick<DjangoProject, 'settingsModule'>): Vars {
  return {
    site_name: site.siteName,
    settings_module: project.settingsModule,
    allowed_hosts: site.allowedHosts,
    static_root: `${site.projectDir}/www_static`,
    media_dir: site.mediaDir,
    media_url: site.mediaUrl,
    secret_key_file: secretKeyPath(site),
    db_dir: site.dbDir,
    log_dir: site.logDir,
  };
}

/** The variables templates/wsgi_production.py.ejs needs. */
export function wsgiVars(site: SiteVars, project: Pick<DjangoProject, 'wsgiModule' | 'wsgiCallable'>): Vars {
  return {
    site_name: site.siteName,
    env_file: envFilePath(site),
    wsgi_module: project.wsgiModule,
    wsgi_callable: project.wsgiCallable,
  };
}

function secretKeyPath(site: SiteVars): string {
  return `${site.projectDir}/secret_key`;
}

/** The application's environment, KEY=value lines, read by wsgi_production.py. */
export function envFilePath(site: SiteVars): string {
  return `${site.projectDir}/production.env`;
}

/** The generated WSGI entry, which Apache loads and a daemon reload touches. */
export function wsgiEntryPath(site: SiteVars): string {
  return `${site.projectDir}/wsgi_production.py`;
}

/**
 * The env file's text: one KEY='value' a line, sorted, so a rerun writes the same bytes; each value is quoted for sh
 * (app_env refuses newlines), so `set -a; . ./production.env` in a shell reads the same values as wsgi_production.py.
 */
export function envFileContent(env: Record<string, string>): string {
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${quote(String(env[k]))}\n`)
    .join('');
}

/** The script beside manage.py that runs it as the site's user, with the production settings and the env file. */
export function managePath(site: SiteVars): string {
  return `${site.projectDir}/manage-production`;
}

/** The text of managePath: `sudo PROJECT/manage-production ARGS` runs `manage.py ARGS` as the application runs. */
export function manageScript(site: SiteVars, python: string): string {
  const { user } = appAccount(site);
  return [
    '#!/bin/sh',
    `# Runs manage.py of ${site.siteName} as the application runs: user ${user}, settings ${productionSettings}, the env file.`,
    '# Written by provision (playbooks/roles/django-apache.ts): local edits are overwritten on the next run.',
    `cd ${quote(site.projectDir)} || exit 1`,
    `exec runuser -u ${quote(user)} -- sh -c 'set -a && . ./production.env && set +a && DJANGO_SETTINGS_MODULE=${productionSettings} exec "$0" manage.py "$@"' ${quote(python)} "$@"`,
    '',
  ].join('\n');
}

/**
 * What `sync` leaves out: the inventory's sync_exclude, plus everything that lives only on the host (data, logs,
 * uploads, collected static files, the secret key, the env file, the generated modules), so no deploy deletes it.
 */
export function syncExcludes(site: SiteVars): string[] {
  const hostOnly = [...(site.virtualenv ? [site.virtualenv] : []), site.dbDir, site.logDir, site.mediaDir, `${site.projectDir}/www_static`, secretKeyPath(site), envFilePath(site),
    `${site.projectDir}/${productionSettings}.py`, wsgiEntryPath(site), managePath(site)]
    .map((p) => posix.relative(site.projectDir, p))
    .filter((rel) => rel !== '' && !rel.startsWith('..'))
    .map((rel) => `/${rel}`);
  return [...new Set([...site.syncExclude, ...hostOnly])];
}

/** What a task that reads and writes one file (a template) declares: see Footprint. */
function fileFootprint(path: string): Footprint {
  return { reads: [{ path }], writes: [{ path }] };
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

const discovered = new Map<string, DjangoProject>();

/** The project in `project_src`, read once per run (relative paths resolve against the playbook's folder, as sync's). */
function projectOf(ctx: Pick<TaskContext, 'baseDir'>, site: SiteVars): DjangoProject {
  const src = resolve(ctx.baseDir, site.projectSrc);
  const key = `${src}\0${site.djangoSettings ?? ''}\0${site.djangoWsgi ?? ''}`;
  let p = discovered.get(key);
  if (!p) {
    p = discoverProject(src, {
      ...(site.djangoSettings ? { settings: site.djangoSettings } : {}),
      ...(site.djangoWsgi ? { wsgi: site.djangoWsgi } : {}),
    });
    discovered.set(key, p);
  }
  return p;
}

/**
 * A task built when it is checked, from what the project's source says (the source is found relative to the
 * playbook, which only a check knows): the inner task's check and apply are used as they are.
 */
function fromProject(
  module: string,
  name: string,
  options: CommonOptions & Record<string, unknown>,
  site: SiteVars,
  build: (p: DjangoProject) => Task,
  /** What the inner task reads and writes, known before the project is read: the inner task's footprint. */
  footprint: Footprint,
): Task {
  let inner: Task | undefined;
  // `options` may also carry the parameters known before the project is read (dest, validate), to show them
  return defineTask(module, name, { ...options, name }, {
    footprint,
    async check(ctx) {
      inner = build(projectOf(ctx, site));
      return inner.check(ctx);
    },
    async apply(ctx, plan) {
      inner ??= build(projectOf(ctx, site));
      return inner.apply(ctx, plan);
    },
    // the inner task's one-script apply, so it can go out with its neighbours' (a template's write)
    applyScript(ctx, plan) {
      inner ??= build(projectOf(ctx, site));
      return inner.applyScript?.(ctx, plan);
    },
  });
}

/**
 * `pip install -r requirements` into the virtualenv when the requirements file (or pip_options) differs from
 * what was last installed there: a marker in the virtualenv holds its checksum, so a converged host is ok.
 */
function requirementsInstalled(site: SiteVars, venv: string, notify: string): Task {
  const req = `${site.projectDir}/${site.requirements}`;
  const marker = `${venv}/.provision-requirements`;
  const options = site.pipOptions.join(' ');
  return defineTask('pip', `requirements from ${site.requirements}`, { notify }, {
    // pip may write anything; the check reads the requirements and the marker
    footprint: { reads: [{ path: req }, { path: marker }], writes: 'anything' },
    async check(ctx) {
      const r = await ctx.exec(sh`if [ -f ${req} ]; then sha256sum < ${req} | cut -c1-64; else echo missing; fi; cat ${marker} 2>/dev/null; true`);
      const [sum = 'missing', installed = ''] = r.stdout.split('\n');
      if (sum === 'missing') {
        if (ctx.checkMode && ctx.earlierChangesPlanned) {
          return { changed: true, predicted: true, summary: `would install ${site.requirements} (depends on an earlier planned change: the sync)` };
        }
        return noChange(`no ${site.requirements} in the project: nothing to install`);
      }
      const want = `${sum} ${options}`.trim();
      if (installed.trim() === want) return noChange(`${site.requirements} installed (sha256 ${sum.slice(0, 12)})`);
      return { changed: true, summary: `would install ${site.requirements} (sha256 ${sum.slice(0, 12)})`, data: want };
    },
    async apply(ctx, plan) {
      const r = await ctx.run([`${venv}/bin/pip`, 'install', '--disable-pip-version-check', '--no-input', ...site.pipOptions, '-r', req]);
      await ctx.writeFile(marker, `${String(plan.data)}\n`);
      const done = r.stdout.trim().split('\n').pop()?.trim() ?? '';
      return { changed: true, summary: /^Successfully installed/.test(done) ? done.replace(/^Successfully/, 'successfully') : `installed ${site.requirements}` };
    },
  });
}

/**
 * Files under the data and log folders that the application cannot write (made by manage.py run as root, or by the
 * other mode's user before a mode switch) get the application's group and `db_file_mode` / `log_file_mode`; a file
 * the application's own user made (a log it opened, in embedded mode Apache's user) is its own to write. A converged
 * host has none, so it is ok.
 */
export function dataFilesCommand(site: SiteVars, dataGroup: string, appUser: string): string {
  const dirs = [site.dbDir, site.logDir];
  const find = (notOwn: string) => dirs.map((d) => sh`find ${d} -mindepth 1 -type f ` + notOwn + sh`'(' ! -group ${dataGroup} -o ! -perm -g=rw ')' -print 2>/dev/null`).join('; ');
  // a user not made yet (--check before the user task) owns nothing: every file is looked at
  return sh`if id -u ${appUser} >/dev/null 2>&1; then ` + find(sh`! -user ${appUser} `) + '; else ' + find('') + '; fi';
}

function dataFilesWritable(site: SiteVars, dataGroup: string, appUser: string): Task {
  // uploads are the application's (Django writes them 0644, FILE_UPLOAD_PERMISSIONS): not a change to a deploy
  const dirs: Array<[string, string]> = [[site.dbDir, site.dbFileMode], [site.logDir, site.logFileMode]];
  const find = dataFilesCommand(site, dataGroup, appUser);
  return defineTask('file', 'data and log files writable by the application', {}, {
    // who the application's user is, and the files under the two folders
    footprint: {
      reads: [{ path: site.dbDir, tree: true }, { path: site.logDir, tree: true }, { path: '/etc/passwd' }, { path: '/etc/group' }],
      writes: [{ path: site.dbDir, tree: true }, { path: site.logDir, tree: true }],
    },
    async check(ctx) {
      const r = await ctx.exec(`${find}; true`);
      const files = r.stdout.split('\n').filter((f) => f !== '');
      if (files.length === 0) return noChange(`every file group ${dataGroup}, group-writable`);
      return { changed: true, summary: `group ${dataGroup}, writable: ${files.join(', ')}`, data: files };
    },
    async apply(ctx, plan) {
      const files = plan.data as string[];
      // one command for both folders: one round trip
      const steps = dirs.flatMap(([dir, mode]) => {
        const mine = files.filter((f) => f.startsWith(`${dir}/`));
        return mine.length > 0 ? [sh`chgrp ${dataGroup} -- ${mine} && chmod ${mode} -- ${mine}`] : [];
      });
      if (steps.length > 0) await ctx.run(steps.join(' && '));
    },
  });
}

/** Reads the project's source (settings module, WSGI callable, a static file) and says what it found; fails naming the variable to set. */
function projectFound(site: SiteVars): Task {
  return defineTask('guard', `the Django project in ${site.projectSrc}`, {}, {
    // reads only the controller's copy of the project
    footprint: { reads: [], writes: [] },
    async check(ctx) {
      const p = projectOf(ctx, site);
      const statics = p.staticFile === null ? 'no static file' : `static ${p.staticUrl}${p.staticFile}`;
      return noChange(`settings ${p.settingsModule} (from ${p.settingsFrom}), WSGI ${p.wsgiModule}.${p.wsgiCallable}, ${statics}`);
    },
    async apply() {},
  });
}

/**
 * Daemon mode: Apache's user leaves the site's group (an earlier embedded deploy put it there), so no Apache child
 * can read the site's key and env file or write its data; left alone while another embedded site is configured on
 * this Apache (it may share the group). The restart makes the change count in Apache's processes.
 */
function apacheLeavesGroup(facts: Facts, site: SiteVars): Task {
  const apacheUser = facts.apache.user;
  const { group: dataGroup } = appAccount(site);
  const own = `${site.siteName}.conf`;
  return defineTask('user', `${apacheUser} leaves group ${dataGroup}`, { notify: restartApache }, {
    footprint: {
      reads: [{ path: '/etc/group' }, { path: facts.apache.siteDir, tree: true }],
      writes: [{ path: '/etc/group' }, { path: '/etc/gshadow' }],
    },
    async check(ctx) {
      // the group's own member list: a supplementary membership, which gpasswd -d removes (never a primary group)
      const r = await ctx.exec(sh`getent group ${dataGroup} | cut -d: -f4; grep -l '^WSGIPythonPath' ${facts.apache.siteDir}/*.conf 2>/dev/null; true`);
      const [members = '', ...confs] = r.stdout.split('\n');
      if (!members.split(',').includes(apacheUser)) return noChange(`${apacheUser} is not a member of group ${dataGroup}`);
      const others = confs.map((f) => f.trim()).filter((f) => f !== '' && posix.basename(f) !== own);
      if (others.length > 0) return noChange(`${apacheUser} stays in group ${dataGroup}: ${others.join(', ')} serves an embedded site`);
      return { changed: true, summary: `remove ${apacheUser} from group ${dataGroup} (daemon mode runs the site as ${appAccount(site).user})` };
    },
    async apply(ctx) {
      await ctx.run(['gpasswd', '-d', apacheUser, dataGroup]);
    },
  });
}

/**
 * Embedded mode runs every site in Apache's own processes, with one server-wide WSGIPythonPath: a second
 * embedded site would break the first. Checked first, so nothing changes when it refuses.
 */
function oneEmbeddedSite(facts: Facts, site: SiteVars): Task {
  const own = `${site.siteName}.conf`;
  return defineTask('guard', 'no other embedded Django site on this Apache', {}, {
    footprint: { reads: [{ path: facts.apache.siteDir, tree: true }], writes: [] },
    async check(ctx) {
      const r = await ctx.exec(sh`grep -l '^WSGIPythonPath' ${facts.apache.siteDir}/*.conf 2>/dev/null; true`);
      const others = r.stdout.split('\n').filter((f) => f.trim() !== '' && posix.basename(f.trim()) !== own);
      if (others.length > 0) {
        throw new Error(
          `${ctx.host}: embedded mode serves one Django site per Apache, and ${others.map((f) => f.trim()).join(', ')} already ` +
            `serves one embedded (WSGIPythonPath is server-wide, so site ${site.siteName} would break it): deploy ${site.siteName} ` +
            'with playbooks/daemon.ts (each daemon-mode site has its own processes), or switch that site to daemon mode first',
        );
      }
      return noChange('no other embedded site');
    },
    async apply() {},
  });
}

/**
 * The tasks that deploy the project in `project_src` (default examples/mysite) on Apache + mod_wsgi in the
 * given mode, in the order of the seed's chapter. Throws a clear error for bad or missing variables before
 * anything runs.
 */
export function djangoApacheTasks(view: HostView, options: DjangoApacheOptions): Task[] {
  const { facts } = view;
  const site = readSiteVars(view.vars);
  // The project's source is read while the task list is built: what cannot be found (no manage.py, a settings
  // module to name) is an input error naming the variable, before any host is touched.
  if (view.baseDir !== undefined) projectOf({ baseDir: view.baseDir }, site);
  const { mode } = options;
  if (facts.os.family === 'unknown') {
    throw new Error(`${view.host}: unsupported OS family (${facts.os.id || 'unknown'}): only the Debian and RHEL families are supported`);
  }
  const apache = facts.apache;
  const python = pythonOf(facts);
  const project = site.projectDir;
  // A code change: daemon mode reloads only mod_wsgi's processes, embedded mode needs Apache restarted.
  const codeChanged = mode === 'daemon' ? reloadDaemon : restartApache;
  const account = appAccount(site);
  // Who writes the data: the site's own user in daemon mode; Apache's user (a member of the group) in embedded mode.
  const dataGroup = account.group;
  const debian = apache.usesA2ensite;
  const conf = siteConfigPath(facts, site);
  const extra = facts.os.family === 'redhat' ? site.extraPackages.redhat : site.extraPackages.debian;
  const env = Object.fromEntries(Object.entries(site.appEnv).map(([k, v]) => [k, secret(v)]));
  // manage.py runs with the Python mod_wsgi uses: the virtualenv's when there is one
  const managePython = site.virtualenv ? `${site.virtualenv}/bin/python` : python;
  const manage = { project, settings: productionSettings, python: managePython, ...(Object.keys(env).length > 0 ? { env } : {}) };

  return [
    // What cannot be deployed fails here, before anything changes: the project's source is read first.
    projectFound(site),
    mode === 'embedded' ? oneEmbeddedSite(facts, site) : null,

    // 1-2. Apache, mod_wsgi, the distribution's Django, and what else the project needs.
    packages({
      name: 'install Apache, mod_wsgi and Django',
      present: [
        apache.package,
        apache.wsgiPackage,
        site.djangoPackage,
        ...(site.virtualenv && facts.os.family === 'debian' ? ['python3-venv'] : []),
        ...extra,
      ],
      // Refreshed only when something is missing: an old package index points at files the mirror has dropped.
      updateCache: true,
    }),

    // The application's own account (least privilege: not Apache's), unless the inventory names one.
    site.ownGroup ? null : group({ name: account.group, system: true }),
    site.ownUser
      ? null
      : user({ name: account.user, system: true, group: account.group, home: project, createHome: false, shell: '/usr/sbin/nologin', comment: `Django site ${site.siteName}` }),

    // 3. The project's code; what lives only on the host (data, logs, uploads, collected files, secrets) is excluded.
    file({ name: 'project directory', path: project, state: 'directory', mode: '0755' }),
    sync({
      name: 'sync the project',
      src: site.projectSrc,
      dest: project,
      delete: true,
      exclude: syncExcludes(site),
      notify: codeChanged,
    }),

    // The project's virtualenv, made with the Python mod_wsgi embeds, and its requirements.
    ...(site.virtualenv
      ? [
          shell({
            name: 'virtualenv',
            cmd: sh`${python} -m venv ${site.venvSystemSitePackages ? ['--system-site-packages'] : []} ${site.virtualenv}`,
            creates: `${site.virtualenv}/bin/python`,
          }),
          requirementsInstalled(site, site.virtualenv, codeChanged),
        ]
      : []),

    // 4. Production settings and entry module, generated beside manage.py; the secret key is made on the host and stays there.
    shell({
      name: 'generate the Django secret key',
      cmd: sh`umask 077 && ${python} -c 'import secrets; print(secrets.token_urlsafe(50))' > ${secretKeyPath(site)}`,
      creates: secretKeyPath(site),
    }),
    file({ name: 'secret key readable by the application only', path: secretKeyPath(site), state: 'file', owner: 'root', group: dataGroup, mode: '0640' }),
    copy({
      name: 'application environment',
      dest: envFilePath(site),
      content: envFileContent(env),
      owner: 'root',
      group: dataGroup,
      mode: '0640',
      secret: true,
      notify: codeChanged,
    }),
    fromProject('template', 'production settings', { notify: codeChanged, dest: `${project}/${productionSettings}.py` }, site, (p) =>
      template({ src: '../templates/settings_production.py.ejs', dest: `${project}/${productionSettings}.py`, vars: settingsVars(site, p), mode: '0644' }),
      fileFootprint(`${project}/${productionSettings}.py`),
    ),
    fromProject('template', 'production WSGI entry', { notify: codeChanged, dest: wsgiEntryPath(site) }, site, (p) =>
      template({ src: '../templates/wsgi_production.py.ejs', dest: wsgiEntryPath(site), vars: wsgiVars(site, p), mode: '0644' }),
      fileFootprint(wsgiEntryPath(site)),
    ),

    copy({ name: 'manage.py as the application runs it', dest: managePath(site), content: manageScript(site, managePython), owner: 'root', group: 'root', mode: '0755' }),

    // 5. The data, logs and uploads, writable by the application's group only (unless the inventory asks for the seed's 0777/0666).
    file({ name: 'db directory', path: site.dbDir, state: 'directory', owner: 'root', group: dataGroup, mode: site.dbDirMode as FileMode }),
    file({ name: 'logs directory', path: site.logDir, state: 'directory', owner: 'root', group: dataGroup, mode: site.logDirMode as FileMode }),
    file({ name: 'media directory', path: site.mediaDir, state: 'directory', owner: 'root', group: dataGroup, mode: site.mediaDirMode as FileMode }),

    // 6. Schema and static files, with the Python mod_wsgi embeds; the database is made by migrate, as the application's group.
    django({ name: 'migrate the database', command: 'migrate --noinput', ...manage }),
    django({ name: 'collect static files', command: 'collectstatic --noinput', ...manage }),
    // manage.py ran as root: what it created (the database, a log file) must be the application's to write.
    dataFilesWritable(site, dataGroup, mode === 'embedded' ? apache.user : account.user),

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
    fromProject('template', `Apache site config (${mode} mode)`, { notify: restartApache, dest: conf, validate: validateCommand(facts, site.siteName) }, site, (p) =>
      template({
        src: '../templates/django-wsgi.conf.ejs',
        dest: conf,
        vars: apacheConfigVars(facts, site, mode, p),
        mode: '0644',
        validate: validateCommand(facts, site.siteName),
      }),
      fileFootprint(conf),
    ),
    debian
      ? command({
          name: 'enable the site',
          cmd: ['a2ensite', site.siteName],
          creates: `${debianEnabledDir(facts, 'sites')}/${site.siteName}.conf`,
          notify: restartApache,
        })
      : null,
    // Embedded mode runs the application as Apache's user: it joins the data's group (a restart makes that count).
    // Here, beside the other tasks that need Apache restarted: earlier, its check would sit between the account's
    // and the project directory's applies, which then could not go to the host together.
    mode === 'embedded' ? user({ name: apache.user, groups: [account.group], append: true, notify: restartApache })
      : account.user === apache.user ? null : apacheLeavesGroup(facts, site),
    service({ name: apache.service, state: 'started', enabled: true }),

    // 10. Health checks from the host itself, once a restart or a daemon reload has happened.
    flushHandlers(),
    ...healthChecks(site),
    debug({ name: 'where the site is served', msg: `Django site served at http://${site.serverName}:${site.httpPort}/ (${mode} mode)` }),
  ].filter((t): t is Task => t !== null);
}

/** The health checks: `health_check_paths`, or `/` and one static file collectstatic copied. */
function healthChecks(site: SiteVars): Task[] {
  if (site.healthCheckPaths) return site.healthCheckPaths.map((path) => pageCheck(site, path));
  return [
    homePageCheck(site),
    fromProject('http', 'a static file answers', {}, site, (p) =>
      p.staticFile === null
        ? debug({ msg: 'no static file in the project to check' })
        : pageCheck(site, `${p.staticUrl}${p.staticFile}`),
      // the health check's (see http): what answers may come from anything on the host
      { reads: 'anything', writes: [] },
    ),
  ];
}

/** The rollout's gate: page_path (default `/`) answers from the host with page_status and page_text, after every host's tasks. */
export function djangoApacheGate(view: HostView): Task {
  return pageCheck(readSiteVars(view.vars), readSiteVars(view.vars).pagePath);
}

/**
 * GET a path from the host until it answers (Apache may still be starting), redirects followed: page_path must answer
 * page_status with page_text; any other path 200.
 */
function pageCheck(site: SiteVars, path: string, name = `${path} answers`): Task {
  const page = path === site.pagePath;
  return http({
    name,
    url: `http://${site.healthCheckHost}:${site.httpPort}${path}`,
    status: page ? site.pageStatus : 200,
    ...(page && site.pageText ? { contains: site.pageText } : {}),
    ...(Object.keys(site.healthCheckHeaders).length > 0 ? { headers: site.healthCheckHeaders } : {}),
    from: 'host',
    retries: 10,
    delay: 1,
  });
}

/** The page the health check reads (page_path) as the host itself reaches it. */
function siteUrl(site: SiteVars): string {
  return `http://${site.healthCheckHost}:${site.httpPort}${site.pagePath}`;
}

/** GET page_path (default `/`) from the host until it answers page_status with the page's text. */
function homePageCheck(site: SiteVars): Task {
  return pageCheck(site, site.pagePath, `${site.pagePath === '/' ? 'home page' : site.pagePath} answers at ${siteUrl(site)}`);
}

/**
 * The handlers the tasks notify, in the order they run: a config change restarts Apache; a code change in
 * daemon mode touches wsgi_production.py, which makes mod_wsgi's daemon processes reload on their next request.
 */
export function djangoApacheHandlers(options: DjangoApacheOptions): Record<string, (view: HostView) => Task> {
  const handlers: Record<string, (view: HostView) => Task> = {
    [restartApache]: ({ facts }) => service({ name: facts.apache.service, state: 'restarted' }),
  };
  if (options.mode === 'daemon') {
    handlers[reloadDaemon] = ({ vars }) => {
      const site = readSiteVars(vars);
      return command({ name: reloadDaemon, cmd: ['touch', wsgiEntryPath(site)] });
    };
  }
  return handlers;
}
