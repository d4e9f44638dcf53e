// unarchive through a real sshd host: tar (gz, xz, bz2, zst) and zip archives made in the test, and side by side with Ansible's unarchive.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { unarchive, type UnarchiveParams } from '../../../src/modules/unarchive.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';
import { ansibleSteps, ourSteps, runTask } from '../../helpers/ansible-steps.js';

/** Every path below `dir` with its type, mode and content. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const st = statSync(join(d, n));
      out.push(`${rel}${n} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? 'dir' : readFileSync(join(d, n), 'utf8')}`);
      if (st.isDirectory()) walk(join(d, n), `${rel}${n}/`);
    }
  };
  walk(dir, '');
  return out;
}

describe('unarchive through sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  let tree: string;

  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: { ...debianFacts(), uid: 0 }, checkMode, become: false, baseDir: root });
  const check = (t: Task) => t.check(ctxFor(true));
  const run = (t: Task) => runTask(t, ctxFor(false));
  /** An archive of `tree` (app/…): tar with a compression flag, or zip. */
  function archive(name: string): string {
    const out = join(root, name);
    if (name.endsWith('.zip')) execFileSync('zip', ['-qr', out, 'app'], { cwd: tree });
    else execFileSync('tar', ['-c', '-a', '-f', out, 'app'], { cwd: tree });
    return out;
  }

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
    tree = join(root, 'tree');
    mkdirSync(join(tree, 'app/bin'), { recursive: true });
    writeFileSync(join(tree, 'app/README'), 'hello\n');
    writeFileSync(join(tree, 'app/bin/run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    writeFileSync(join(tree, 'app/skip.log'), 'log\n');
  });

  for (const ext of ['tar.gz', 'tar.xz', 'tar.bz2', 'tar.zst', 'zip']) {
    it(`${ext}: check predicts, the run unpacks, a converged host is ok, a changed or missing member is repaired`, async () => {
      const src = archive(`app.${ext}`);
      const dest = join(root, 'dest');
      mkdirSync(dest);
      const t = unarchive({ src, dest, remoteSrc: ext.endsWith('gz'), exclude: ['app/skip.log'] });
      const planned = await check(t);
      assert.match(planned.summary ?? '', /^would unpack .* members differ/);
      assert.deepEqual(readdirSync(dest), [], 'check unpacked');
      assert.equal((await run(t)).changed, true);
      assert.deepEqual(listing(dest), ['app 755 dir', 'app/README 644 hello\n', 'app/bin 755 dir', 'app/bin/run 755 #!/bin/sh\necho run\n']);
      const again = await run(t);
      assert.equal(again.changed, false, again.plan.summary);
      // a half-extracted or edited tree is found (not merely "dest exists") and repaired
      writeFileSync(join(dest, 'app/README'), 'edited\n');
      utimesSync(join(dest, 'app/README'), new Date(), new Date(Date.now() + 5000));
      statSync(join(dest, 'app/bin/run')) && execFileSync('rm', [join(dest, 'app/bin/run')]);
      const broken = await check(t);
      assert.match(broken.summary ?? '', /2 of \d+ members differ \(.*app\/README.*\)|2 of \d+ members differ \(.*app\/bin\/run.*\)/);
      assert.equal((await run(t)).changed, true);
      assert.equal(readFileSync(join(dest, 'app/README'), 'utf8'), 'hello\n');
      assert.equal((await run(t)).changed, false);
    });
  }

  it('creates skips; a missing dest fails; include and mode; listFiles', async () => {
    const src = archive('app.tar.gz');
    const dest = join(root, 'd2');
    await assert.rejects(check(unarchive({ src, dest })), /must be an existing dir/);
    mkdirSync(dest);
    assert.equal((await check(unarchive({ src, dest, creates: tree }))).skipped, `skipped, since ${tree} exists`);
    const t = unarchive({ src, dest, include: ['app/README'], mode: '0600', listFiles: true });
    const ctx = ctxFor(false);
    const plan = await t.check(ctx);
    const r = await t.apply(ctx, plan);
    assert.equal(r?.stdout, 'app/README');
    assert.deepEqual(listing(dest), ['app 755 dir', 'app/README 600 hello\n']);
    assert.equal((await run(t)).changed, false);
    assert.throws(() => unarchive({ src, dest, include: ['a'], exclude: ['b'] }), /mutually exclusive: include\|exclude/);
  });

  it('agrees with Ansible unarchive on changed per step and the files it leaves', async () => {
    const tgz = archive('app.tar.gz');
    const zip = archive('app.zip');
    const steps = (dest: string): UnarchiveParams[] => [
      { src: tgz, dest, remoteSrc: true },
      { src: tgz, dest, remoteSrc: true },
      { src: zip, dest: join(dest, 'z'), remoteSrc: true },
      { src: zip, dest: join(dest, 'z'), remoteSrc: true },
      { src: tgz, dest: join(dest, 'm'), remoteSrc: true, mode: 'u+rwX,g-rwx,o-rwx', exclude: ['app/skip.log'] },
      { src: tgz, dest: join(dest, 'm'), remoteSrc: true, mode: 'u+rwX,g-rwx,o-rwx', exclude: ['app/skip.log'] },
      { src: tgz, dest: join(dest, 'missing'), remoteSrc: true },
    ];
    const ours = join(root, 'ours');
    const theirs = join(root, 'theirs');
    for (const d of [ours, theirs]) for (const sub of ['', 'z', 'm']) mkdirSync(join(d, sub), { recursive: true });
    const mine = await ourSteps(steps(ours), (s) => run(unarchive(s)));
    const ansible = await ansibleSteps(
      fleet,
      fleet.hosts[0]!,
      steps(theirs).map(({ remoteSrc, ...s }) => ({ unarchive: { ...s, remote_src: remoteSrc } })),
    );
    assert.deepEqual(mine, ansible.map(({ changed, failed }) => ({ changed, failed })));
    assert.deepEqual(listing(ours), listing(theirs));
  });
});
