// A compile-cache entry is code: one planted in the cache folder (a shared folder, another user's file, a file or
// folder others may write, an entry that vouches for nothing) is never run by `provision run`; the playbook is compiled.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from '../../helpers/cli.js';

describe('a planted compile-cache entry never runs', function () {
  this.timeout(60_000);
  let dir: string;
  let project: string;
  let cache: string;
  let playbook: string;
  let inventory: string;
  let genuine: Record<string, unknown>;
  const mark = () => join(dir, 'planted-code-ran');
  const folder = () => join(cache, 'playbooks');
  const entryFile = () => join(folder(), readdirSync(folder()).find((n) => n.endsWith('.json'))!);
  const check = () =>
    runCli(['run', playbook, '-i', inventory, '--syntax-check'], { cwd: project, env: { PROVISION_CACHE_DIR: cache } });

  before(async () => {
    // The mark and the cache outside the playbook's folder, whose listing the entry records.
    dir = mkdtempSync(join(tmpdir(), 'provision-planted-'));
    project = join(dir, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(repoRoot, join(project, 'node_modules', 'provision'));
    playbook = join(project, 'site.ts');
    writeFileSync(playbook, "import { definePlaybook, file } from 'provision';\nexport default definePlaybook({ name: 'site', hosts: 'all', tasks: [file({ path: '/tmp/x', state: 'directory' })] });\n");
    inventory = join(project, 'hosts.ini');
    writeFileSync(inventory, 'localhost ansible_connection=local\n');
    cache = join(dir, 'cache');
    const r = await check();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    genuine = JSON.parse(readFileSync(entryFile(), 'utf8')) as Record<string, unknown>;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the entry as `over` says, with code that leaves a mark, makes it so (`arrange`), runs, and puts it back. */
  const planted = async (over: Record<string, unknown>, arrange: (file: string) => void = () => {}) => {
    const code = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(mark())}, 'ran');\nexport default { name: 'planted', hosts: 'all', tasks: [] };\n`;
    const file = entryFile();
    writeFileSync(file, JSON.stringify({ ...genuine, ...over, code }), { mode: 0o600 });
    chmodSync(file, 0o600);
    arrange(file);
    const r = await check();
    chmodSync(folder(), 0o700);
    return r;
  };
  const neverRan = (r: { code: number | null; stdout: string; stderr: string }) => {
    assert.equal(existsSync(mark()), false, 'the planted code ran');
    assert.equal(r.code, 0, r.stdout + r.stderr); // compiled from the playbook itself instead
  };

  it('an entry whose file lists are empty', async () => neverRan(await planted({ files: {}, folders: {}, packages: [] })));
  it('an entry that others may write (0666)', async () => neverRan(await planted({}, (f) => chmodSync(f, 0o666))));
  it('an entry in a folder others may write (0777)', async () => neverRan(await planted({}, () => chmodSync(folder(), 0o777))));
  it("another user's entry (chown'd to a foreign uid; root only)", async function () {
    if (process.getuid?.() !== 0) this.skip(); // only root can give a file away
    neverRan(await planted({}, (f) => chownSync(f, 54321, 54321)));
  });
  it('and the genuine entry is still used (the control case)', async () => {
    const r = await planted({});
    assert.equal(existsSync(mark()), true, 'an own, owner-only entry is used');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    rmSync(mark());
  });
});
