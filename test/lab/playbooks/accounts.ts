// A service account as the Django role makes one: a system group, then a system user in it, from -e variables.
import { definePlaybook, group, user } from 'provision';

export default definePlaybook({
  name: 'accounts on lab hosts',
  hosts: 'lab',
  tasks: ({ vars }) => {
    const state = vars.acct_state === 'absent' ? 'absent' : 'present';
    const groups = Array.isArray(vars.acct_groups) ? vars.acct_groups.map(String) : undefined;
    const u = user({
      name: 'labapp',
      state,
      system: true,
      group: 'labapp',
      ...(groups ? { groups } : {}),
      home: '/srv/labapp',
      createHome: false,
      shell: String(vars.acct_shell ?? '/usr/sbin/nologin'),
      comment: 'lab application',
      remove: false,
    });
    const g = group({ name: 'labapp', state, system: true });
    // a user goes before its group when both go away
    return state === 'present' ? [g, u] : [u, g];
  },
});
