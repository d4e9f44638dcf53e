// The commonest role pattern: a template writes a new systemd unit, then the service is started and enabled with it.
import { definePlaybook, service, template } from 'provision';

export default definePlaybook({
  name: 'a new unit, then its service',
  hosts: 'lab',
  tasks: ({ vars }) => [
    template({ src: 'templates/appsrv.service.ejs', dest: `/etc/systemd/system/${String(vars.svc_name)}.service`, mode: '0644' }),
    service({ name: String(vars.svc_name), state: 'started', enabled: true, daemonReload: true }),
  ],
});
