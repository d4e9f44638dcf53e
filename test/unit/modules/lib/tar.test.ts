// The tar writer, checked by extracting its output with the system's GNU tar.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, paxRecord } from '../../../../src/modules/lib/tar.js';

describe('createTar', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tar-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes files, directories and links that GNU tar extracts exactly, long and odd names included', () => {
    const deep = `d/${'x'.repeat(150)}`;
    const odd = `${deep}/é ü $(x) \`y\` "q" 's'\nnl.txt`;
    const archive = createTar([
      { path: 'd', type: 'directory', mode: 0o750, mtime: 1700000000 },
      { path: deep, type: 'directory', mode: 0o755, mtime: 1700000000 },
      { path: odd, type: 'file', mode: 0o755, mtime: 1700000000, content: Buffer.from('hello\n') },
      { path: 'd/link', type: 'symlink', mode: 0o777, mtime: 1700000000, linkTarget: 'y'.repeat(120) },
      { path: 'd/empty', type: 'file', mode: 0o600, mtime: 1700000000 },
      { path: 'bin', type: 'file', mode: 0o644, mtime: 1700000000, content: Buffer.alloc(1000, 0xff) },
    ]);
    assert.equal(archive.length % 512, 0);
    execFileSync('tar', ['-x', '-p', '--no-same-owner', '-f', '-', '-C', dir], { input: archive });
    assert.equal(readFileSync(join(dir, odd), 'utf8'), 'hello\n');
    assert.equal(lstatSync(join(dir, odd)).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(dir, 'd')).mode & 0o7777, 0o750);
    assert.equal(readlinkSync(join(dir, 'd/link')), 'y'.repeat(120));
    assert.equal(lstatSync(join(dir, 'd/empty')).size, 0);
    assert.deepEqual(readFileSync(join(dir, 'bin')), Buffer.alloc(1000, 0xff));
    assert.equal(lstatSync(join(dir, 'bin')).mtimeMs, 1700000000 * 1000);
  });

  it('produces an empty archive tar accepts', () => {
    execFileSync('tar', ['-x', '-f', '-', '-C', dir], { input: createTar([]) });
  });
});

describe('paxRecord', () => {
  it('counts its own length digits', () => {
    for (const v of ['a', 'x'.repeat(90), 'x'.repeat(93), 'x'.repeat(994), 'é'.repeat(50)]) {
      const r = paxRecord('path', v);
      assert.equal(Number(r.slice(0, r.indexOf(' '))), Buffer.byteLength(r));
    }
  });
});
