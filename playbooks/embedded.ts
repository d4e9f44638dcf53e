// Deploys examples/mysite on Apache with mod_wsgi in embedded mode: the application inside Apache's children (section 6.4).
import { definePlaybook } from 'provision';
import { djangoApacheHandlers, djangoApacheTasks } from './roles/django-apache.js';

export default definePlaybook({
  name: 'Django on Apache, mod_wsgi embedded mode',
  hosts: 'web',
  become: true,
  tasks: (view) => djangoApacheTasks(view, { mode: 'embedded' }),
  handlers: djangoApacheHandlers({ mode: 'embedded' }),
});
