// copy onto a symbolic link, side by side with Ansible's copy: the link is replaced by the file, and with
// follow: true its target is written and the link kept — the same resulting folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from '../../helpers/cli.js';

/** The folder as relative names with their type and content or link target (relative to the folder). */
function layout(d: string): string[] {
  return readdirSync(d)
    .sort()
    .map((n) => {
      const p = join(d, n);
      const st = lstatSync(p);
      return st.isSymbolicLink() ? `${n} -> ${readlinkSync(p).replace(d, '<d>')}` : `${n}: ${JSON.stringify(readFileSync(p, 'utf8'))}`;
    });
}

function prepare(d: string): void {
  mkdirSync(d);
  writeFileSync(join(d, 'victim'), 'secret\n');
  writeFileSync(join(d, 'target2'), 'old\n');
  symlinkSync(join(d, 'victim'), join(d, 'link'));
  symlinkSync(join(d, 'target2'), join(d, 'link2'));
}

describe('copy onto links, against ansible', function () {
  this.timeout(180_000);
  let dir: string;
  before(function () {
    if (!existsSync('/usr/bin/ansible')) throw new Error('ansible is missing: apt-get install ansible-core (.ci/run installs it)');
    dir = mkdtempSync(join(tmpdir(), 'links-ansible-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves the same folder as ansible.builtin.copy with and without follow', async () => {
    const ours = join(dir, 'ours');
    const theirs = join(dir, 'theirs');
    prepare(ours);
    prepare(theirs);
    const inv = join(dir, 'hosts');
    writeFileSync(inv, `localhost ansible_connection=local d=${ours}\n`);
    const r = await runCli(['run', join(repoRoot, 'test/fixtures/hostile/copy-links.ts'), '-i', inv, '--retry-file', join(dir, 'r')]);
    assert.equal(r.code, 0, r.stderr);
    const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false' };
    execFileSync('ansible', ['localhost', '-c', 'local', '-m', 'copy', '-a', `dest=${theirs}/link content="new\n"`], { env, stdio: 'pipe' });
    execFileSync('ansible', ['localhost', '-c', 'local', '-m', 'copy', '-a', `dest=${theirs}/link2 content="new\n" follow=true`], { env, stdio: 'pipe' });
    assert.deepEqual(layout(ours), layout(theirs).map((l) => l.replace(theirs, ours)));
    assert.deepEqual(layout(ours), ['link: "new\\n"', 'link2 -> <d>/target2', 'target2: "new\\n"', 'victim: "secret\\n"']);
  });
});
