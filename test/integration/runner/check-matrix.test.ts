// --check never lies: over many error kinds, each after an earlier task that plans a change, --check fails on a host
// if and only if the real run fails there; only a state the earlier change would create is predicted. (A bad
// parameter is a mistake of the playbook that stops both runs at once: see test/integration/cli.)
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../../src/runner/events.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/check-matrix/matrix.ts');

/** Host (= error kind) → whether the real run fails on it. */
const kinds: Record<string, boolean> = {
  'template-missing-var': true,
  'template-not-found': true,
  'template-syntax': true,
  'copy-src-missing': true,
  'copy-onto-directory': true,
  'when-throws': true,
  'lineinfile-on-directory': true,
  'failed-when': true,
  'changed-when-throws': true,
  'handler-undefined': true,
  'service-missing': true,
  'lineinfile-missing': true,
  'file-missing': true,
  'chdir-missing': true,
  'django-project-missing': true,
  'lineinfile-created-earlier': false,
  'file-created-earlier': false,
  'chdir-created-earlier': false,
};

const failedHosts = (r: RunReport) => Object.keys(r.hosts).filter((h) => r.hosts[h]?.status === 'failed').sort();

describe('--check fails exactly where the real run fails (error kinds × {check, real})', function () {
  this.timeout(180_000);
  let fleet: Fleet;
  let inventory: string;

  before(async () => {
    fleet = await startFleet(1);
    const host = fleet.hosts[0]!;
    // One inventory host a kind, all on the same sshd: two runs cover the whole matrix.
    const line = readFileSync(fleet.writeInventory(), 'utf8').split('\n')[1]!.replace(/^\S+/, '');
    inventory = join(fleet.dir, 'matrix.ini');
    writeFileSync(inventory, `[all]\n${Object.keys(kinds).map((k) => `${k}${line} base=${host.root}`).join('\n')}\n`);
  });
  after(async () => {
    await fleet?.stop();
  });

  const run = async (...extra: string[]) => {
    const r = await runCli(['run', playbook, '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'retry'), ...extra]);
    assert.equal(r.code, 2, r.stderr);
    return parseReport(r.stdout);
  };

  it(`covers ${Object.keys(kinds).length} kinds: --check fails on a host if and only if the real run does`, async () => {
    const checked = await run('--check');
    const applied = await run();
    const expected = Object.keys(kinds).filter((k) => kinds[k]).sort();
    assert.deepEqual(failedHosts(applied), expected, 'the real run failed elsewhere than expected');
    assert.deepEqual(failedHosts(checked), expected, '--check disagrees with the real run');
    for (const kind of Object.keys(kinds)) {
      const c = checked.hosts[kind]!;
      const a = applied.hosts[kind]!;
      if (kinds[kind]) {
        // The same task fails, for the same reason (the first line: a real run may say more).
        const cErr = c.tasks.find((t) => t.status === 'failed')?.error ?? c.error ?? '';
        const aErr = a.tasks.find((t) => t.status === 'failed')?.error ?? a.error ?? '';
        assert.ok(cErr !== '', `${kind}: --check failed without an error`);
        if (kind !== 'chdir-missing' && kind !== 'django-project-missing') assert.equal(cErr.split('\n')[0], aErr.split('\n')[0], kind);
      } else {
        const predicted = c.tasks[2]!;
        assert.equal(predicted.status, 'changed', `${kind}: ${predicted.error ?? ''}`);
        assert.equal(predicted.predicted, true, kind);
        assert.match(predicted.summary ?? '', /depends on an earlier planned change: (copy content|directory) /);
      }
    }
  });
});
