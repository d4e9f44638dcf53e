// One service task built from the variables the lab's systemd test passes with -e (svc_state, svc_enabled, svc_daemon_reload).
import { definePlaybook, service } from 'provision';

type ServiceParams = Parameters<typeof service>[0];

export default definePlaybook({
  name: 'service on lab hosts',
  hosts: 'lab',
  tasks: ({ vars }) => {
    const params: ServiceParams = { name: String(vars.svc_name ?? 'labsvc') };
    if (vars.svc_state !== undefined) params.state = vars.svc_state as ServiceParams['state'];
    if (vars.svc_enabled !== undefined) params.enabled = vars.svc_enabled === true;
    if (vars.svc_daemon_reload === true) params.daemonReload = true;
    return [service(params)];
  },
});
