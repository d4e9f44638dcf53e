// The benchmark's representative playbook: a Django/Apache deploy that touches only files under the host var `root`.
// bench/floor.sh and bench/ansible/workload.yml do exactly the same work; the benchmark compares the trees they leave.
import { command, copy, definePlaybook, file, lineinfile, template } from 'provision';

export default definePlaybook({
  name: 'bench: Django on Apache under a per-host root',
  hosts: 'all',
  tasks: ({ host, vars, facts }) => {
    const root = String(vars.root);
    const site = `${root}/srv/mysite`;
    const logs = `${site}/logs`;
    const group = facts.apache.group;
    const serverName = `${host}.bench.test`;
    return [
      // The layout: seven directories with their modes.
      file({ path: site, state: 'directory', mode: '0755' }),
      file({ path: `${site}/mysite`, state: 'directory', mode: '0755' }),
      file({ path: `${site}/static`, state: 'directory', mode: '0755' }),
      file({ path: `${site}/media`, state: 'directory', mode: '0775' }),
      file({ path: logs, state: 'directory', mode: '0750' }),
      file({ path: `${root}/etc/apache2/sites-available`, state: 'directory', mode: '0755' }),
      file({ path: `${root}/etc/apache2/sites-enabled`, state: 'directory', mode: '0755' }),
      // The project's five files; settings.py is only seeded, then edited in place below.
      copy({ src: 'files/manage.py', dest: `${site}/manage.py`, mode: '0755' }),
      copy({ src: 'files/mysite/__init__.py', dest: `${site}/mysite/__init__.py`, mode: '0644' }),
      copy({ src: 'files/mysite/urls.py', dest: `${site}/mysite/urls.py`, mode: '0644' }),
      copy({ src: 'files/mysite/wsgi.py', dest: `${site}/mysite/wsgi.py`, mode: '0644' }),
      copy({ src: 'files/mysite/settings.py', dest: `${site}/mysite/settings.py`, mode: '0640', force: false }),
      lineinfile({ path: `${site}/mysite/settings.py`, regexp: '^DEBUG\\s*=', line: 'DEBUG = False' }),
      lineinfile({ path: `${site}/mysite/settings.py`, regexp: '^ALLOWED_HOSTS\\s*=', line: `ALLOWED_HOSTS = ['${serverName}']` }),
      // SQLite needs its folder and file writable by Apache's group.
      file({ path: `${site}/db`, state: 'directory', mode: '0770', group }),
      file({ path: `${site}/db/db.sqlite3`, state: 'touch', mode: '0660', group }),
      file({ path: `${logs}/error.log`, state: 'touch', mode: '0640' }),
      file({ path: `${logs}/access.log`, state: 'touch', mode: '0640' }),
      // Simulated collectstatic, guarded as the real one would be.
      command({
        name: 'collectstatic',
        cmd: ['sh', '-c', 'mkdir -p static/admin && cp mysite/urls.py static/admin/urls.txt && echo collected > static/admin/.collected'],
        chdir: site,
        creates: `${site}/static/admin/.collected`,
      }),
      template({
        src: 'templates/vhost.conf.ejs',
        dest: `${root}/etc/apache2/sites-available/mysite.conf`,
        mode: '0644',
        vars: { server_name: serverName },
        notify: 'reload apache',
      }),
      file({ path: `${root}/etc/apache2/sites-enabled/mysite.conf`, state: 'link', src: '../sites-available/mysite.conf' }),
    ];
  },
  handlers: {
    // Harmless stand-in for a reload: leaves a marker the benchmark can see.
    'reload apache': ({ vars }) => command({ name: 'reload apache', cmd: ['touch', `${String(vars.root)}/apache-reloaded`] }),
  },
});
