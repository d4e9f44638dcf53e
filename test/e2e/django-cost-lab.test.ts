// What the Django role costs a real host in round trips (issue 23): the daemon playbook on one lab host, cold and
// converged, counted by the run's own JSON report (a round trip is a wait for the host's answer).
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostReport, RunReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { labAddress, startLab, type Lab } from '../lab/lab.js';

describe('the Django role in few round trips, on a lab host', function () {
  this.timeout(1_200_000);

  let lab: Lab;
  let work: string;
  let inventory: string;

  async function play(...extra: string[]): Promise<HostReport> {
    const r = await runCli(['run', join(repoRoot, 'playbooks/daemon.ts'), '-i', inventory, '--known-hosts', lab.knownHosts, '--json', ...extra]);
    const report: RunReport = parseReport(r.stdout);
    const host = report.hosts['h1'];
    assert.ok(host, r.stderr.slice(-2000));
    const failed = host.tasks.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.error}`);
    assert.equal(r.code, extra.includes('--check') ? r.code : 0, `exit ${r.code}: ${host.error ?? ''}\n${failed.join('\n')}\n${r.stderr.slice(-2000)}`);
    return host;
  }

  before(async function () {
    lab = await startLab(1);
    work = mkdtempSync(join(tmpdir(), 'provision-e2e-cost-'));
    const src = join(work, 'mysite');
    cpSync(join(repoRoot, 'examples', 'mysite'), src, { recursive: true, filter: (p) => !/(__pycache__|www_static|\.sqlite3|logfile)$/.test(p) });
    inventory = join(work, 'inventory');
    mkdirSync(join(inventory, 'group_vars'), { recursive: true });
    cpSync(lab.inventory, join(inventory, 'hosts'));
    const vars = {
      project_dir: '/srv/mysite',
      project_src: src,
      site_name: 'mysite',
      http_port: 8080,
      allowed_hosts: ['127.0.0.1', labAddress(1)],
      page_text: 'Hello from mysite',
      wsgi_processes: 1,
    };
    writeFileSync(join(inventory, 'group_vars/web.yml'), `${JSON.stringify(vars, null, 2)}\n`);
  });

  after(async function () {
    if (lab) await lab.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('cold: at most one round trip more than the changes (facts and every check, then the changes)', async () => {
    const host = await play();
    assert.equal(host.status, 'changed');
    const changed = host.stats.changed;
    assert.ok(changed >= 15, `a fresh host changes most tasks (${changed})`);
    assert.ok(host.round_trips !== undefined && host.round_trips <= 1 + changed, `${host.round_trips} round trips for ${changed} changes`);
  });

  it('converged: 3 round trips (facts, every check with the health checks, the gate)', async () => {
    const host = await play();
    assert.equal(host.stats.changed, 0, host.tasks.filter((t) => t.changed).map((t) => t.name).join(', '));
    assert.equal(host.stats.failed, 0);
    assert.ok(host.round_trips !== undefined && host.round_trips <= 3, `${host.round_trips} round trips`);
  });

  it('converged, --check: 2 round trips (no gate in check mode)', async () => {
    const host = await play('--check');
    assert.equal(host.stats.changed, 0);
    assert.ok(host.round_trips !== undefined && host.round_trips <= 2, `${host.round_trips} round trips`);
  });
});
