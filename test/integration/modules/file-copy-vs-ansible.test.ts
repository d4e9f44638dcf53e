// file's links and copy into a directory through a real sshd host, side by side with ansible-core 2.14 on the cases of
// Ansible's own integration tests (file: state_link.yml; copy: tests of a directory dest): changed/failed per step and
// the folder left (types, modes, link targets, contents).
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { copy, type CopyParams } from '../../../src/modules/copy.js';
import { file, type FileParams } from '../../../src/modules/file.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { ansibleSteps, ourSteps, runTask } from '../../helpers/ansible-steps.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';

/** A step on a side's folder `d`: paths in it are written relative, `<src>` is the controller file copied. */
type Step = { file: FileParams } | { copy: CopyParams };

/** Each case gets its own folder on each side; `prepare` lays it out the same on both. */
interface Scenario {
  name: string;
  prepare?: (d: string) => void;
  steps: (d: string, src: string) => Step[];
}

const scenarios: Scenario[] = [
  // state_link.yml: "create soft link to non existent file" fails without force, makes a dangling link with it
  { name: 'missing-src', steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: `${d}/nonexistent` } }] },
  { name: 'missing-src-force', steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: `${d}/nonexistent`, force: true } }, { file: { path: `${d}/l`, state: 'link', src: `${d}/nonexistent`, force: true } }] },
  // a relative src is looked for from the link's folder: there it exists, the link keeps the relative name
  { name: 'relative-src', prepare: (d) => writeFileSync(join(d, 'target'), 't\n'), steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: 'target' } }, { file: { path: `${d}/l`, state: 'link', src: 'target' } }] },
  { name: 'relative-missing', prepare: (d) => mkdirSync(join(d, 'sub')), steps: (d) => [{ file: { path: `${d}/sub/l`, state: 'link', src: 'target' } }, { file: { path: `${d}/sub/l`, state: 'link', src: '../sub' } }] },
  // a link to a missing src fails before a file in the way is looked at (the src check comes first in file.py)
  { name: 'missing-src-file-in-way', prepare: (d) => writeFileSync(join(d, 'l'), 'x\n'), steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: `${d}/nope` } }, { file: { path: `${d}/l`, state: 'link', src: `${d}/nope`, force: true } }] },
  // with follow (the default), the mode goes to what the link points to (ansible issue 56928); the link stays
  {
    name: 'link-mode-follow',
    prepare: (d) => writeFileSync(join(d, 'target'), 't\n', { mode: 0o644 }),
    steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: `${d}/target`, mode: '0600' } }, { file: { path: `${d}/l`, state: 'link', src: `${d}/target`, mode: '0600' } }, { file: { path: `${d}/l`, state: 'link', src: 'target', mode: '0640' } }],
  },
  // a dangling link with force and a mode: file.py sets nothing (a warning) and reports the link's change only
  { name: 'link-mode-dangling', steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: `${d}/nope`, force: true, mode: '0600' } }, { file: { path: `${d}/l`, state: 'link', src: `${d}/nope`, force: true, mode: '0600' } }] },
  // an empty folder where the link goes: refused without force, replaced with it
  { name: 'link-over-dir', prepare: (d) => { mkdirSync(join(d, 'l')); writeFileSync(join(d, 'target'), 't\n'); }, steps: (d) => [{ file: { path: `${d}/l`, state: 'link', src: `${d}/target` } }, { file: { path: `${d}/l`, state: 'link', src: `${d}/target`, force: true } }] },
  // a directory with missing parents: file.py gives each directory it makes the mode, the parents too
  { name: 'directory-parents-mode', steps: (d) => [{ file: { path: `${d}/x/a/b`, state: 'directory', mode: '0700' } }, { file: { path: `${d}/x/a/b`, state: 'directory', mode: '0700' } }, { file: { path: `${d}/x/c/`, state: 'directory', mode: '0750' } }] },
  { name: 'directory-parents-symbolic', steps: (d) => [{ file: { path: `${d}/y/z`, state: 'directory', mode: 'u=rwx,g=rx,o=' } }, { file: { path: `${d}/y/z`, state: 'directory', mode: 'u=rwx,g=rx,o=' } }] },
  // copy: an existing directory dest gets src's file under its name, with mode; content into a directory fails
  { name: 'copy-into-dir', prepare: (d) => mkdirSync(join(d, 'dir')), steps: (d, src) => [{ copy: { src, dest: `${d}/dir`, mode: '0600' } }, { copy: { src, dest: `${d}/dir`, mode: '0600' } }, { copy: { src, dest: `${d}/dir`, mode: '0640' } }] },
  { name: 'copy-into-dir-slash', prepare: (d) => mkdirSync(join(d, 'dir')), steps: (d, src) => [{ copy: { src, dest: `${d}/dir/` } }, { copy: { src, dest: `${d}/dir/` } }] },
  { name: 'copy-into-new-dir-slash', steps: (d, src) => [{ copy: { src, dest: `${d}/made/` } }, { copy: { src, dest: `${d}/made/` } }] },
  { name: 'copy-into-dir-changed', prepare: (d) => { mkdirSync(join(d, 'dir')); writeFileSync(join(d, 'dir', 'payload.txt'), 'old\n'); }, steps: (d, src) => [{ copy: { src, dest: `${d}/dir` } }, { copy: { src, dest: `${d}/dir`, force: false } }] },
  { name: 'content-into-dir', prepare: (d) => mkdirSync(join(d, 'dir')), steps: (d) => [{ copy: { content: 'x\n', dest: `${d}/dir` } }, { copy: { content: 'x\n', dest: `${d}/dir/` } }] },
];

/** Ansible's task for a step (snake_case names are the same here). */
function ansibleTask(step: Step): object {
  return 'file' in step ? { file: { ...step.file } } : { copy: { ...step.copy } };
}

/** The folder as relative names with their type, mode and content or link target. */
function layout(d: string, prefix = ''): string[] {
  return readdirSync(d)
    .sort()
    .flatMap((n) => {
      const p = join(d, n);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) return [`${prefix}${n} -> ${readlinkSync(p).replace(d, '<d>')}`];
      if (st.isDirectory()) return [`${prefix}${n}/ ${mode}`, ...layout(p, `${prefix}${n}/`)];
      return [`${prefix}${n} ${mode} ${JSON.stringify(readFileSync(p, 'utf8'))}`];
    });
}

describe('file links and copy into a directory through sshd, side by side with Ansible', function () {
  this.timeout(180_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  let src: string;
  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root });

  before(async () => {
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
    root = join(fleet.hosts[0]!.root, 'file-copy');
    mkdirSync(root, { recursive: true });
    src = join(root, 'payload.txt');
    writeFileSync(src, 'payload\n');
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
  });

  const sideDir = (side: string, s: Scenario) => join(root, side, s.name);

  it('agrees on changed/failed per step and on the folders left, for every case', async () => {
    for (const side of ['mine', 'ansible']) {
      for (const s of scenarios) {
        mkdirSync(sideDir(side, s), { recursive: true });
        s.prepare?.(sideDir(side, s));
      }
    }
    const mine = await ourSteps(
      scenarios.flatMap((s) => s.steps(sideDir('mine', s), src)),
      (st) => runTask('file' in st ? file(st.file) : copy(st.copy), ctxFor(false)),
    );
    const tasks = scenarios.flatMap((s) => s.steps(sideDir('ansible', s), src).map(ansibleTask));
    const theirs = (await ansibleSteps(fleet, fleet.hosts[0]!, tasks)).map(({ changed, failed }) => ({ changed, failed }));
    const label = scenarios.flatMap((s) => s.steps('', '').map((_, i) => `${s.name}#${i + 1}`));
    assert.deepEqual(
      mine.map((r, i) => `${label[i]} ${JSON.stringify(r)}`),
      theirs.map((r, i) => `${label[i]} ${JSON.stringify(r)}`),
    );
    for (const s of scenarios) assert.deepEqual(layout(sideDir('mine', s)), layout(sideDir('ansible', s)), `${s.name}: the folders differ`);
    // what the cases are about, whatever both tools do
    assert.equal(readlinkSync(join(sideDir('mine', scenarios[2]!), 'l')), 'target');
    assert.equal(lstatSync(join(root, 'mine', 'link-mode-follow', 'target')).mode & 0o777, 0o640);
    assert.equal(lstatSync(join(root, 'mine', 'copy-into-dir', 'dir', 'payload.txt')).mode & 0o777, 0o640);
    assert.equal(readFileSync(join(root, 'mine', 'copy-into-new-dir-slash', 'made', 'payload.txt'), 'utf8'), 'payload\n');
  });

  it('in --check, agrees with ansible-playbook --check on every step, and neither changes anything', async () => {
    for (const side of ['check-mine', 'check-ansible']) {
      for (const s of scenarios) {
        mkdirSync(sideDir(side, s), { recursive: true });
        s.prepare?.(sideDir(side, s));
      }
    }
    const mine = await ourSteps(scenarios.flatMap((s) => s.steps(sideDir('check-mine', s), src)), async (st) => {
      const plan = await ('file' in st ? file(st.file) : copy(st.copy)).check(ctxFor(true));
      return { changed: plan.changed };
    });
    const tasks = scenarios.flatMap((s) => s.steps(sideDir('check-ansible', s), src).map(ansibleTask));
    const theirs = (await ansibleSteps(fleet, fleet.hosts[0]!, tasks, { check: true })).map(({ changed, failed }) => ({ changed, failed }));
    const label = scenarios.flatMap((s) => s.steps('', '').map((_, i) => `${s.name}#${i + 1}`));
    assert.deepEqual(
      mine.map((r, i) => `${label[i]} ${JSON.stringify(r)}`),
      theirs.map((r, i) => `${label[i]} ${JSON.stringify(r)}`),
    );
    for (const s of scenarios) assert.deepEqual(layout(sideDir('check-mine', s)), layout(sideDir('check-ansible', s)), `${s.name}: a --check changed something`);
  });

  it('--check fails and predicts as the run does, and changes nothing', async () => {
    const d = join(root, 'check');
    mkdirSync(join(d, 'dir'), { recursive: true });
    writeFileSync(join(d, 'target'), 't\n', { mode: 0o644 });
    const check = (t: ReturnType<typeof file>) => t.check(ctxFor(true));
    await assert.rejects(check(file({ path: `${d}/l`, state: 'link', src: `${d}/nonexistent` })), (err: Error) => err.name === 'MissingOnHostError' && err.message === `src file does not exist, use "force=yes" if you really want to create the link: ${d}/nonexistent`);
    await assert.rejects(check(file({ path: `${d}/l`, state: 'link', src: 'nope' })), new RegExp(`create the link: ${d}/nope$`));
    assert.equal((await check(file({ path: `${d}/l`, state: 'link', src: 'target', mode: '0600' }))).summary, `absent → link to target, mode 0644 → 0600 on ${d}/target`);
    assert.equal((await check(copy({ src, dest: `${d}/dir`, mode: '0600' }))).summary, 'absent → file (8 bytes), mode 0600');
    await assert.rejects(check(copy({ content: 'x', dest: `${d}/dir` })), /is a directory: can not use content with a dir as dest/);
    assert.throws(() => copy({ content: 'x', dest: `${d}/dir/` }), /can not use content with a dir as dest/);
    assert.deepEqual(layout(d), ['dir/ 755', 'target 644 "t\\n"']);
  });
});
