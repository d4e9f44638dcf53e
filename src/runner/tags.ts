// Which tasks a run's --tags and --skip-tags select, with Ansible's special tags.

/**
 * Whether a task with `taskTags` runs, as Ansible decides: `--skip-tags` wins over everything (`always` included
 * when named); a `never` task runs only when `--tags` names one of its tags; an `always` task runs whatever
 * `--tags` says; otherwise `--tags` (none, or `all`: every task; `tagged`, `untagged`) must match one of its tags.
 */
export function selectedByTags(taskTags: readonly string[] | undefined, only?: readonly string[], skip?: readonly string[]): boolean {
  const tags = new Set(taskTags ?? []);
  if (skip?.some((t) => tags.has(t) || (t === 'tagged' && tags.size > 0) || (t === 'untagged' && tags.size === 0))) return false;
  const asked = (t: string) => tags.has(t) || (t === 'tagged' && tags.size > 0) || (t === 'untagged' && tags.size === 0);
  if (tags.has('never')) return (only ?? []).some((t) => t !== 'tagged' && tags.has(t));
  if (tags.has('always')) return true;
  if (!only || only.length === 0 || only.includes('all')) return true;
  return only.some(asked);
}
