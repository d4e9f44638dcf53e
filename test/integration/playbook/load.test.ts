// Loading a TypeScript playbook at run time: relative TS imports, packages, the fallback loader, clear errors.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlaybookError } from '../../../src/errors.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { repoRoot } from '../../helpers/cli.js';

describe('loadPlaybook', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'playbook-load-'));
    mkdirSync(join(dir, 'node_modules', 'esm-only'), { recursive: true });
    symlinkSync(repoRoot, join(dir, 'node_modules', 'provision'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'infra', private: true, type: 'module' }));
    // A package Node can only import as ESM: require.resolve cannot find it.
    writeFileSync(
      join(dir, 'node_modules', 'esm-only', 'package.json'),
      JSON.stringify({ name: 'esm-only', type: 'module', exports: { '.': { import: './index.js' } } }),
    );
    writeFileSync(join(dir, 'node_modules', 'esm-only', 'index.js'), "export const greeting = 'hello from esm';\n");
    mkdirSync(join(dir, 'roles'));
    writeFileSync(join(dir, 'roles', 'web.ts'), "import { file, type Task } from 'provision';\nexport const webTasks = (root: string): Task[] => [file({ path: root, state: 'directory' })];\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a playbook with relative TypeScript imports (.js suffix) and the provision package', async () => {
    writeFileSync(
      join(dir, 'site.ts'),
      "import { definePlaybook } from 'provision';\nimport { webTasks } from './roles/web.js';\nexport default definePlaybook({ name: 'site', hosts: 'web', tasks: webTasks('/srv/x') });\n",
    );
    const pb = await loadPlaybook(join(dir, 'site.ts'));
    assert.equal(pb.name, 'site');
    assert.equal(pb.hosts, 'web');
    assert.ok(Array.isArray(pb.tasks) && pb.tasks.length === 1);
  });

  it('falls back to Node’s own ESM resolution for a package only importable as ESM', async () => {
    writeFileSync(
      join(dir, 'esm.ts'),
      "import { definePlaybook } from 'provision';\nimport { greeting } from 'esm-only';\nexport default definePlaybook({ name: greeting, hosts: 'all', tasks: [] });\n",
    );
    assert.equal((await loadPlaybook(join(dir, 'esm.ts'))).name, 'hello from esm');
  });

  it('names the file, line and column of a syntax error, and a missing import', async () => {
    writeFileSync(join(dir, 'bad.ts'), "import { definePlaybook } from 'provision';\n\nexport default definePlaybook({ name: 'x', hosts: 'all', tasks: [ ) });\n");
    await assert.rejects(loadPlaybook(join(dir, 'bad.ts')), (err: Error) => err instanceof PlaybookError && /bad\.ts:3:\d+: /.test(err.message));
    writeFileSync(join(dir, 'missing.ts'), "import { x } from './nope.js';\nexport default x;\n");
    await assert.rejects(loadPlaybook(join(dir, 'missing.ts')), (err: Error) => err instanceof PlaybookError && /missing\.ts:1:\d+: Could not resolve "\.\/nope\.js"/.test(err.message));
  });

  it('says what is wrong with an export that is not a playbook', async () => {
    writeFileSync(join(dir, 'half.ts'), "export default { name: 'x', tasks: [] };\n");
    await assert.rejects(loadPlaybook(join(dir, 'half.ts')), /half\.ts: the exported playbook has no hosts/);
  });
});
