// The compile cache gives back a compiled playbook only while everything it was compiled from is unchanged.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir, readCompiled, writeCompiled } from '../../../src/playbook/compile-cache.js';

describe('compile cache', () => {
  let dir: string;
  let saved: string | undefined;
  const self = 'file:///lib/dist/index.js';
  const esbuild = () => '0.28.2';
  let playbook: string;
  let role: string;
  let pkg: string;

  beforeEach(() => {
    saved = process.env.PROVISION_CACHE_DIR;
    dir = mkdtempSync(join(tmpdir(), 'compile-cache-'));
    process.env.PROVISION_CACHE_DIR = join(dir, 'cache');
    mkdirSync(join(dir, 'project', 'roles'), { recursive: true });
    mkdirSync(join(dir, 'project', 'node_modules', 'helper'), { recursive: true });
    playbook = join(dir, 'project', 'site.ts');
    role = join(dir, 'project', 'roles', 'web.ts');
    pkg = join(dir, 'project', 'node_modules', 'helper');
    writeFileSync(playbook, "import { web } from './roles/web.js';\nexport default web;\n");
    writeFileSync(role, "export const web = { name: 'web' };\n");
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'helper', main: 'a.js' }));
    writeFileSync(join(pkg, 'a.js'), 'module.exports = 1;\n');
    writeFileSync(join(pkg, 'b.js'), 'module.exports = 2;\n');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.PROVISION_CACHE_DIR;
    else process.env.PROVISION_CACHE_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  const store = () => writeCompiled(playbook, self, '0.28.2', [playbook, role], [{ specifier: 'helper', href: pathToFileURL(join(pkg, 'a.js')).href }], 'compiled text');

  it('gives back the compiled text while nothing changed, in an owner-only file', () => {
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    store();
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
    const entries = readdirSync(join(dir, 'cache', 'playbooks'));
    assert.equal(entries.length, 1);
    assert.equal(statSync(join(dir, 'cache', 'playbooks', entries[0] as string)).mode & 0o777, 0o600);
  });

  it('misses when an imported file changed, even at the same size and modification time', () => {
    store();
    const before = statSync(role);
    writeFileSync(role, "export const web = { name: 'app' };\n");
    utimesSync(role, before.atime, before.mtime);
    assert.equal(statSync(role).size, before.size);
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
  });

  it('misses when a file appears beside a source (web.js beside web.ts changes what ./web.js resolves to)', () => {
    store();
    writeFileSync(join(dir, 'project', 'roles', 'web.js'), 'export const web = {};\n');
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
  });

  it('misses when a tsconfig.json appears above a source, or a package.json changes', () => {
    store();
    writeFileSync(join(dir, 'tsconfig.json'), '{}');
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    store();
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
    writeFileSync(join(dir, 'project', 'package.json'), '{"type":"module"}');
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
  });

  it('misses when a package import now resolves to another file, or is gone', () => {
    store();
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'helper', main: 'b.js' }));
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    rmSync(pkg, { recursive: true });
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
  });

  it('misses for another esbuild version or another copy of the library', () => {
    store();
    assert.equal(readCompiled(playbook, self, () => '0.29.0'), undefined);
    assert.equal(readCompiled(playbook, 'file:///other/dist/index.js', esbuild), undefined);
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
  });

  it('removes entries not written for 30 days when it writes one', () => {
    store();
    const folder = join(dir, 'cache', 'playbooks');
    const old = join(folder, 'old.json');
    const recent = join(folder, 'recent.json');
    writeFileSync(old, '{}');
    writeFileSync(recent, '{}');
    const days = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000);
    utimesSync(old, days(31), days(31));
    utimesSync(recent, days(29), days(29));
    store();
    assert.equal(readdirSync(folder).filter((n) => n !== 'old.json' && n !== 'recent.json').length, 1);
    assert.ok(!readdirSync(folder).includes('old.json'));
    assert.ok(readdirSync(folder).includes('recent.json'));
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
  });

  it('is off when PROVISION_CACHE_DIR is empty; else under XDG_CACHE_HOME or ~/.cache', () => {
    process.env.PROVISION_CACHE_DIR = '';
    store();
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    assert.equal(cacheDir({ PROVISION_CACHE_DIR: '' }), undefined);
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/provision');
    assert.equal(cacheDir({ PROVISION_CACHE_DIR: '/y', XDG_CACHE_HOME: '/x/cache' }), '/y');
    assert.match(cacheDir({}) ?? '', /\/\.cache\/provision$/);
  });

  /** The one entry in the cache's folder. */
  const entryFile = () => {
    const names = readdirSync(join(dir, 'cache', 'playbooks')).filter((n) => n.endsWith('.json'));
    assert.equal(names.length, 1, names.join(' '));
    return join(dir, 'cache', 'playbooks', names[0]!);
  };

  it('never gives back a planted entry that names none of what it was made from (empty file lists)', () => {
    store();
    const file = entryFile();
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...entry, files: {}, folders: {}, packages: [], code: 'planted' }));
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    // nor one whose lists leave the playbook out, or are not lists of hashes at all
    const { [playbook]: _, ...others } = entry.files as Record<string, string>;
    writeFileSync(file, JSON.stringify({ ...entry, files: others, code: 'planted' }));
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    for (const bad of [{ files: null }, { files: [] }, { folders: 'x' }, { packages: [null] }, { code: 1 }]) {
      writeFileSync(file, JSON.stringify({ ...entry, ...bad }));
      assert.equal(readCompiled(playbook, self, esbuild), undefined, JSON.stringify(bad));
    }
  });

  it('uses no entry that others may write, nor one in a folder others may write', () => {
    store();
    const file = entryFile();
    const folder = join(dir, 'cache', 'playbooks');
    for (const mode of [0o666, 0o620, 0o602]) {
      chmodSync(file, mode);
      assert.equal(readCompiled(playbook, self, esbuild), undefined, mode.toString(8));
    }
    chmodSync(file, 0o600);
    for (const mode of [0o777, 0o770, 0o1777]) {
      chmodSync(folder, mode);
      assert.equal(readCompiled(playbook, self, esbuild), undefined, mode.toString(8));
    }
    chmodSync(folder, 0o700);
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
  });

  it("uses no entry, and no folder, of another user (root: chown'd to a foreign uid)", function () {
    if (process.getuid?.() !== 0) this.skip(); // only root can give a file away; the mode checks above run for anyone
    store();
    const file = entryFile();
    const folder = join(dir, 'cache', 'playbooks');
    chownSync(file, 54321, 54321);
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    chownSync(file, 0, 0);
    chownSync(folder, 54321, 54321);
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    const before = readFileSync(file, 'utf8');
    writeCompiled(playbook, self, '0.28.2', [playbook, role], [], 'newer text'); // nor writes code into that folder
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.deepEqual(readdirSync(folder), [file.slice(folder.length + 1)]);
    chownSync(folder, 0, 0);
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
  });

  it('uses no entry reached through a link, nor a folder that is a link', () => {
    store();
    const file = entryFile();
    const folder = join(dir, 'cache', 'playbooks');
    renameSync(file, join(dir, 'elsewhere.json'));
    symlinkSync(join(dir, 'elsewhere.json'), file);
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
    rmSync(file);
    renameSync(join(dir, 'elsewhere.json'), file);
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
    renameSync(folder, join(dir, 'real-folder'));
    symlinkSync(join(dir, 'real-folder'), folder);
    assert.equal(readCompiled(playbook, self, esbuild), undefined);
  });

  it('writes its temporary file new (O_EXCL): never through a link planted at a name it might use', () => {
    store();
    const file = entryFile();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, `${file}.${process.pid}.tmp`); // the name it used to write to
    store();
    assert.equal(readFileSync(victim, 'utf8'), 'keep');
    assert.equal(readCompiled(playbook, self, esbuild), 'compiled text');
  });
});
