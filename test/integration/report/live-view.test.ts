// The live view in a real terminal: tmux (120×40) runs the CLI against 50 sshd hosts; the screen is read with
// capture-pane while the run goes on and its whole scrollback after it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../fleet/fleet.js';
import { cliPath } from '../../helpers/cli.js';
import { repoRoot } from '../../helpers/cli.js';

const playbook = join(repoRoot, 'test/fixtures/playbooks/live.ts');
const cols = 120;
const rows = 40;

describe('the live view in a real terminal (tmux 120×40, 50 sshd hosts)', function () {
  this.timeout(180_000);
  let fleet: Fleet;
  const socket = `provision-live-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  let serverPid: number | undefined;

  before(async function () {
    try {
      execFileSync('tmux', ['-V']);
    } catch {
      assert.fail('tmux is missing: apt-get install tmux (.ci/run does)');
    }
    fleet = await startFleet(50);
  });
  after(async () => {
    if (serverPid) {
      try {
        process.kill(serverPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await fleet?.stop();
  });

  const screen = () => tmux('capture-pane', '-p', '-t', 'live');
  const waitFor = async (what: string, test: (text: string) => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = screen();
      if (test(text)) return text;
      if (Date.now() > deadline || (/EXIT=\d+/.test(text) && what !== 'the run to end')) assert.fail(`waited for ${what}; the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('prints finished lines as they happen, keeps the live region on screen, and keeps the Ctrl-C notice', async () => {
    const release = join(fleet.dir, 'release');
    const inventory = fleet.writeInventory(join(fleet.dir, 'live.ini'), (h) => `root=${h.root} release=${release} ${Number(h.name.slice(4)) > 20 ? 'fail_here=yes' : ''}`);
    const conf = join(fleet.dir, 'tmux.conf');
    writeFileSync(conf, 'set -g history-limit 50000\nset -g status off\n');
    const command = `env -u CI ${process.execPath} ${cliPath} run ${playbook} -i ${inventory} --known-hosts ${fleet.knownHostsPath} --retry-file ${join(fleet.dir, 'r')} --forks 50; echo EXIT=$?; sleep 600`;
    tmux('-f', conf, 'new-session', '-d', '-s', 'live', '-x', String(cols), '-y', String(rows), command);
    serverPid = Number(tmux('display-message', '-p', '#{pid}').trim());

    // A change is on screen while host01 is still running: lines are not held back until the last host finishes.
    const first = await waitFor('a changed line', (t) => /changed: config/.test(t));
    assert.equal(existsSync(release), false);
    assert.ok(first.trimEnd().split('\n').length <= rows, 'capture-pane shows one screen');
    // The counters stay on screen, below what was printed, while hosts fail by the dozen.
    // …and the host still running, with its current task.
    await waitFor('the other hosts to finish', (t) => /49\/50 hosts done · 30 failed/.test(t) && /host01: wait for release/.test(t));

    tmux('send-keys', '-t', 'live', 'C-c');
    await waitFor('the Ctrl-C notice', (t) => /SIGINT: no new task starts/.test(t));
    // Many frames later (the spinner redraws every 80 ms) the notice is still there.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100));
      assert.match(screen(), /SIGINT: no new task starts/);
    }
    writeFileSync(release, '');
    await waitFor('the run to end', (t) => /EXIT=\d+/.test(t));

    // -J joins lines the terminal wrapped: a line longer than the width shows it was not cut.
    const history = tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', 'live');
    const lines = history.split('\n');
    assert.match(history, /EXIT=99/, 'interrupted');
    assert.equal(lines.filter((l) => /^PLAY live view on 50 hosts$/.test(l)).length, 1, 'the play header, once');
    assert.equal(lines.filter((l) => /^\[host\d\d\] changed: config/.test(l)).length, 50, 'every change printed once');
    assert.equal(lines.filter((l) => /^\[host\d\d\] FAILED: fail where asked/.test(l)).length, 30, 'every failure printed once');
    assert.equal(lines.filter((l) => /SIGINT: no new task starts/.test(l)).length, 1);
    // A frame taller than the screen cannot be erased: its running-host lines would be left in the scrollback.
    const stale = lines.filter((l) => /host\d\d: (connect|facts|config|wait for release|fail where asked)\s*$/.test(l));
    assert.deepEqual(stale, [], 'no live-region line was left behind');
    const live = lines.slice(0, lines.findIndex((l) => l.startsWith('PLAY RECAP')));
    assert.deepEqual(live.filter((l) => l.length > cols), [], 'failure lines are cut to the width');
    assert.ok(live.some((l) => /^\[host\d\d\] FAILED: fail where asked — command failed with exit code 3: .*…$/.test(l)));
  });
});
