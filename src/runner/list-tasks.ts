// --list-tasks and --list-tags as ansible-playbook prints them: the tasks --tags/--skip-tags select, without connecting.
import type { Playbook, Task, Vars } from '../playbook/types.js';
import { buildOrFail, resolveTasks } from './task-list.js';
import { shownName } from './context.js';
import { unknownFacts } from './host.js';
import { selectedByTags } from './tags.js';
import { terminalSafe } from '../report/terminal-safe.js';

export interface ListOptions {
  tasks: boolean;
  tags: boolean;
  only?: string[];
  skip?: string[];
}

const tagList = (tags: Iterable<string>) => `[${[...new Set(tags)].sort().join(', ')}]`;

/**
 * The listing of a playbook's plays. A task list is built for each host from its variables with its facts unknown
 * (as a play with `gatherFacts: false` sees them): no host is contacted. Hosts whose lists are the same are shown
 * once, as Ansible shows a play's one list; where they differ, each distinct list names its hosts.
 */
export function formatListing(
  playbookPath: string,
  plays: Array<{ playbook: Playbook; hosts: string[]; varsOf: (host: string) => Vars }>,
  o: ListOptions,
): string {
  const out = ['', `playbook: ${playbookPath}`];
  for (const [i, { playbook, hosts, varsOf }] of plays.entries()) {
    out.push('');
    out.push(`  play #${i + 1} (${terminalSafe(playbook.hosts)}): ${terminalSafe(playbook.name)}\tTAGS: []`);
    const lists = new Map<string, { hosts: string[]; tasks: Task[] }>();
    // A play that matched no host still lists a task list that is not a function of a host.
    const listedFor = hosts.length === 0 && typeof playbook.tasks !== 'function' ? [''] : hosts;
    for (const host of listedFor) {
      const tasks = buildOrFail(
        () => resolveTasks(playbook, { host, vars: host === '' ? {} : varsOf(host), facts: unknownFacts(host) }),
        'building the task list for --list-tasks (no host is contacted: facts are unknown)',
        host,
        playbookPath,
      ).filter((t) => selectedByTags(t.options.tags, o.only, o.skip));
      const key = JSON.stringify(tasks.map((t) => [shownName(t), t.options.tags ?? []]));
      const entry = lists.get(key) ?? { hosts: [], tasks };
      entry.hosts.push(host);
      lists.set(key, entry);
    }
    if (o.tasks) {
      for (const { hosts: some, tasks } of lists.values()) {
        out.push(lists.size > 1 ? `    tasks (${some.map(terminalSafe).join(', ')}):` : '    tasks:');
        for (const t of tasks) out.push(`      ${terminalSafe(shownName(t))}\tTAGS: ${tagList(t.options.tags ?? [])}`);
      }
    }
    if (o.tags) {
      const all = [...lists.values()].flatMap((l) => l.tasks.flatMap((t) => t.options.tags ?? []));
      out.push(`      TASK TAGS: ${tagList(all.map(terminalSafe))}`);
    }
  }
  return `${out.join('\n')}\n`;
}
