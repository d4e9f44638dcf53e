// Runs tasks through ansible-playbook (ansible-core 2.14) against a fleet host, for differential tests: changed/failed per step.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan, Task, TaskContext } from '../../src/playbook/types.js';
import type { Fleet, FleetHost } from '../fleet/fleet.js';

export interface AnsibleStep {
  changed: boolean;
  failed: boolean;
  msg?: string;
}

/** Runs `tasks` (Ansible task objects) as one play on `host`; one result per task, in order. */
/** Async (not spawnSync): a server the test runs in this process must go on answering the host meanwhile. */
export async function ansibleSteps(fleet: Fleet, host: FleetHost, tasks: object[], opts: { check?: boolean } = {}): Promise<AnsibleStep[]> {
  const dir = fleet.dir;
  const inventory = join(dir, `ansible-${host.name}.ini`);
  writeFileSync(
    inventory,
    `${host.name} ansible_host=127.0.0.1 ansible_port=${host.port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath} ansible_python_interpreter=/usr/bin/python3\n`,
  );
  const play = join(dir, 'ansible-play.yml');
  // every task goes on after a failure, so each step has its own result
  writeFileSync(play, JSON.stringify([{ hosts: 'all', gather_facts: false, tasks: tasks.map((t) => ({ ...t, ignore_errors: true })) }]));
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile('ansible-playbook', ['-i', inventory, play, ...(opts.check ? ['--check'] : [])], {
    env: {
      ...process.env,
      ANSIBLE_STDOUT_CALLBACK: 'oneline',
      ANSIBLE_SSH_COMMON_ARGS: `-o UserKnownHostsFile=${fleet.knownHostsPath}`,
      ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-local'),
      ANSIBLE_NOCOLOR: '1',
    },
    maxBuffer: 64 * 1024 * 1024,
    }, (_err, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }));
  });
  // oneline: one line per task and host, `host | CHANGED => {...}`, `| SUCCESS`, `| FAILED!`
  const lines = r.stdout.split('\n').filter((l) => l.startsWith(`${host.name} | `));
  if (lines.length !== tasks.length) throw new Error(`ansible-playbook gave ${lines.length} results for ${tasks.length} tasks (exit ${r.status}): ${r.stdout}${r.stderr}`);
  return lines.map((l) => {
    const status = l.slice(host.name.length + 3).split(' ')[0]!;
    const json = l.indexOf('{');
    let msg: string | undefined;
    try {
      msg = json < 0 ? undefined : (JSON.parse(l.slice(json)) as { msg?: string }).msg;
    } catch {
      msg = undefined;
    }
    return { changed: status === 'CHANGED', failed: status.startsWith('FAILED'), msg };
  });
}

/** Runs a task as a real run does: its check, then its apply when the check plans a change. */
export async function runTask(t: Task, ctx: TaskContext): Promise<{ plan: Plan; changed: boolean }> {
  const plan = await t.check(ctx);
  if (!plan.changed) return { plan, changed: false };
  const r = await t.apply(ctx, plan);
  return { plan, changed: r?.changed ?? true };
}

/** provision's changed/failed for each step, in order, as ansibleSteps gives Ansible's (a step that throws failed). */
export async function ourSteps<S>(steps: readonly S[], run: (step: S) => Promise<{ changed: boolean }>): Promise<Array<{ changed: boolean; failed: boolean }>> {
  const mine: Array<{ changed: boolean; failed: boolean }> = [];
  for (const s of steps) {
    try {
      mine.push({ changed: (await run(s)).changed, failed: false });
    } catch {
      mine.push({ changed: false, failed: true });
    }
  }
  return mine;
}
