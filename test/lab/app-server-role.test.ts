// The app-server role of issue 21 written with provision's modules, on a fresh lab host: --check predicts every change
// (none counted ok), the first run applies exactly those, the second changes nothing, and --check --detailed-exitcode
// on the converged host exits 0. The release, its wheelhouse and the apt key come from an HTTP server this test starts
// on the lab's bridge; the config repository is a bare repository on the host.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/runner/events.js';
import { parseReport, repoRoot, runCli } from '../helpers/cli.js';
import { labNet, startLab, type Lab } from './lab.js';

const playbook = join(repoRoot, 'test/lab/playbooks/app-server.ts');

/** A pure-Python wheel made by hand (no build backend, no network): appsrvdemo, whose __main__ sleeps (the service). */
const makeWheel = `
import base64, hashlib, sys, zipfile
files = {
  'appsrvdemo/__init__.py': '__version__ = "1.0"\\n',
  'appsrvdemo/__main__.py': 'import sys, time\\nif "--cleanup" in sys.argv:\\n    sys.exit(0)\\nwhile True:\\n    time.sleep(3600)\\n',
  'appsrvdemo-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: appsrvdemo\\nVersion: 1.0\\n',
  'appsrvdemo-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: provision-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
record = []
for name, text in files.items():
  digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()
  record.append(f'{name},sha256={digest},{len(text.encode())}')
record.append('appsrvdemo-1.0.dist-info/RECORD,,')
files['appsrvdemo-1.0.dist-info/RECORD'] = '\\n'.join(record) + '\\n'
with zipfile.ZipFile(sys.argv[1], 'w') as z:
  for name, text in files.items():
    z.writestr(name, text)
`;

describe('the app-server role with provision modules (lab host)', function () {
  this.timeout(1_200_000);
  let lab: Lab;
  let server: Server;
  let work: string;
  const served = new Map<string, Buffer>();
  let requests = 0;
  let vars: Record<string, string>;

  before(async function () {
    // the release: requirements, a wheelhouse, an (empty) apt repository; members named without './' so the
    // archive says nothing about dest's own mode
    work = mkdtempSync(join(tmpdir(), 'provision-app-server-'));
    const rel = join(work, 'release');
    for (const d of ['wheels', 'repo']) mkdirSync(join(rel, d), { recursive: true, mode: 0o755 });
    chmodSync(join(rel, 'wheels'), 0o755);
    chmodSync(join(rel, 'repo'), 0o755);
    writeFileSync(join(rel, 'requirements.txt'), 'appsrvdemo==1.0\n', { mode: 0o644 });
    writeFileSync(join(rel, 'repo/Packages'), '', { mode: 0o644 });
    const wheel = spawnSync('/usr/bin/python3', ['-c', makeWheel, join(rel, 'wheels/appsrvdemo-1.0-py3-none-any.whl')], { encoding: 'utf8' });
    assert.equal(wheel.status, 0, wheel.stderr);
    chmodSync(join(rel, 'wheels/appsrvdemo-1.0-py3-none-any.whl'), 0o644);
    const tar = spawnSync('tar', ['--owner=0', '--group=0', '-czf', join(work, 'app-1.0.tar.gz'), '-C', rel, 'requirements.txt', 'wheels', 'repo'], { encoding: 'utf8' });
    assert.equal(tar.status, 0, tar.stderr);
    served.set('/app-1.0.tar.gz', readFileSync(join(work, 'app-1.0.tar.gz')));
    served.set('/appsrv.gpg', Buffer.from('not a real key: the repository is [trusted=yes]\n'));

    lab = await startLab(1);
    // the host's image: git and venv, whose checks cannot be predicted when an earlier task of the same run installs
    // them (the role's packages task lists them too, and finds them installed); a bare config repository tagged v1
    await lab.sshOk(
      1,
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git python3-venv >/dev/null && ' +
        'git init -q --bare -b main /srv/git/appsrv-config.git && d=$(mktemp -d) && cd "$d" && git init -q -b main && printf "[app]\\nlevel = 1\\n" > settings.ini && ' +
        'git add . && git -c user.name=t -c user.email=t@example.test commit -qm v1 && git tag v1 && git push -q /srv/git/appsrv-config.git main v1 && cd / && rm -rf "$d"',
    );
    server = createServer((req, res) => {
      requests++;
      const body = served.get(req.url ?? '');
      if (!body) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('Content-Length', body.length);
      res.end(body);
    });
    // on the lab's bridge, the only address the hosts reach
    await new Promise<void>((r) => server.listen(0, `${labNet}.1`, r));
    const base = `http://${labNet}.1:${(server.address() as { port: number }).port}`;
    const sha = (p: string) => createHash('sha256').update(served.get(p)!).digest('hex');
    vars = {
      app_version: '1.0',
      release_url: `${base}/app-1.0.tar.gz`,
      release_sha256: sha('/app-1.0.tar.gz'),
      key_url: `${base}/appsrv.gpg`,
      key_sha256: sha('/appsrv.gpg'),
      config_repo: '/srv/git/appsrv-config.git',
    };
  });

  after(async function () {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (lab) await lab.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function run(...extra: string[]): Promise<{ code: number | null; report: RunReport; stderr: string }> {
    const r = await runCli(['run', playbook, '-i', lab.inventory, '--known-hosts', lab.knownHosts, '--json', '-e', JSON.stringify(vars), ...extra]);
    return { code: r.code, report: parseReport(r.stdout), stderr: r.stderr };
  }
  const tasks = (report: RunReport) => report.hosts['h1']?.tasks ?? [];
  const lines = (report: RunReport) => tasks(report).map((t) => `${t.module} ${t.status}: ${t.summary ?? t.error ?? ''}`);

  it('--check on a fresh host predicts every task as a change, none ok, and changes nothing', async function () {
    const { code, report } = await run('--check');
    assert.equal(code, 0, lines(report).join('\n'));
    assert.equal(tasks(report).length, 15);
    assert.deepEqual(tasks(report).filter((t) => t.status !== 'changed').map((t) => `${t.module} ${t.status}: ${t.summary ?? t.error ?? ''}`), []);
    // what an earlier planned task makes (the release after getUrl, /etc/default/cron after packages, the crontab)
    const predicted = tasks(report).filter((t) => t.predicted).map((t) => t.module);
    assert.deepEqual(predicted, ['unarchive', 'cron', 'replace', 'service'], lines(report).join('\n'));
    assert.equal((await lab.ssh(1, '[ ! -e /srv/appsrv ] && [ ! -e /etc/appsrv ] && ! getent passwd appsrv')).code, 0, '--check changed the host');
    assert.equal(requests, 0, '--check downloaded');
  });

  it('the first run applies every predicted change; the service runs from the virtualenv; the second run changes nothing', async function () {
    const first = await run();
    assert.equal(first.code, 0, `${lines(first.report).join('\n')}\n${first.stderr}`);
    assert.deepEqual(tasks(first.report).map((t) => `${t.module} ${t.status}`), tasks(first.report).map((t) => `${t.module} changed`), lines(first.report).join('\n'));
    assert.equal(requests, 2);
    const state = await lab.sshOk(
      1,
      'systemctl is-active appsrv; systemctl is-enabled appsrv; crontab -l -u appsrv; cat /etc/appsrv/app.conf; grep ^EXTRA_OPTS /etc/default/cron; ' +
        'cat /etc/apt/sources.list.d/appsrv.list; git -C /srv/appsrv/config describe --tags; /srv/appsrv/venv/bin/pip freeze; ps -o user=,args= -C python3 -C python',
    );
    for (const want of [
      'active\nenabled\n',
      '#Ansible: appsrv cleanup\n15 3 * * * /srv/appsrv/venv/bin/python -m appsrvdemo --cleanup\n',
      '# BEGIN ANSIBLE MANAGED BLOCK\nlisten = 8080\nworkers = 2\n# END ANSIBLE MANAGED BLOCK\n',
      'EXTRA_OPTS="-L 1"\n',
      'deb [signed-by=/etc/apt/keyrings/appsrv.gpg trusted=yes] file:/srv/appsrv/app/repo ./\n',
      'v1\n',
      'appsrvdemo==1.0\n',
      'appsrv   /srv/appsrv/venv/bin/python -m appsrvdemo',
    ]) {
      assert.ok(state.includes(want), `missing ${JSON.stringify(want)} in:\n${state}`);
    }
    const again = await run();
    assert.equal(again.code, 0);
    assert.deepEqual(tasks(again.report).filter((t) => t.status !== 'ok').map((t) => `${t.module} ${t.status}: ${t.summary ?? t.error ?? ''}`), []);
    assert.equal(requests, 2, 'a converged run downloaded');
  });

  it('--check --detailed-exitcode on the converged host exits 0', async function () {
    const { code, report } = await run('--check', '--detailed-exitcode');
    assert.equal(code, 0, lines(report).join('\n'));
    assert.equal(report.summary.changed, 0);
  });
});
