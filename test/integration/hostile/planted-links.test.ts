// An unprivileged user plants symbolic links in a folder it shares with root; a root playbook through real sshd must
// never write through them, chmod or chown what they point at (issue: "writes that follow a link planted by someone
// else"). The user is made for the test (useradd) and removed after.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../../src/runner/events.js';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { parseReport, repoRoot, runCli } from '../../helpers/cli.js';

const user = 'provplant';

function ids(name: string): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) };
}

/** Runs as the unprivileged user, as an attacker on the host would. */
const asUser = (...argv: string[]) => execFileSync('runuser', ['-u', user, '--', ...argv]);

describe('links planted by an unprivileged user, through sshd', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let shared: string;
  let victim: string;
  let report: RunReport;

  before(async function () {
    if (process.getuid?.() !== 0) throw new Error('this test needs root: it creates a user and root-owned files');
    execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', user]);
    fleet = await startFleet(1);
    const { gid } = ids(user);
    shared = join(fleet.hosts[0]!.root, 'shared');
    mkdirSync(shared, { recursive: true });
    chownSync(shared, 0, gid);
    chmodSync(shared, 0o770); // root:app 0770, as the seed's db/ and logs/ folders
    chmodSync(fleet.dir, 0o755);
    chmodSync(fleet.hosts[0]!.root, 0o755);
    victim = join(fleet.dir, 'victim');
    writeFileSync(victim, 'secret\n', { mode: 0o600 });
    for (const name of ['copy.conf', 'tpl.conf', 'line.conf', 'line-create.conf', 'follow.conf', 'touch.conf', 'attrs.conf', 'own.conf']) {
      asUser('ln', '-s', victim, join(shared, name));
    }
    asUser('mkdir', join(shared, 'tree'), join(shared, 'sync'));
    asUser('ln', '-s', victim, join(shared, 'tree', 'inner'));
    asUser('ln', '-s', victim, join(shared, 'sync', 'f.txt'));
    // A link root made itself, to a root-owned file: follow: true may use it.
    writeFileSync(join(shared, 'root-target'), 'old\n', { mode: 0o600 });
    symlinkSync(join(shared, 'root-target'), join(shared, 'root-link'));

    const inventory = fleet.writeInventory(undefined, `shared=${shared} app_group=${user}`);
    const r = await runCli([
      'run', join(repoRoot, 'test/fixtures/hostile/links.ts'), '-i', inventory, '--known-hosts', fleet.knownHostsPath,
      '--json', '--retry-file', join(fleet.dir, 'retry'),
    ]);
    assert.notEqual(r.code, 250, r.stderr);
    report = parseReport(r.stdout);
  });

  after(async () => {
    await fleet?.stop();
    try {
      execFileSync('userdel', [user]);
    } catch {
      // not created
    }
  });

  const task = (name: string) => {
    const t = Object.values(report.hosts)[0]!.tasks.find((x) => x.name === name);
    assert.ok(t, `no task '${name}' in the report`);
    return t;
  };

  it('leaves the victim file exactly as it was: content, mode, owner, group', () => {
    assert.equal(readFileSync(victim, 'utf8'), 'secret\n');
    const st = statSync(victim);
    assert.equal(st.mode & 0o7777, 0o600);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, 0);
  });

  it('copy, template and lineinfile with create replace the link with a regular file', () => {
    for (const [name, file, content] of [
      ['copy over a link', 'copy.conf', 'new\n'],
      ['template over a link', 'tpl.conf', 'port=80\n'],
      ['lineinfile create over a link', 'line-create.conf', 'x\n'],
    ] as const) {
      assert.equal(task(name).status, 'changed', JSON.stringify(task(name)));
      const st = lstatSync(join(shared, file));
      assert.ok(st.isFile(), `${file} is still a link`);
      assert.equal(readFileSync(join(shared, file), 'utf8'), content);
      assert.equal(st.gid, ids(user).gid);
    }
    assert.match(task('copy over a link').summary ?? '', /^link to .*victim → file \(4 bytes\)/);
  });

  it('lineinfile without follow or create refuses the link, naming it', () => {
    const t = task('lineinfile on a link');
    assert.equal(t.status, 'failed');
    assert.match(t.error ?? '', /line\.conf is a symbolic link \(to .*victim\); lineinfile does not edit through a link unless follow: true/);
    assert.ok(lstatSync(join(shared, 'line.conf')).isSymbolicLink());
  });

  it('follow: true refuses a link the user planted to a file it does not own, and uses one root made', () => {
    const t = task('copy follow a planted link');
    assert.equal(t.status, 'failed');
    assert.match(t.error ?? '', new RegExp(`follow\\.conf is a symbolic link owned by uid ${ids(user).uid} to .*victim owned by root \\(uid 0\\); refusing to follow it`));
    assert.equal(task('copy follow a root link').status, 'changed');
    assert.equal(readFileSync(join(shared, 'root-target'), 'utf8'), 'through\n');
    assert.ok(lstatSync(join(shared, 'root-link')).isSymbolicLink());
  });

  it('file touch and attributes on a planted link are refused; follow: false changes the link itself', () => {
    for (const name of ['touch a planted link', 'attributes of a planted link']) {
      assert.equal(task(name).status, 'failed');
      assert.match(task(name).error ?? '', /refusing to follow it/);
    }
    assert.equal(task('own the link itself').status, 'changed');
    assert.equal(lstatSync(join(shared, 'own.conf')).uid, ids('nobody').uid);
  });

  it('recurse and sync never chown through a link below them', () => {
    assert.equal(task('recurse over a planted link').status, 'changed');
    assert.equal(statSync(join(shared, 'tree')).gid, Number(execFileSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).split(':')[2]));
    assert.ok(lstatSync(join(shared, 'tree', 'inner')).isSymbolicLink());
    assert.equal(task('sync over a planted link').status, 'changed');
    assert.ok(lstatSync(join(shared, 'sync', 'f.txt')).isFile());
    assert.equal(readFileSync(join(shared, 'sync', 'f.txt'), 'utf8'), 'synced\n');
    assert.equal(readlinkSync(join(shared, 'root-link')), join(shared, 'root-target'));
  });
});
