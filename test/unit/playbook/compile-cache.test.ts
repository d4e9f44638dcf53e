// The compile cache gives back a compiled playbook only while everything it was compiled from is unchanged.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
});
