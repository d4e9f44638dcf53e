// Deploys examples/mysite on Apache with mod_wsgi in daemon mode: the seed's recommended way (section 6.5).
import { definePlaybook } from 'provision';
import { djangoApacheHandlers, djangoApacheTasks } from './roles/django-apache.js';

export default definePlaybook({
  name: 'Django on Apache, mod_wsgi daemon mode',
  hosts: 'web',
  become: true,
  tasks: (view) => djangoApacheTasks(view, { mode: 'daemon' }),
  handlers: djangoApacheHandlers({ mode: 'daemon' }),
});
