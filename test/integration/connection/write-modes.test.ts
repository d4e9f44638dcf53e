// A write's temporary file is never readable under a wider mode than the file it becomes: the script that writes runs
// in a real dash and bash here, its content held back on stdin, and the temporary file is looked at mid-write.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCommand } from '../../../src/connection/shell-ops.js';
import type { WriteFileOptions } from '../../../src/connection/types.js';

const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

/** Runs the write of `content` to `path` as provision's shells run an inline script, and stops once the file is open. */
async function writeHeldBack(shell: string, path: string, content: Buffer, opts: WriteFileOptions): Promise<{ tmpMode: string }> {
  const w = writeCommand(path, content, opts);
  assert.ok(w.stdin, 'content large enough to come on stdin');
  const child = spawn(shell, ['-c', `umask 022; provision_w() {\n${w.script}\n}\nprovision_w`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  try {
    child.stdin.write(content.subarray(0, 1024));
    const dir = join(path, '..');
    let tmp: string | undefined;
    for (let i = 0; i < 500 && !tmp; i++) {
      tmp = readdirSync(dir).find((n) => /^\.provision-[0-9a-f]{18}\.tmp$/.test(n));
      if (!tmp) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(tmp, 'the temporary file is created before the content has all come');
    const tmpMode = mode(join(dir, tmp));
    child.stdin.end(content.subarray(1024));
    assert.equal(await ended, 0, stderr);
    return { tmpMode };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

for (const shell of ['/bin/sh', 'bash']) {
  describe(`writes keep their content private while they are made (${shell})`, () => {
    let dir: string;
    const content = Buffer.alloc(200_000, 0xff); // not UTF-8: it comes on stdin
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'provision-write-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('a file given mode 0600 is 0600 from its creation, not the umask\'s 0644', async () => {
      const path = join(dir, 'secret');
      const { tmpMode } = await writeHeldBack(shell, path, content, { mode: '0600' });
      assert.equal(tmpMode, '0600');
      assert.equal(mode(path), '0600');
      assert.ok(readFileSync(path).equals(content));
    });

    it('a file replaced keeps its mode 0640 and is never 0644 on the way', async () => {
      const path = join(dir, 'kept');
      writeFileSync(path, 'old');
      chmodSync(path, 0o640);
      const { tmpMode } = await writeHeldBack(shell, path, content, {});
      assert.equal(tmpMode, '0600');
      assert.equal(mode(path), '0640');
    });

    it('a new file without a mode gets 0666 less the umask, as before', async () => {
      const path = join(dir, 'plain');
      const { tmpMode } = await writeHeldBack(shell, path, content, {});
      assert.equal(tmpMode, '0644');
      assert.equal(mode(path), '0644');
    });

    it('the shell\'s umask is the same after the write', async () => {
      const path = join(dir, 'then');
      const w = writeCommand(path, Buffer.from('x\n'), { mode: '0600' });
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(shell, ['-c', `umask 027; provision_w() {\n${w.script}\n}\nprovision_w && umask`]);
        let o = '';
        child.stdout.on('data', (d: Buffer) => (o += d.toString()));
        child.on('error', reject);
        child.on('close', () => resolve(o.trim()));
      });
      assert.equal(out, '0027');
      assert.equal(mode(path), '0600');
    });
  });
}
