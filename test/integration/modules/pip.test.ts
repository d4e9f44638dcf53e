// pip through a real sshd host: a virtualenv made by the module, a wheelhouse built in the test (no network), and side by side with Ansible's pip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { pip, type PipParams } from '../../../src/modules/pip.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';
import { ansibleSteps, ourSteps, runTask } from '../../helpers/ansible-steps.js';

const python = '/usr/bin/python3';

describe('pip through sshd', function () {
  this.timeout(300_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  let wheels: string;

  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root });
  const check = (t: Task) => t.check(ctxFor(true));
  const run = (t: Task) => runTask(t, ctxFor(false));
  const installed = (venv: string) => execFileSync(join(venv, 'bin/pip'), ['freeze'], { encoding: 'utf8' }).trim();

  before(async function () {
    try {
      execFileSync(python, ['-c', 'import setuptools, wheel, venv']);
    } catch {
      throw new Error(`${python} needs setuptools, wheel and venv to build the test's wheelhouse (apt-get install python3-setuptools python3-wheel python3-venv)`);
    }
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
    root = join(fleet.hosts[0]!.root, 'pip');
    wheels = join(root, 'wheels');
    for (const version of ['1.0', '1.1']) {
      const src = join(root, `src-${version}`);
      mkdirSync(join(src, 'tinypkg'), { recursive: true });
      writeFileSync(join(src, 'tinypkg/__init__.py'), `VERSION = '${version}'\n`);
      writeFileSync(join(src, 'setup.py'), `from setuptools import setup\nsetup(name='tinypkg', version='${version}', packages=['tinypkg'])\n`);
      execFileSync(python, ['-m', 'pip', 'wheel', '-q', '--no-build-isolation', '--no-deps', '--no-index', '-w', wheels, src], { stdio: 'pipe' });
    }
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
  });

  it('makes the virtualenv, installs a version, a changed requirements file shows the packages, latest and absent; converged is ok', async () => {
    const venv = join(root, 'venv');
    const common = { virtualenv: venv, virtualenvCommand: `${python} -m venv`, extraArgs: `--no-index --find-links ${wheels}` };
    const t = pip({ name: ['tinypkg==1.0'], ...common });
    assert.equal((await check(t)).summary, `would create virtualenv ${venv}, would install: tinypkg==1.0`);
    assert.equal(existsSync(venv), false);
    assert.equal((await run(t)).changed, true);
    assert.equal(installed(venv), 'tinypkg==1.0');
    const again = await run(t);
    assert.equal(again.changed, false, again.plan.summary);

    const req = join(root, 'requirements.txt');
    writeFileSync(req, 'tinypkg==1.1\n');
    const r = pip({ requirements: req, ...common });
    assert.equal((await check(r)).summary, 'would install: tinypkg==1.1 (now 1.0)');
    assert.equal(installed(venv), 'tinypkg==1.0', 'the check installed');
    assert.equal((await run(r)).changed, true);
    assert.equal(installed(venv), 'tinypkg==1.1');
    assert.equal((await run(r)).changed, false);
    assert.equal((await run(pip({ name: 'tinypkg', state: 'latest', ...common }))).changed, false);

    // pip uninstall takes no --find-links: extraArgs go to it as they go in Ansible's pip
    const gone = pip({ name: 'tinypkg', state: 'absent', virtualenv: venv });
    assert.equal((await check(gone)).summary, 'would remove: tinypkg==1.1');
    assert.equal((await run(gone)).changed, true);
    assert.equal(installed(venv), '');
    assert.equal((await run(gone)).changed, false);
  });

  it('agrees with Ansible pip on changed per step', async () => {
    const steps = (venv: string): PipParams[] => {
      const common = { virtualenv: venv, virtualenvCommand: `${python} -m venv`, extraArgs: `--no-index --find-links ${wheels}` };
      return [
        { name: 'tinypkg==1.0', ...common },
        { name: 'tinypkg==1.0', ...common },
        { name: 'tinypkg', version: '1.1', ...common },
        { name: 'tinypkg', state: 'latest', ...common },
        { name: 'tinypkg', ...common },
        { name: 'tinypkg', state: 'absent', virtualenv: venv },
        { name: 'tinypkg', state: 'absent', virtualenv: venv },
        { name: 'tinypkg==9.9', ...common },
      ];
    };
    const mine = await ourSteps(steps(join(root, 'ours')), (s) => run(pip(s)));
    const ansible = await ansibleSteps(
      fleet,
      fleet.hosts[0]!,
      steps(join(root, 'theirs')).map(({ virtualenvCommand, extraArgs, ...s }) => ({ pip: { ...s, virtualenv_command: virtualenvCommand, extra_args: extraArgs } })),
    );
    assert.deepEqual(mine, ansible.map(({ changed, failed }) => ({ changed, failed })));
  });
});
