// What the controller loads to start (issue 12): counted from the modules each command loads, never timed.
// `provision --version` loads nothing but the executable, --help no heavy package; a run loads zod as one bundled
// file; a playbook unchanged since the last run is not compiled again (esbuild is not even loaded), and a change to
// any file it imports is seen; an INI inventory without Jinja loads neither yaml nor nunjucks (issue 23). The build
// bundles the library and the CLI (scripts/bundle.mjs): what a loaded file of dist/ holds is read from its source map.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliPath, parseReport, repoRoot, runCaptured } from '../../helpers/cli.js';

const moduleLog = pathToFileURL(join(repoRoot, 'test', 'helpers', 'module-log.mjs')).href;
const dist = join(repoRoot, 'dist');

/** What a loaded file was made from: a bundled file of dist/, the sources its source map names; any other, itself. */
function sourcesOf(module: string): string[] {
  const path = module.startsWith('file:') ? fileURLToPath(module) : module;
  if (!path.startsWith(`${dist}/`) || !existsSync(`${path}.map`)) return [path];
  const map = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as { sources: string[] };
  return map.sources.map((s) => (s.includes(':') ? s : resolve(dirname(path), s)));
}

describe('what the CLI loads to start', function () {
  this.timeout(60_000);
  let dir: string;
  let cacheDir: string;
  let project: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-startup-'));
    cacheDir = join(dir, 'cache');
    // the playbook in a folder of its own: a new name there (a log, the cache, the run's target) would be a reason
    // to compile it again
    project = join(dir, 'project');
    mkdirSync(join(project, 'roles'), { recursive: true });
    mkdirSync(join(dir, 'logs'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI with the module log on; returns its result and every module it loaded (builtins left out). */
  async function loading(args: string[], name: string) {
    const log = join(dir, 'logs', `${name}.modules`);
    const r = await runCaptured(process.execPath, ['--import', moduleLog, cliPath, ...args], {
      cwd: project,
      env: { ...process.env, CI: '1', MODULE_LOG: log, PROVISION_CACHE_DIR: cacheDir },
    });
    const modules = readFileSync(log, 'utf8').split('\n').filter((m) => m !== '' && !m.startsWith('node:'));
    const sources = modules.flatMap(sourcesOf);
    // a package's files, loaded from node_modules or bundled into a loaded file
    return { ...r, modules, sources, fromPackage: (pkg: string) => sources.filter((m) => m.includes(`/node_modules/${pkg}/`)) };
  }

  it('--version loads the executable and no other module, and prints package.json\'s version', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await loading([flag], `version${flag}`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
      assert.deepEqual(r.modules, [pathToFileURL(cliPath).href]);
    }
  });

  it('--help loads the bundled command line without the inventory\'s YAML and Jinja2, esbuild or the SSH stack', async () => {
    const r = await loading(['--help'], 'help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: provision/);
    for (const pkg of ['yaml', 'nunjucks', 'esbuild', 'ssh2', 'node-ssh', 'listr2']) assert.deepEqual(r.fromPackage(pkg), [], pkg);
    assert.deepEqual(r.sources.filter((m) => m.includes('/src/inventory/') && !m.endsWith('/vault.ts')), []);
    // the bundle: the executable, the CLI's entry and shared chunks, and no package's own file (commander is bundled)
    assert.deepEqual(r.modules.filter((m) => !m.startsWith(pathToFileURL(`${dist}/chunks/`).href)), [pathToFileURL(cliPath).href, pathToFileURL(`${dist}/cli/main.js`).href]);
  });

  it('a run loads zod as one file; the second run of an unchanged playbook loads no esbuild, no YAML nor Jinja2 for an INI inventory; a changed import is compiled again', async () => {
    const target = join(dir, 'target');
    writeFileSync(join(project, 'inventory'), `localhost ansible_connection=local target=${target}\n`);
    const role = (sub: string) =>
      `import { file, type Task } from 'provision';\nexport const layout = (root: string): Task[] => [file({ path: \`\${root}/${sub}\`, state: 'directory' })];\n`;
    writeFileSync(join(project, 'roles', 'layout.ts'), role('first'));
    writeFileSync(
      join(project, 'site.ts'),
      "import { definePlaybook } from 'provision';\nimport { layout } from './roles/layout.js';\n" +
        "export default definePlaybook({ name: 'site', hosts: 'all', tasks: ({ vars }) => layout(String(vars.target)) });\n",
    );
    const run = (name: string) => loading(['run', 'site.ts', '-i', 'inventory', '--json'], name);

    const first = await run('first');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(parseReport(first.stdout).summary.changed, 1);
    assert.ok(first.fromPackage('esbuild').length > 0, 'the first run compiles with esbuild');
    // zod's package is ~95 modules; the build bundles it, minified, into one of the library's files
    assert.deepEqual(first.modules.filter((m) => m.includes('/node_modules/zod/')), []);
    assert.equal(first.modules.filter((m) => sourcesOf(m).includes('zod-minified:zod')).length, 1);
    // one copy of each module: no source is in two loaded files (the CLI and the playbook's 'provision' share them)
    const own = first.sources.filter((m) => m.startsWith(`${repoRoot}/src/`));
    assert.deepEqual(own.filter((m, i) => own.indexOf(m) !== i), []);
    assert.ok(own.includes(join(repoRoot, 'src', 'errors.ts')));

    const second = await run('second');
    assert.equal(second.code, 0, second.stderr);
    assert.equal(parseReport(second.stdout).summary.changed, 0);
    assert.deepEqual(second.fromPackage('esbuild'), [], 'an unchanged playbook is not compiled again');
    // an INI inventory with no group_vars and no Jinja: yaml (~70 modules) and nunjucks (~22) are never loaded
    for (const pkg of ['yaml', 'nunjucks', 'listr2']) assert.deepEqual(second.fromPackage(pkg), [], pkg);
    // what a warm local run loads in all: 28 files (the executable, the CLI's entry, the library's, 24 chunks and the
    // compiled playbook; code splitting puts what the CLI shares with a lazily loaded command — the engine's worker
    // and resume: saved plans, the recap, the reports — in chunks of their own), made from about 135 source files;
    // before the bundle it loaded 133 files (issue 23), about 215 while yaml and nunjucks were loaded up front
    assert.ok(second.modules.length <= 28, `${second.modules.length} files loaded`);

    // the same length, so that only the content tells the change
    writeFileSync(join(project, 'roles', 'layout.ts'), role('other'));
    const third = await run('third');
    assert.equal(third.code, 0, third.stderr);
    assert.ok(third.fromPackage('esbuild').length > 0, 'a changed import is compiled again');
    const report = parseReport(third.stdout);
    assert.equal(report.summary.changed, 1);
    assert.match(JSON.stringify(report), /target\/other/);
  });
});
