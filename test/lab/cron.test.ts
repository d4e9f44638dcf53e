// cron for real on a lab host (cron installed through the lab's apt proxy), side by side with ansible-core 2.14's cron
// module: the cases of Ansible's own integration tests for cron (targets/cron) and the edges of cron.py, run through
// both tools on the same host, comparing changed/failed per step and the crontabs and cron files left.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '../../src/connection/types.js';
import { cron, type CronParams } from '../../src/modules/cron.js';
import type { Task } from '../../src/playbook/types.js';
import { createContext } from '../../src/runner/context.js';
import { debianFacts } from '../fixtures/facts.js';
import { lineinfile } from '../../src/modules/lineinfile.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { labUnavailable, startLab, type Lab } from './lab.js';
import { checkApplyTrips } from '../helpers/round-trips.js';

type Side = 'mine' | 'ansible';
/** A step: a cron task (in check mode when `check`), or a shell command setting the scene ($F the cron file, $U the user). */
type Step = { cron: Partial<CronParams>; check?: boolean } | { sh: string };
interface Scenario {
  name: string;
  /** A cron file in /etc/cron.d (each side its own, `<side>-<file>`), or a user's crontab (each side its own user). */
  target: { file: string } | { user: true };
  steps: Step[];
}

const canary = { name: 'test cron task', job: 'date > /tmp/cron_canary1' };
const japanese = 'cron job that contain non-ascii chars in job (これは日本語です; This is Japanese)';

const scenarios: Scenario[] = [
  // targets/cron/tasks/main.yml
  {
    name: 'canary',
    target: { user: true },
    steps: [
      { cron: canary, check: true }, { cron: canary }, { cron: canary, check: true }, { cron: canary },
      { cron: { ...canary, state: 'absent' }, check: true }, { cron: { ...canary, state: 'absent' } }, { cron: { ...canary, state: 'absent' } },
    ],
  },
  // "removing a cron task with cron_file and without specifying an user is allowed" (without a name, which 2.14 requires)
  { name: 'absent-no-user', target: { file: 'unexistent_cron_file' }, steps: [{ cron: { state: 'absent' } }, { cron: { name: 'x', state: 'absent' } }] },
  { name: 'var-after-job', target: { file: 'cron_filename' }, steps: [{ cron: { name: 'simple cron job', job: 'echo "_o/"', user: 'root' } }, { cron: { env: true, name: 'FOO', value: 'bar', user: 'root' } }] },
  { name: 'remove-name', target: { file: 'cron_remove_name' }, steps: [{ cron: { name: 'integration test cron', job: 'ls', user: 'root' } }, { cron: { name: 'integration test cron', state: 'absent' } }, { cron: { name: 'integration test cron', state: 'absent' } }] },
  { name: 'remove-whitespace', target: { file: 'cron_remove_whitespace' }, steps: [{ cron: { name: 'integration test cron', job: 'ls', user: 'root' } }, { sh: 'printf "\\n    \\n\\t\\n" >> "$F"' }, { cron: { name: 'integration test cron', state: 'absent' } }] },
  { name: 'nonascii-job', target: { file: 'cron_nonascii' }, steps: [{ cron: { name: japanese, job: 'echo "うどんは好きだがお化け👻は苦手である。"', user: 'root' } }, { cron: { name: japanese, job: 'echo "うどんは好きだがお化け👻は苦手である。"', user: 'root' } }, { cron: { name: japanese, state: 'absent' } }] },
  { name: 'nonascii-file', target: { file: 'なせば大抵なんとかなる👊' }, steps: [{ cron: { name: 'integration test cron', job: 'echo "Hello, ansible!"', user: 'root' } }, { sh: 'test -f "$F"' }, { cron: { name: 'integration test cron', state: 'absent' } }] },
  // targets/cron/tasks/cron.yml: a user's crontab
  { name: 'user-crontab', target: { user: true }, steps: [{ cron: { name: 'Test run a job', job: '/bin/date', minute: 0 } }, { cron: { name: 'Test run a job', job: '/bin/date', minute: 0 } }, { cron: { name: 'Test run a job', state: 'absent' } }] },
  // cron.py's edges: variables and where they go
  {
    name: 'env',
    target: { user: true },
    steps: [
      { cron: { name: 'job', job: '/bin/true', hour: '*/2' } },
      { cron: { env: true, name: 'PATH', value: '/usr/bin:/bin' } },
      { cron: { env: true, name: 'HOME', value: '/srv', insertAfter: 'PATH' } },
      { cron: { env: true, name: 'SHELL', value: '/bin/sh', insertBefore: 'PATH' } },
      { cron: { env: true, name: 'PATH', value: '/usr/local/bin:/usr/bin:/bin' } },
      { cron: { env: true, name: 'PATH', value: '/usr/local/bin:/usr/bin:/bin' } },
      { cron: { env: true, name: 'MAILTO', value: 'x', insertAfter: 'NOPE' } },
      { cron: { env: true, name: 'HOME', state: 'absent' } },
      { cron: { env: true, name: 'HOME', state: 'absent' } },
      { cron: { env: true, name: 'A B', value: '1' } },
    ],
  },
  {
    name: 'times',
    target: { file: 'times' },
    steps: [
      { cron: { name: 'weekly', job: '/usr/bin/weekly', weekday: 2, hour: 12, minute: 0, user: 'root' } },
      { cron: { name: 'weekly', job: '/usr/bin/weekly', weekday: '2', hour: '12', minute: '0', user: 'root' } },
      { cron: { name: 'boot', job: '/usr/bin/boot', specialTime: 'reboot', user: 'root' } },
      { cron: { name: 'boot', job: '/usr/bin/boot', specialTime: 'reboot', user: 'root', disabled: true } },
      { cron: { name: 'boot', job: '/usr/bin/boot', specialTime: 'reboot', minute: '5', user: 'root' } },
      { cron: { name: 'weekly', job: '/usr/bin/weekly --all', weekday: 2, hour: 12, minute: 0, user: 'nobody' } },
      { cron: { name: 'daily', job: 'x', specialTime: 'daily', user: 'root' } },
    ],
  },
  // a crontab written by hand: an identical line is adopted (a header put before it), then is converged
  { name: 'adopt', target: { user: true }, steps: [{ sh: 'printf "MAILTO=root\\n0 1 * * * /bin/true\\n" | crontab -u "$U" -' }, { cron: { name: 'adopt', job: '/bin/true', minute: '0', hour: '1' } }, { cron: { name: 'adopt', job: '/bin/true', minute: '0', hour: '1' } }] },
  { name: 'no-final-newline', target: { file: 'nonl' }, steps: [{ sh: 'printf "#Ansible: a\\n* * * * * root a" > "$F"' }, { cron: { name: 'a', job: 'a', user: 'root' } }, { cron: { name: 'a', job: 'a', user: 'root' } }] },
  { name: 'backup', target: { file: 'backup' }, steps: [{ cron: { name: 'a', job: 'a', user: 'root', backup: true } }, { cron: { name: 'a', job: 'b', user: 'root', backup: true } }, { cron: { name: 'a', job: 'b', user: 'root', backup: true } }] },
  {
    name: 'refused',
    target: { file: 'refused' },
    steps: [
      { cron: { name: 'a', job: 'a' } },
      { cron: { name: 'a', user: 'root' } },
      { cron: { name: 'a', job: 'a', user: 'root', insertAfter: 'PATH' } },
      { sh: 'true' },
    ],
  },
  { name: 'system-crontab', target: { file: '/etc/crontab' }, steps: [{ cron: { name: 'integration test cron', job: 'ls', user: 'root' } }, { cron: { name: 'integration test cron', state: 'absent' } }] },
];

const users = (side: Side) => scenarios.map((s, i) => ('user' in s.target ? `cron${side === 'mine' ? 'm' : 'a'}${i}` : undefined));
const fileOf = (s: Scenario, side: Side) => ('file' in s.target ? (s.target.file.startsWith('/') ? s.target.file : `/etc/cron.d/${side}-${s.target.file}`) : undefined);

/** The cron parameters for a side: its own file or user. */
function paramsFor(s: Scenario, i: number, side: Side, p: Partial<CronParams>): Partial<CronParams> {
  if ('file' in s.target) return { ...p, cronFile: fileOf(s, side)!.replace(/^\/etc\/cron\.d\//, '') };
  return { ...p, user: users(side)[i] };
}

/** Ansible's cron task (snake_case names) for a step. */
function ansibleTask(step: Step, s: Scenario, i: number): object {
  if ('sh' in step) return { shell: `F=${JSON.stringify(fileOf(s, 'ansible') ?? '')}; U=${users('ansible')[i] ?? ''}; ${step.sh}` };
  const { specialTime, cronFile, insertAfter, insertBefore, ...rest } = paramsFor(s, i, 'ansible', step.cron);
  const p: Record<string, unknown> = { ...rest, special_time: specialTime, cron_file: cronFile, insertafter: insertAfter, insertbefore: insertBefore };
  return { cron: Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)), ...(step.check ? { check_mode: true } : {}) };
}

describe('cron on a lab host, side by side with Ansible', function () {
  this.timeout(900_000);
  let lab: Lab;
  let conn: Connection;
  const ctxFor = (checkMode: boolean) => createContext({ host: 'h1', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: '/' });

  before(async function () {
    const why = labUnavailable();
    if (why) throw new Error(why);
    lab = await startLab(1);
    conn = await lab.connect(1);
    // the lab's base has no cron: from Debian's mirror through the lab's apt proxy
    await lab.sshOk(1, 'command -v crontab >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cron >/dev/null; }');
    const all = [...users('mine'), ...users('ansible')].filter((u) => u !== undefined);
    await lab.sshOk(1, all.map((u) => `useradd -m ${u}`).join(' && '));
  });
  after(async () => {
    await conn?.close();
    await lab?.down();
  });

  /** Ansible's changed/failed per task, from one ansible-playbook run (every task goes on after a failure). */
  async function ansibleSteps(tasks: object[]): Promise<Array<{ changed: boolean; failed: boolean }>> {
    const play = join(lab.inventory, '..', 'cron-ansible.json');
    writeFileSync(play, JSON.stringify([{ hosts: 'h1', gather_facts: false, tasks: tasks.map((t) => ({ ...t, ignore_errors: true })) }]));
    try {
      const out = await new Promise<string>((resolve) => {
        execFile('ansible-playbook', ['-i', lab.inventory, play], { env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'oneline', ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'True' }, maxBuffer: 64 << 20 }, (_e, stdout, stderr) => resolve(stdout + stderr));
      });
      const lines = out.split('\n').filter((l) => l.startsWith('h1 | '));
      assert.equal(lines.length, tasks.length, out);
      return lines.map((l) => {
        const status = l.slice(5).split(' ')[0]!;
        return { changed: status === 'CHANGED', failed: status.startsWith('FAILED') };
      });
    } finally {
      rmSync(play, { force: true });
    }
  }

  /** A step of mine: a shell step on the host, or the task's check and (unless check) its apply; a throw is a failure. */
  async function mine(step: Step, s: Scenario, i: number): Promise<{ changed: boolean; failed: boolean }> {
    if ('sh' in step) {
      const r = await lab.ssh(1, `F=${JSON.stringify(fileOf(s, 'mine') ?? '')}; U=${users('mine')[i] ?? ''}; ${step.sh}`);
      return { changed: true, failed: r.code !== 0 };
    }
    try {
      const t: Task = cron(paramsFor(s, i, 'mine', step.cron) as CronParams);
      const ctx = ctxFor(step.check === true);
      const plan = await t.check(ctx);
      if (plan.changed && !step.check) await t.apply(ctx, plan);
      return { changed: plan.changed, failed: false };
    } catch {
      return { changed: false, failed: true };
    }
  }

  /** What a scenario left: the cron file's text or the user's crontab (`crontab -l`), 'absent' when none. */
  async function left(s: Scenario, i: number, side: Side): Promise<string> {
    const cmd = 'file' in s.target ? `cat -- ${JSON.stringify(fileOf(s, side))}` : `crontab -l -u ${users(side)[i]}`;
    const r = await lab.ssh(1, cmd);
    return r.code === 0 ? r.stdout : 'absent';
  }

  it("agrees with Ansible's cron on changed/failed per step and on the crontabs and files left, for every case", async () => {
    const before = await lab.sshOk(1, 'cat /etc/crontab');
    const ours: string[] = [];
    for (const [i, s] of scenarios.entries()) for (const [k, st] of s.steps.entries()) ours.push(`${s.name}#${k + 1} ${JSON.stringify(await mine(st, s, i))}`);
    const tasks = scenarios.flatMap((s, i) => s.steps.map((st) => ansibleTask(st, s, i)));
    const theirs = (await ansibleSteps(tasks)).map((r, n) => `${ours[n]!.split(' ')[0]} ${JSON.stringify(r)}`);
    // a shell step's own changed is not compared, only whether it worked
    const shell = scenarios.flatMap((s) => s.steps.map((st) => 'sh' in st));
    const norm = (l: string, n: number) => (shell[n] ? l.replace(/"changed":(true|false)/, '"changed":-') : l);
    assert.deepEqual(ours.map(norm), theirs.map(norm));
    for (const [i, s] of scenarios.entries()) {
      const a = await left(s, i, 'mine');
      const b = await left(s, i, 'ansible');
      assert.equal(a, b.replaceAll('ansible-', 'mine-'), `${s.name}: what is left differs`);
    }
    assert.equal(await lab.sshOk(1, 'cat /etc/crontab'), before, '/etc/crontab was changed');
  });

  it("costs lineinfile's round trips: one to check, one to apply, only the check when converged; a converged run the same", async () => {
    await lab.sshOk(1, 'useradd -m crontrips');
    const trips = (task: Task) => checkApplyTrips(task, ctxFor, conn);
    const theirs = await trips(lineinfile({ path: '/etc/trips-direct.conf', line: 'a', create: true }));
    assert.deepEqual(theirs, [1, 1, 1, 0]);
    assert.deepEqual(await trips(cron({ name: 'rt', job: '/bin/true', user: 'crontrips' })), theirs);
    assert.deepEqual(await trips(cron({ name: 'rt', job: '/bin/true', user: 'root', cronFile: 'rt' })), theirs);
    // through the runner: three tasks of each kind, converged (the second run), counted by the JSON report
    const converged: Record<string, number> = {};
    for (const kind of ['lineinfile', 'crontab', 'cronfile']) {
      const args = ['run', join(repoRoot, 'test/lab/playbooks/cron-trips.ts'), '-i', lab.inventory, '--known-hosts', lab.knownHosts, '--json', '-e', JSON.stringify({ kind })];
      assert.equal((await runCli(args)).code, 0);
      const again = parseReport((await runCli(args)).stdout).hosts['h1']!;
      assert.equal(again.stats.changed, 0);
      converged[kind] = again.round_trips!;
    }
    assert.deepEqual(converged, { lineinfile: converged['lineinfile'], crontab: converged['lineinfile'], cronfile: converged['lineinfile'] });
  });
});
