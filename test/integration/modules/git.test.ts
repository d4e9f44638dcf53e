// git through a real sshd host, against a bare repository made in the test, and side by side with Ansible's git module.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { git, type GitParams } from '../../../src/modules/git.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';
import { ansibleSteps, ourSteps, runTask } from '../../helpers/ansible-steps.js';

describe('git through sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  let work: string;
  let repo: string;

  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root });
  const check = (t: Task) => t.check(ctxFor(true));
  const run = (t: Task) => runTask(t, ctxFor(false));
  const g = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  function commit(file: string, text: string, tag?: string): string {
    writeFileSync(join(work, file), text);
    g('add', file);
    g('commit', '-q', '-m', text);
    if (tag) g('tag', '-a', '-m', tag, tag);
    g('push', '-q', '--follow-tags', 'origin', 'main');
    return g('rev-parse', 'HEAD');
  }
  const head = (dir: string) => execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();

  before(async () => {
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
  });
  beforeEach(() => {
    root = join(fleet.hosts[0]!.root, `t${Date.now()}`);
    repo = join(root, 'app.git');
    work = join(root, 'work');
    mkdirSync(root, { recursive: true });
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', repo]);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    g('remote', 'add', 'origin', repo);
  });

  it('clones, names both commits, a new tag on the current commit is no change, local changes fail unless force', async () => {
    const v1 = commit('app.txt', 'one\n', 'v1');
    const dest = join(root, 'checkout');
    const t1 = git({ repo, dest, version: 'v1' });
    assert.equal((await check(t1)).summary, `would clone ${repo} at v1 (${v1.slice(0, 7)}) into ${dest}`);
    assert.equal((await run(t1)).changed, true);
    assert.equal(head(dest), v1);
    assert.equal((await run(t1)).changed, false);
    g('tag', 'also-v1');
    g('push', '-q', 'origin', 'also-v1');
    assert.equal((await run(git({ repo, dest, version: 'also-v1' }))).changed, false, 'a new tag on the current commit');
    const v2 = commit('app.txt', 'two\n', 'v2');
    const t2 = git({ repo, dest, version: 'v2' });
    const planned = await check(t2);
    assert.equal(planned.summary, `would check out v2 (${v2.slice(0, 7)}) (now v1, ${v1.slice(0, 7)})`, 'the tags the checkout knows');
    assert.equal(head(dest), v1, 'check changed the checkout');
    assert.equal((await run(t2)).changed, true);
    assert.equal(readFileSync(join(dest, 'app.txt'), 'utf8'), 'two\n');
    writeFileSync(join(dest, 'app.txt'), 'edited\n');
    writeFileSync(join(dest, 'untracked'), 'x\n');
    await assert.rejects(check(t2), /Local modifications exist in the destination: .* \(force=no\): M app\.txt/);
    const forced = await run(git({ repo, dest, version: 'v2', force: true }));
    assert.equal(forced.changed, true);
    assert.match(forced.plan.summary ?? '', /^would discard local changes \(M app\.txt\)$/);
    assert.equal(readFileSync(join(dest, 'app.txt'), 'utf8'), 'two\n');
    // a branch follows its remote head
    const tb = git({ repo, dest, version: 'main' });
    assert.equal((await run(tb)).changed, false, 'main is at the commit checked out');
    const v3 = commit('app.txt', 'three\n');
    assert.match((await check(tb)).summary ?? '', new RegExp(`would check out main \\(${v3.slice(0, 7)}\\)`));
    assert.equal((await run(tb)).changed, true);
    assert.equal(head(dest), v3);
    assert.equal((await run(tb)).changed, false);
  });

  it('agrees with Ansible git on changed per step and the checkout it leaves', async () => {
    commit('app.txt', 'one\n', 'v1');
    commit('app.txt', 'two\n', 'v2');
    const steps = (dest: string): GitParams[] => [
      { repo, dest, version: 'v1' },
      { repo, dest, version: 'v1' },
      { repo, dest, version: 'v2' },
      { repo, dest, version: 'main' },
      { repo, dest, version: 'nonexistent-ref' },
      { repo, dest, version: 'v1', update: false },
      { repo, dest: `${dest}-head` },
      { repo, dest: `${dest}-head` },
    ];
    const ours = join(root, 'ours');
    const theirs = join(root, 'theirs');
    const mine = await ourSteps(steps(ours), (s) => run(git(s)));
    const ansible = await ansibleSteps(fleet, fleet.hosts[0]!, steps(theirs).map((s) => ({ git: s })));
    assert.deepEqual(mine, ansible.map(({ changed, failed }) => ({ changed, failed })));
    assert.equal(head(ours), head(theirs));
    assert.equal(head(`${ours}-head`), head(`${theirs}-head`));
    // --check: Ansible's check mode and ours agree on what a new commit would change
    const v3 = commit('app.txt', 'three\n');
    const checked = await ansibleSteps(fleet, fleet.hosts[0]!, [{ git: { repo, dest: theirs, version: 'main' } }], { check: true });
    assert.equal((await check(git({ repo, dest: ours, version: 'main' }))).changed, checked[0]!.changed);
    assert.notEqual(head(ours), v3);
  });
});
