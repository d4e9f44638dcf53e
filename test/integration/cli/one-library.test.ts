// The CLI and a user's playbook share one copy of the library (scripts/bundle.mjs: one build, the two entry points'
// shared chunks): an error class a playbook imports from 'provision' is the one the runner checks with instanceof.
// With two copies (the CLI's and the playbook's), a CommandError a task throws would be a plain failure: no exit code,
// no stdout or stderr in the report; and a MissingOnHostError in --check could not be predicted from an earlier task.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReport, runCli } from '../../helpers/cli.js';

describe('one library for the CLI and the playbook', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-one-library-'));
    writeFileSync(join(dir, 'inventory'), `localhost ansible_connection=local target=${join(dir, 'target')}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a CommandError and a MissingOnHostError thrown by a playbook's own task are the runner's classes", async () => {
    writeFileSync(
      join(dir, 'site.ts'),
      [
        "import { CommandError, MissingOnHostError, defineTask, definePlaybook, file, noChange } from 'provision';",
        "const failing = defineTask('own', 'own command', {}, {",
        "  check: async () => { throw new CommandError('own-probe --x', 3, 'seen on stdout', 'seen on stderr'); },",
        '  apply: async () => ({}),',
        '});',
        'export const needsTarget = (target: string) =>',
        "  defineTask('own', 'needs the target', {}, {",
        '    check: async (ctx) => {',
        "      if (ctx.checkMode) throw new MissingOnHostError(`${target}: missing`, [{ path: target }]);",
        "      return noChange('there');",
        '    },',
        "    apply: async () => { throw new Error('not called'); },",
        '  });',
        'export default definePlaybook({',
        "  name: 'site', hosts: 'all',",
        '  tasks: ({ vars }) => process.env.ONE_LIBRARY_CHECK',
        "    ? [file({ path: String(vars.target), state: 'directory' }), needsTarget(String(vars.target))]",
        '    : [failing],',
        '});',
        '',
      ].join('\n'),
    );
    const failed = await runCli(['run', 'site.ts', '-i', 'inventory', '--json'], { cwd: dir });
    assert.equal(failed.code, 2, failed.stderr);
    const [task] = parseReport(failed.stdout).hosts.localhost?.tasks ?? [];
    assert.equal(task?.status, 'failed');
    assert.equal(task?.rc, 3, JSON.stringify(task));
    assert.equal(task?.stdout, 'seen on stdout');
    assert.equal(task?.stderr, 'seen on stderr');

    const checked = await runCli(['run', 'site.ts', '-i', 'inventory', '--json', '--check'], { cwd: dir, env: { ONE_LIBRARY_CHECK: '1' } });
    assert.equal(checked.code, 0, `${checked.stderr}\n${checked.stdout}`);
    const tasks = parseReport(checked.stdout).hosts.localhost?.tasks ?? [];
    assert.deepEqual(
      tasks.map((t) => [t.name, t.status, t.predicted ?? false]),
      [
        [tasks[0]?.name, 'changed', false],
        ['needs the target', 'changed', true],
      ],
    );
  });
});
