// A template writes a new systemd unit and the next task starts it: the service check read ahead at the play's start
// (unit not found) is stale after the template's write, so it is read again and the service starts on a fresh host.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { RunReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { startLab, type Lab } from './lab.js';

const playbook = join(repoRoot, 'test/lab/playbooks/new-unit.ts');

describe('a new systemd unit, then service started+enabled+daemonReload (lab host)', function () {
  this.timeout(300_000);
  let lab: Lab;

  before(async function () {
    lab = await startLab(1);
  });

  after(async function () {
    if (lab) await lab.down();
  });

  async function run(...extra: string[]): Promise<{ code: number | null; report: RunReport }> {
    const r = await runCli(['run', playbook, '-i', lab.inventory, '--known-hosts', lab.knownHosts, '--json', '-e', '{"svc_name":"appsrv"}', ...extra]);
    return { code: r.code, report: parseReport(r.stdout) };
  }
  const summaries = (report: RunReport) => (report.hosts['h1']?.tasks ?? []).map((t) => `${t.status}: ${t.summary ?? t.error ?? ''}`);

  it('--check predicts both changes on a fresh host, changing nothing', async function () {
    const { code, report } = await run('--check');
    assert.equal(code, 0, JSON.stringify(report));
    const [unit, svc] = report.hosts['h1']?.tasks ?? [];
    assert.equal(unit?.status, 'changed');
    assert.equal(svc?.status, 'changed');
    assert.equal(svc?.predicted, true);
    assert.equal((await lab.ssh(1, 'test -e /etc/systemd/system/appsrv.service')).code, 1);
  });

  it('the first run writes the unit and starts and enables the service; the second changes nothing', async function () {
    const first = await run();
    assert.equal(first.code, 0, summaries(first.report).join('\n'));
    assert.deepEqual(summaries(first.report).map((s) => s.split(':')[0]), ['changed', 'changed']);
    assert.equal(first.report.hosts['h1']?.tasks[1]?.summary, 'stopped → started, disabled → enabled');
    assert.deepEqual((await lab.sshOk(1, 'systemctl is-active appsrv; systemctl is-enabled appsrv')).trim().split('\n'), ['active', 'enabled']);
    const again = await run();
    assert.equal(again.code, 0);
    assert.deepEqual(again.report.hosts['h1']?.tasks.map((t) => t.status), ['ok', 'ok']);
  });
});
