// Deploys a Django project (examples/mysite unless project_src says) on Apache with mod_wsgi in daemon mode: the seed's recommended way (section 6.5).
import { definePlaybook } from 'provision';
import { djangoApacheGate, djangoApacheHandlers, djangoApacheTasks } from './roles/django-apache.js';

export default definePlaybook({
  name: 'Django on Apache, mod_wsgi daemon mode',
  hosts: 'web',
  become: true,
  tasks: (view) => djangoApacheTasks(view, { mode: 'daemon' }),
  handlers: djangoApacheHandlers({ mode: 'daemon' }),
  // With --serial, a batch passes when every host's home page answers.
  gate: djangoApacheGate,
});
