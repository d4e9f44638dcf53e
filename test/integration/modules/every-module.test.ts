// The module contract through real sshd: --check predicts exactly what the real run changes and changes nothing,
// a second run changes nothing, --diff is a correct unified diff, and an interrupted write is never half a file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, lstatSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { applyPatch } from 'diff';
import type { RunReport } from '../../../src/runner/events.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath, parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const fixtures = join(repoRoot, 'test/fixtures/every-module');

/** Every path under `dir` with its type, mode and content checksum: what "changes nothing" is compared on. */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'dir';
      out.push(`${p} ${(st.mode & 0o7777).toString(8)} ${what}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const changedTasks = (report: RunReport) =>
  Object.values(report.hosts).flatMap((h) => h.tasks.filter((t) => t.status === 'changed').map((t) => t.name));

describe('every module through sshd: check predicts, apply does, rerun is ok', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let inventory: string;
  let server: Server;
  let root: string;

  before(async () => {
    server = createServer((_, res) => res.end('healthy\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    fleet = await startFleet(1);
    root = join(fleet.hosts[0]!.root, 'site');
    inventory = fleet.writeInventory(undefined, `root=${root} health_url=http://127.0.0.1:${port}/`);
  });
  after(async () => {
    await fleet?.stop();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  const run = async (...extra: string[]) => {
    const r = await runCli(['run', join(fixtures, 'every-module.ts'), '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--json', '--retry-file', join(fleet.dir, 'r'), ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return parseReport(r.stdout);
  };

  it('predicts in --check exactly the tasks the real run changes, changing nothing; then converges', async () => {
    const before = listing(root);
    const planned = await run('--check');
    assert.deepEqual(listing(root), before, '--check changed the host');
    const applied = await run();
    assert.deepEqual(changedTasks(planned), changedTasks(applied));
    assert.ok(changedTasks(applied).length >= 11, changedTasks(applied).join(', '));
    const host = Object.values(applied.hosts)[0]!;
    assert.equal(host.tasks.find((t) => t.module === 'selinux')?.status, 'skipped');
    assert.equal(host.tasks.find((t) => t.module === 'http')?.status, 'ok');
    assert.equal(readFileSync(join(root, 'etc/vhost.conf'), 'utf8'), `<VirtualHost *:8080>\n    ServerName example.test\n    DocumentRoot ${root}/app\n</VirtualHost>\n`);
    assert.equal(readlinkSync(join(root, 'current')), join(root, 'app'));
    assert.equal(lstatSync(join(root, 'app/run.sh')).mode & 0o111, 0o111);

    const again = await run();
    assert.equal(again.summary.changed, 0, changedTasks(again).join(', '));
  });

  it('shows with --diff the unified diff that the real run then applies, for template, copy and lineinfile', async () => {
    const vars = ['-e', 'port=9090', '-e', 'debug=True', '-e', "motd='hello there'"];
    const paths = ['etc/vhost.conf', 'etc/settings.py', 'etc/motd'].map((p) => join(root, p));
    const old = paths.map((p) => readFileSync(p, 'utf8'));
    const planned = await run('--check', '--diff', ...vars);
    const diffs = Object.values(planned.hosts)[0]!.tasks.flatMap((t) => (t.status === 'changed' ? t.diff ?? [] : []));
    assert.deepEqual(diffs.map((d) => d.path).sort(), [...paths].sort());
    assert.deepEqual(paths.map((p) => readFileSync(p, 'utf8')), old, '--check changed a file');
    await run(...vars);
    for (const [i, p] of paths.entries()) {
      const d = diffs.find((x) => x.path === p)!;
      assert.equal(d.before, old[i]);
      assert.equal(d.after, readFileSync(p, 'utf8'), `${p}: the run applied something else than --diff showed`);
    }
    // The printed diff is a unified diff that turns the old file into the new one.
    const text = await runCli(['run', join(fixtures, 'every-module.ts'), '-i', inventory, '--known-hosts', fleet.knownHostsPath, '--check', '--diff', '-e', 'port=7070', '--retry-file', join(fleet.dir, 'r')]);
    const patch = text.stdout.slice(text.stdout.indexOf(`--- ${paths[0]}`));
    // Each distinct diff is printed once, followed by the task and the hosts it applies to.
    assert.equal(applyPatch(readFileSync(paths[0]!, 'utf8'), patch.slice(0, patch.indexOf('\n  ↳ ') + 1)), readFileSync(paths[0]!, 'utf8').replace('9090', '7070'));
  });

  it('never leaves half a file when the controller is killed during a large copy', async () => {
    const size = 48 * 1024 * 1024;
    const big = join(fleet.hosts[0]!.root, 'big');
    const inv = join(fleet.dir, 'big.ini');
    writeFileSync(inv, readFileSync(inventory, 'utf8').replace(/root=\S+/, `root=${fleet.hosts[0]!.root} size=${size}`));
    const args = (letter: string) => ['run', join(fixtures, 'large-copy.ts'), '-i', inv, '--known-hosts', fleet.knownHostsPath, '-e', `letter=${letter}`, '--retry-file', join(fleet.dir, 'r')];
    assert.equal((await runCli(args('a'))).code, 0);

    const child = spawn(process.execPath, [cliPath, ...args('b')], { stdio: 'ignore' });
    const tmp = () => readdirSync(fleet.hosts[0]!.root).filter((n) => n.endsWith('.tmp'));
    const deadline = Date.now() + 20_000;
    while (tmp().length === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(tmp().length > 0, 'the copy finished before it could be interrupted');
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The host's side sees the stream end short, refuses it, and removes its temporary file.
    while (tmp().length > 0 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(tmp(), []);
    const content = readFileSync(big);
    assert.equal(content.length, size);
    assert.ok(content.every((b) => b === 0x61) || content.every((b) => b === 0x62), 'the file is a mix of old and new');
  });
});
