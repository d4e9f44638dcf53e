// getUrl through a real sshd host, from a loopback HTTP server (Last-Modified, If-Modified-Since), and side by side with Ansible's get_url.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { getUrl, type GetUrlParams } from '../../../src/modules/get-url.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';
import { ansibleSteps, ourSteps, runTask } from '../../helpers/ansible-steps.js';

const hex = (alg: string, b: string | Buffer) => createHash(alg).update(b).digest('hex');

describe('getUrl through sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let conn: Connection;
  let server: Server;
  let base: string;
  let root: string;
  /** What the server serves: body and Last-Modified (ms). */
  const files = new Map<string, { body: string; mtime: number }>();
  /** GET requests answered with a body, by path. */
  const sent = new Map<string, number>();

  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root });
  const check = (t: Task) => t.check(ctxFor(true));
  const run = (t: Task) => runTask(t, ctxFor(false));
  const serve = (name: string, body: string, mtime = Date.now() - 3600_000) => files.set(`/${name}`, { body, mtime: Math.floor(mtime / 1000) * 1000 });

  before(async () => {
    server = createServer((req, res) => {
      const f = files.get(req.url ?? '');
      if (!f) return void res.writeHead(404).end('not found\n');
      const ims = req.headers['if-modified-since'];
      if (ims !== undefined && f.mtime <= Date.parse(ims)) return void res.writeHead(304).end();
      sent.set(req.url!, (sent.get(req.url!) ?? 0) + 1);
      res.writeHead(200, { 'Last-Modified': new Date(f.mtime).toUTCString(), 'Content-Length': Buffer.byteLength(f.body) }).end(f.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
    await new Promise<void>((r) => server?.close(() => r()));
  });
  beforeEach(() => {
    root = join(fleet.hosts[0]!.root, `t${Date.now()}`);
    mkdirSync(root, { recursive: true });
    sent.clear();
  });

  it('with a checksum: check predicts, apply fetches into place, a converged host downloads nothing', async () => {
    serve('app-1.0.tar.gz', 'release one\n');
    const dest = join(root, 'app.tar.gz');
    const t = getUrl({ url: `${base}/app-1.0.tar.gz`, dest, checksum: `sha256:${hex('sha256', 'release one\n')}`, mode: '0640' });
    const planned = await check(t);
    assert.equal(planned.summary, `would fetch ${base}/app-1.0.tar.gz → ${dest} (absent), mode 0640`);
    assert.equal(existsSync(dest), false);
    assert.equal(sent.get('/app-1.0.tar.gz') ?? 0, 0, 'the check downloaded');
    assert.equal((await run(t)).changed, true);
    assert.equal(readFileSync(dest, 'utf8'), 'release one\n');
    assert.equal(statSync(dest).mode & 0o7777, 0o640);
    assert.deepEqual(readdirSync(root), ['app.tar.gz']);
    const again = await run(t);
    assert.equal(again.changed, false, again.plan.summary);
    assert.equal(sent.get('/app-1.0.tar.gz'), 1, 'a converged host downloaded again');
  });

  it('a download that does not match the checksum fails and leaves dest as it was', async () => {
    serve('bad', 'tampered\n');
    const dest = join(root, 'bad');
    writeFileSync(dest, 'old\n');
    const t = getUrl({ url: `${base}/bad`, dest, checksum: `sha1:${hex('sha1', 'genuine\n')}` });
    assert.match((await check(t)).summary ?? '', /\(checksum differs: sha1 [0-9a-f]{40} → [0-9a-f]{40}\)$/);
    await assert.rejects(run(t), /did not match/);
    assert.equal(readFileSync(dest, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(root), ['bad']);
  });

  it('without a checksum: If-Modified-Since keeps dest, a newer file with new bytes replaces it, the same bytes do not', async () => {
    serve('conf', 'v1\n');
    const dest = join(root, 'conf');
    const t = getUrl({ url: `${base}/conf`, dest });
    assert.equal((await run(t)).changed, true);
    const converged = await run(t);
    assert.equal(converged.changed, false);
    assert.match(converged.plan.summary ?? '', /not modified since/);
    assert.equal(sent.get('/conf'), 1, 'If-Modified-Since was not sent or not honoured');
    // newer on the server, same bytes: fetched to compare, dest kept
    serve('conf', 'v1\n', Date.now() + 120_000);
    const same = await run(t);
    assert.equal(same.changed, false);
    assert.match(same.plan.summary ?? '', /already has the bytes/);
    // new bytes: the check says so without touching dest, the run replaces it
    serve('conf', 'v2\n', Date.now() + 120_000);
    assert.equal((await check(t)).summary, `would fetch ${base}/conf → ${dest} (content differs)`);
    assert.equal(readFileSync(dest, 'utf8'), 'v1\n');
    assert.equal((await run(t)).changed, true);
    assert.equal(readFileSync(dest, 'utf8'), 'v2\n');
  });

  it('dest a directory: the file is named after the URL; a checksum file by URL and a file:// URL work', async () => {
    serve('pkg-2.1.zip', 'zip bytes\n');
    serve('SHA1SUMS', `${hex('sha1', 'other\n')}  other.zip\n${hex('sha1', 'zip bytes\n')} *pkg-2.1.zip\n`);
    const t = getUrl({ url: `${base}/pkg-2.1.zip`, dest: root, checksum: `sha1:${base}/SHA1SUMS` });
    assert.equal((await run(t)).changed, true);
    assert.equal(readFileSync(join(root, 'pkg-2.1.zip'), 'utf8'), 'zip bytes\n');
    assert.equal((await run(t)).changed, false);
    const local = join(root, 'local.txt');
    writeFileSync(local, 'from a file URL\n');
    const f = getUrl({ url: `file://${local}`, dest: join(root, 'copied.txt'), checksum: `sha256:${hex('sha256', 'from a file URL\n')}` });
    assert.equal((await run(f)).changed, true);
    assert.equal(readFileSync(join(root, 'copied.txt'), 'utf8'), 'from a file URL\n');
    await assert.rejects(run(getUrl({ url: `${base}/pkg-2.1.zip`, dest: join(root, 'x'), checksum: `sha1:${base}/nothing` })), /HTTP status 404/);
  });

  it('agrees with Ansible get_url on changed per step (checksum, If-Modified-Since, new bytes, bad checksum)', async () => {
    serve('a.bin', 'A1\n');
    const ours = join(root, 'ours');
    const theirs = join(root, 'theirs');
    mkdirSync(ours);
    mkdirSync(theirs);
    const steps = (dir: string): GetUrlParams[] => [
      { url: `${base}/a.bin`, dest: join(dir, 'a.bin'), checksum: `sha256:${hex('sha256', 'A1\n')}` },
      { url: `${base}/a.bin`, dest: join(dir, 'a.bin'), checksum: `sha256:${hex('sha256', 'A1\n')}` },
      { url: `${base}/a.bin`, dest: join(dir, 'b.bin') },
      { url: `${base}/a.bin`, dest: join(dir, 'b.bin') },
      { url: `${base}/a.bin`, dest: dir, mode: '0600' },
      { url: `${base}/a.bin`, dest: join(dir, 'c.bin'), checksum: `sha1:${hex('sha1', 'wrong')}` },
    ];
    const mine = await ourSteps(steps(ours), (s) => run(getUrl(s)));
    const ansible = await ansibleSteps(fleet, fleet.hosts[0]!, steps(theirs).map((s) => ({ get_url: s })));
    assert.deepEqual(mine, ansible.map(({ changed, failed }) => ({ changed, failed })));
    const listing = (d: string) => readdirSync(d).sort().map((n) => `${n} ${(statSync(join(d, n)).mode & 0o7777).toString(8)} ${readFileSync(join(d, n), 'utf8')}`);
    assert.deepEqual(listing(ours), listing(theirs));
  });
});
