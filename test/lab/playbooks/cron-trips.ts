// Three edits of one kind (vars.kind): user crontab jobs, cron file jobs, or lineinfile lines; a converged run of
// each is compared by its round trips.
import { cron, definePlaybook, lineinfile } from 'provision';

export default definePlaybook({
  name: 'cron round trips',
  hosts: 'lab',
  tasks: ({ vars }) =>
    [1, 2, 3].map((i) => {
      if (vars.kind === 'crontab') return cron({ name: `job ${i}`, job: `/bin/true ${i}`, minute: String(i), user: 'crontrips' });
      if (vars.kind === 'cronfile') return cron({ name: `job ${i}`, job: `/bin/true ${i}`, minute: String(i), user: 'root', cronFile: 'trips' });
      return lineinfile({ path: '/etc/trips.conf', line: `line ${i}`, create: true });
    }),
});
