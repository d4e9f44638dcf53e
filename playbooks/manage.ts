// Runs `manage.py ARGS` on each host of the play, as the deployed site runs it: `-e manage_args='migrate --plan'`.
import { definePlaybook, shell } from 'provision';
import { managePath, readSiteVars } from './roles/django-apache.js';

export default definePlaybook({
  name: 'manage.py on the deployed Django site',
  hosts: 'web',
  become: true,
  tasks: ({ vars }) => {
    const args = vars['manage_args'];
    if (typeof args !== 'string' || args.trim() === '') {
      throw new Error("manage_args is required: the manage.py command line, e.g. -e manage_args='showmigrations'");
    }
    // the script the deploy wrote: the site's user, its production settings and env file, the Python mod_wsgi uses
    return [shell({ name: `manage.py ${args}`, cmd: `${managePath(readSiteVars(vars))} ${args}` })];
  },
});
