// Reports people look at, through the CLI against real sshd hosts: diffs grouped across hosts, drift exit codes,
// JUnit XML read back by a real XML parser, and the HTML page rendered in headless Chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/report.ts');
const chromium = '/usr/bin/chromium';

describe('reports: grouped diffs, --detailed-exitcode, --junit, HTML (5 sshd hosts)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let shared: string;
  /**
   * Every host's config at one path (checks only: the hosts share this machine's files), host05 listening elsewhere
   * (a diff of its own); `extra` adds variables per host.
   */
  const inventory = (extra: (name: string) => string = () => '') =>
    fleet.writeInventory(join(fleet.dir, 'hosts.ini'), (h) => `shared_conf=${shared} ${h.name === 'host05' ? 'port=9090' : ''} ${extra(h.name)}`);
  /** For real runs: each host's config in its own folder; host03 fails where asked. */
  const ownConfigs = () =>
    fleet.writeInventory(join(fleet.dir, 'hosts.ini'), (h) => `shared_conf=${h.root}/app.conf ${h.name === 'host03' ? 'fail_here=yes' : ''}`);
  const run = (...args: string[]) =>
    runCli(['run', playbook, '-i', join(fleet.dir, 'hosts.ini'), '--known-hosts', fleet.knownHostsPath, '--retry-file', join(fleet.dir, 'r.retry'), ...args]);

  before(async () => {
    fleet = await startFleet(5);
    shared = join(fleet.dir, 'shared.conf');
  });
  after(async () => {
    await fleet?.stop();
  });

  it('--diff prints each distinct change once, with the hosts it applies to; the report lists them all', async () => {
    writeFileSync(shared, 'listen 8080\nworkers 2\n');
    inventory();
    const r = await run('--check', '--diff', '--report', join(fleet.dir, 'check.json'));
    assert.equal(r.code, 0, r.stderr);
    const hunks = r.stdout.split('\n').filter((l) => l === '-workers 2');
    assert.equal(hunks.length, 2, `one hunk for host01–04, one for host05:\n${r.stdout}`);
    assert.match(r.stdout, /↳ shared config on 4 hosts: host01 … host04\n/);
    assert.match(r.stdout, /↳ shared config on host05\n/);
    const report = JSON.parse(readFileSync(join(fleet.dir, 'check.json'), 'utf8')) as ReturnType<typeof parseReport>;
    assert.deepEqual(report.diff_groups?.map((g) => g.hosts), [['host01', 'host02', 'host03', 'host04'], ['host05']]);
    assert.equal(report.diff_groups?.[1]?.diff[0]?.after, 'listen 9090\nworkers 4\n');
  });

  it('--check --detailed-exitcode: 10 with changes pending, 0 when converged, failures keep their code', async () => {
    writeFileSync(shared, 'listen 8080\nworkers 2\n');
    inventory();
    assert.equal((await run('--check', '--detailed-exitcode')).code, 10);
    assert.equal((await run('--check')).code, 0, 'without the flag, pending changes are not an error');
    // Converged: every host would find the content it wants (host05 too, on the same port).
    writeFileSync(shared, 'listen 8080\nworkers 4\n');
    fleet.writeInventory(join(fleet.dir, 'hosts.ini'), `shared_conf=${shared}`);
    const converged = await run('--check', '--detailed-exitcode');
    assert.equal(converged.code, 0, converged.stdout + converged.stderr);
    inventory((name) => (name === 'host03' ? 'ansible_port=1' : ''));
    assert.equal((await run('--check', '--detailed-exitcode', '--connect-retries', '0')).code, 4, 'an unreachable host keeps its code');
    const misuse = await run('--detailed-exitcode');
    assert.equal(misuse.code, 1);
    assert.match(misuse.stderr, /--detailed-exitcode .* use it with --check/);
  });

  it('--junit writes a case per host and task that a real XML parser reads, failures and skips marked', async () => {
    ownConfigs();
    const junit = join(fleet.dir, 'junit.xml');
    const r = await run('--junit', junit, '--json');
    assert.equal(r.code, 2, r.stderr);
    const report = parseReport(r.stdout);
    const tasks = Object.values(report.hosts).reduce((n, h) => n + h.tasks.length, 0);
    const counted = execFileSync('python3', [
      '-c',
      `import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall('./testsuite/testcase')
print(len(cases), len([c for c in cases if c.find('failure') is not None]), len([c for c in cases if c.find('skipped') is not None]), root.get('tests'), root.get('failures'))
print([c.get('name') for c in cases if c.find('failure') is not None][0])`,
      junit,
    ]).toString().split('\n');
    const skipped = Object.values(report.hosts).reduce((n, h) => n + h.tasks.filter((t) => t.status === 'skipped').length, 0);
    assert.equal(counted[0], `${tasks} 1 ${skipped} ${tasks} 1`);
    assert.equal(counted[1], '[host03] report fixture: fail where asked');
  });

  it('provision report --html: one self-contained page that Chromium renders with no console error', async function () {
    if (!existsSync(chromium)) assert.fail(`${chromium} is missing: apt-get install chromium (.ci/run does)`);
    ownConfigs();
    for (const h of fleet.hosts) writeFileSync(join(h.root, 'app.conf'), 'old\n');
    const json = join(fleet.dir, 'run.json');
    assert.equal((await run('--report', json, '--diff')).code, 2);
    const html = join(fleet.dir, 'run.html');
    const made = await runCli(['report', json, '--html', html]);
    assert.equal(made.code, 0, made.stderr);
    const page = readFileSync(html, 'utf8');
    assert.doesNotMatch(page, /(src|href)=["']?(https?:)?\/\//, 'the page fetches nothing');

    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launch({
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      tab.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      tab.on('pageerror', (e) => problems.push(e.message));
      tab.on('request', (req) => !req.url().startsWith('file:') && problems.push(`fetched ${req.url()}`));
      await tab.goto(`file://${html}`);
      assert.deepEqual(problems, []);
      assert.equal(await tab.locator('svg g[data-host]').count(), 5, 'a timeline row per host');
      assert.equal(await tab.locator('td.cell.failed').count(), 1, 'one failed cell in the matrix');
      assert.equal(await tab.locator('td.cell').count(), 5 * 3, 'task × host cells');
      assert.equal(await tab.locator('.diff').count(), 5, 'each host wrote its own file: five distinct diffs');
      assert.match(await tab.locator('.failure').first().innerText(), /host03 · fail where asked/);
      const bars = await tab.locator('svg rect[data-status]').evaluateAll((els) => els.map((e) => (e as SVGRectElement).getBBox().width));
      const report = JSON.parse(readFileSync(json, 'utf8')) as ReturnType<typeof parseReport>;
      const tasks = Object.values(report.hosts).reduce((n, h) => n + h.tasks.length, 0);
      assert.equal(tasks, 14, 'host03 stopped at its failure');
      assert.equal(bars.length, tasks);
      assert.ok(bars.every((w) => w > 0), 'every task is a visible bar on the timeline');
      mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
      await tab.screenshot({ path: join(repoRoot, 'test-artifacts', 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('provision report refuses a file that is not a report, naming it', async () => {
    const bad = join(fleet.dir, 'bad.json');
    writeFileSync(bad, '{"hello": 1}');
    const r = await runCli(['report', bad, '--html', join(fleet.dir, 'x.html')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.json: not a report written by provision run/);
    assert.equal(existsSync(join(fleet.dir, 'x.html')), false);
  });
});
