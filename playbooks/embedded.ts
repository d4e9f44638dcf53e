// Deploys a Django project (examples/mysite unless project_src says) on Apache with mod_wsgi in embedded mode: the application inside Apache's children (section 6.4).
import { definePlaybook } from 'provision';
import { djangoApacheGate, djangoApacheHandlers, djangoApacheTasks } from './roles/django-apache.js';

export default definePlaybook({
  name: 'Django on Apache, mod_wsgi embedded mode',
  hosts: 'web',
  become: true,
  tasks: (view) => djangoApacheTasks(view, { mode: 'embedded' }),
  handlers: djangoApacheHandlers({ mode: 'embedded' }),
  // With --serial, a batch passes when every host's home page answers.
  gate: djangoApacheGate,
});
