// Parsers of the host's answers: stat lines, tree listings, sha256sum's escaped names.
import assert from 'node:assert/strict';
import { parseRemoteTree, parseSha256Sums } from '../../../../src/modules/lib/remote-tree.js';
import { parseStat } from '../../../../src/modules/lib/stat.js';
import { planAttrs } from '../../../../src/modules/lib/attrs.js';

const sha = 'a'.repeat(64);

describe('parseStat', () => {
  it('reads absent, files, content and links', () => {
    assert.equal(parseStat('absent\n'), null);
    const f = parseStat(`file\t644\t0\troot\t33\twww-data\t5\t${sha}\n${Buffer.from('hello').toString('base64')}`);
    assert.deepEqual(f, { type: 'file', mode: 0o644, uid: 0, owner: 'root', gid: 33, group: 'www-data', size: 5, sha256: sha, content: Buffer.from('hello') });
    const l = parseStat('link\t777\t0\troot\t0\troot\t7\t-\n/a\nb c\n');
    assert.equal(l?.linkTarget, '/a\nb c');
    assert.equal(l?.sha256, null);
  });
});

describe('planAttrs', () => {
  const st = { type: 'directory' as const, mode: 0o755, uid: 0, owner: 'root', gid: 0, group: 'root', size: 0, sha256: null };
  it('describes each difference as before → after', () => {
    assert.deepEqual(planAttrs(st, { mode: '0770', owner: 'www-data', group: '0' }), {
      changes: ['mode 0755 → 0770', 'owner root → www-data'],
      chmod: '00770',
      chown: 'www-data',
    });
    assert.deepEqual(planAttrs(st, { mode: '755', owner: '0', group: 'root' }), { changes: [] });
  });
});

describe('parseSha256Sums', () => {
  it("undoes GNU's escaping of backslashes and newlines", () => {
    const out = `${sha}  ./plain name\n\\${sha}  ./a\\nb\\\\c\n`;
    assert.deepEqual(parseSha256Sums(out), [
      ['plain name', sha],
      ['a\nb\\c', sha],
    ]);
  });
});

describe('parseRemoteTree', () => {
  it('reads NUL-separated records, then checksums', () => {
    const rec = (y: string, m: string, path: string, link = '') => `${y}\t${m}\troot\t0\troot\t0\t10\t${path}\0${link}\0`;
    const out = `present\n${rec('d', '755', '')}${rec('f', '644', 'a\tb\nc')}${rec('l', '777', 'ln', '../x')}SUMS\0\\${sha}  ./a\tb\\nc\n`;
    const tree = parseRemoteTree(out);
    assert.ok(tree);
    assert.deepEqual([...tree.keys()], ['', 'a\tb\nc', 'ln']);
    assert.equal(tree.get('a\tb\nc')?.sha256, sha);
    assert.equal(tree.get('ln')?.linkTarget, '../x');
    assert.equal(tree.get('')?.mode, 0o755);
    assert.equal(parseRemoteTree('absent\n'), null);
  });
});
