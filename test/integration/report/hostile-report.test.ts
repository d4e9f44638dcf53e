// A run.json is a CI artifact anyone may have written: `provision report --html` refuses one of the wrong shape
// (naming the file and the field), escapes every value of a well-formed one, and its page runs no script even if
// markup got into it (its Content-Security-Policy), checked in headless Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { renderHtmlReport } from '../../../src/report/html.js';
import type { RunReport } from '../../../src/runner/events.js';
import { runCli } from '../../helpers/cli.js';

const chromium = '/usr/bin/chromium';

/** Markup that, if it reached the page as markup, would run script or add an element. */
const payload = (where: string) => `<img src=x onerror="window.ran=(window.ran||[]).concat('${where}')"><script>window.ran=(window.ran||[]).concat('${where}')</script>"'><b class="injected">x</b>`;

/** A well-formed report whose every text field is hostile. */
function hostileReport(): RunReport {
  const host = payload('host');
  return {
    version: payload('version'),
    playbook: payload('playbook'),
    check: false,
    started: '2026-01-01T00:00:00.000Z',
    finished: '2026-01-01T00:00:02.000Z',
    duration_ms: 2000,
    batches: [[host]],
    halted: payload('halted'),
    hosts: {
      [host]: {
        status: 'failed',
        stats: { ok: 0, changed: 1, failed: 1, skipped: 0, left_out: 0 },
        error: payload('host error'),
        started: '2026-01-01T00:00:00.100Z',
        duration_ms: 1500,
        tasks: [
          {
            name: payload('task'), module: 'copy', status: 'changed', changed: true, summary: payload('summary'), id: 'task 1',
            started: '2026-01-01T00:00:00.200Z', duration_ms: 10, diff: [{ path: payload('path'), before: payload('before'), after: payload('after') }],
          },
          { name: payload('failed'), module: 'command', status: 'failed', changed: false, error: payload('error'), stderr: payload('stderr'), id: 'task 2', started: '2026-01-01T00:00:00.300Z', duration_ms: 10 },
        ],
      },
    },
    summary: { hosts: 1, ok: 0, changed: 1, failed: 1, skipped: 0, left_out: 0, unreachable: 0, not_run: 0, halted: 0 },
  };
}

describe('a hostile run.json and provision report --html', function () {
  this.timeout(120_000);
  let dir: string;
  let browser: Browser;

  before(async () => {
    if (!existsSync(chromium)) assert.fail(`${chromium} is missing: apt-get install chromium (.ci/run does)`);
    dir = mkdtempSync(join(tmpdir(), 'provision-hostile-report-'));
    const { chromium: pw } = await import('playwright-core');
    browser = await pw.launch({
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a page in Chromium: what ran, what was injected, and what the console said. */
  const open = async (file: string) => {
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    tab.on('pageerror', (e) => problems.push(e.message));
    tab.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await tab.goto(`file://${file}`);
    const ran = await tab.evaluate(() => (window as unknown as { ran?: string[] }).ran ?? []);
    const injected = await tab.locator('script, img, .injected').count();
    const text = await tab.locator('body').innerText();
    await tab.close();
    return { ran, injected, problems, text };
  };

  it('a report of the wrong shape is refused, naming the file and the field, and no page is written', async () => {
    const cases: [string, (r: RunReport) => void, RegExp][] = [
      ['status', (r) => ((Object.values(r.hosts)[0]!.tasks[0] as { status: string }).status = '<script>alert(1)</script>'), /hosts\[".*"\]\.tasks\[0\]\.status/],
      ['counts', (r) => ((r.summary as unknown as { changed: string }).changed = '<img src=x onerror=alert(1)>'), /summary\.changed/],
      ['a host status', (r) => ((Object.values(r.hosts)[0] as { status: string }).status = 'ok" onmouseover="x'), /hosts\[".*"\]\.status/],
      ['a duration', (r) => ((r as unknown as { duration_ms: string }).duration_ms = '1e3</p><script>x</script>'), /duration_ms/],
      ['a start time', (r) => (r.started = 'yesterday'), /started: not a date and time/],
      ['no hosts', (r) => delete (r as Partial<RunReport>).hosts, /hosts/],
    ];
    for (const [what, spoil, field] of cases) {
      const report = hostileReport();
      spoil(report);
      const json = join(dir, `bad-${what.replace(/ /g, '-')}.json`);
      const html = join(dir, `bad-${what.replace(/ /g, '-')}.html`);
      writeFileSync(json, JSON.stringify(report));
      const r = await runCli(['report', json, '--html', html]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${json.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a report written by provision run --report: `), what);
      assert.match(r.stderr, field, what);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
      assert.equal(existsSync(html), false, `${what}: no page written`);
    }
  });

  it('a well-formed report with markup in every text field: all of it shown as text, none of it runs', async () => {
    const json = join(dir, 'run.json');
    const html = join(dir, 'run.html');
    writeFileSync(json, JSON.stringify(hostileReport()));
    const r = await runCli(['report', json, '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    const page = await open(html);
    assert.deepEqual(page.ran, []);
    assert.equal(page.injected, 0, 'no element from the report');
    assert.deepEqual(page.problems, []);
    assert.match(page.text, /<script>window\.ran/, 'the markup is shown as text');
  });

  it('renderHtmlReport escapes a status and counts even where no check ran before it', async () => {
    const report = hostileReport();
    (Object.values(report.hosts)[0]!.tasks[0] as { status: string }).status = payload('status');
    (report.summary as unknown as { changed: string }).changed = payload('counts');
    const file = join(dir, 'unchecked.html');
    writeFileSync(file, renderHtmlReport(report));
    assert.doesNotMatch(readFileSync(file, 'utf8'), /<script|<img/);
    const page = await open(file);
    assert.deepEqual(page.ran, []);
    assert.equal(page.injected, 0);
    assert.match(page.text, /changed: <img src=x/, 'the count shown as text');
  });

  it('its Content-Security-Policy stops script and style that got into the page, and lets its own style sheet apply', async () => {
    const page = renderHtmlReport(hostileReport());
    assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'none'; style-src 'sha256-/);
    const planted = page.replace('<body>', `<body><script>window.ran=['inline script']</script><img src=x onerror="window.ran=['onerror']"><p id="styled" style="color: rgb(1, 2, 3)">x</p>`);
    const file = join(dir, 'planted.html');
    writeFileSync(file, planted);
    const tab = await browser.newPage();
    try {
      await tab.goto(`file://${file}`);
      assert.deepEqual(await tab.evaluate(() => (window as unknown as { ran?: string[] }).ran ?? []), []);
      assert.notEqual(await tab.locator('#styled').evaluate((e) => getComputedStyle(e).color), 'rgb(1, 2, 3)', 'a style attribute does not apply');
      // the page's own style sheet does (its hash is in the policy): the matrix cell of a changed task has its colour
      assert.equal(await tab.locator('td.cell.changed').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(224, 161, 0)');
    } finally {
      await tab.close();
    }
  });

  it('the page written for a real-shaped report keeps its text (the control case)', () => {
    const page = readFileSync(join(dir, 'run.html'), 'utf8');
    assert.match(page, /&lt;script&gt;window\.ran/);
  });
});
