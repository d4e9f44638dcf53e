// The lab itself: separate hosts with systemd as PID 1, apt only through the mirror-only proxy, faults, restart, and nothing left after down.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { labBridge, labDir, labPrefix, labSh, startLab, type Lab } from './lab.js';

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** Every PID lab.sh recorded for its hosts and proxy. */
function recordedPids(): number[] {
  const run = join(labDir, 'run');
  if (!existsSync(run)) return [];
  return readdirSync(run)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(join(run, f), 'utf8').trim()))
    .filter((p) => Number.isInteger(p) && p > 0);
}

/** Running (a zombie waiting for its reaper counts as stopped: it runs nothing). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('lab: real Debian hosts under systemd-nspawn', function () {
  this.timeout(600_000);
  let lab: Lab;
  let pids: number[] = [];

  before(async function () {
    lab = await startLab(2);
    pids = recordedPids();
  });

  after(async function () {
    if (lab) await lab.down();
  });

  it('boots each host with systemd as PID 1, its own hostname, machine id and address, reached by root key', async function () {
    const seen = new Set<string>();
    for (const i of [1, 2]) {
      const out = await lab.sshOk(i, 'readlink /proc/1/exe; hostname; cat /etc/machine-id; ip -4 -o addr show eth0; systemctl is-system-running || true');
      const [exe, hostname, machineId, addr, state] = out.trim().split('\n');
      assert.match(exe ?? '', /\/systemd$/, `h${i}: PID 1 is ${exe}`);
      assert.equal(hostname, `h${i}`);
      assert.match(addr ?? '', new RegExp(`inet 10\\.77\\.0\\.${i + 1}/24`));
      assert.ok(['running', 'degraded'].includes(state ?? ''), `h${i}: systemd is ${state}`);
      assert.ok(machineId && !seen.has(machineId), `h${i}: machine id ${machineId} is not unique`);
      seen.add(machineId);
    }
    assert.equal(pids.length, 3, `two nspawn PIDs and the proxy's: ${pids.join(' ')}`);
    for (const pid of pids) assert.ok(alive(pid), `recorded PID ${pid} is not running`);
  });

  it('has no route out: apt reaches the mirror through the proxy, which refuses every other host', async function () {
    assert.equal((await lab.sshOk(1, 'ip route show default')).trim(), '', 'a lab host has a default route');
    const update = await lab.ssh(1, 'apt-get update -q');
    assert.equal(update.code, 0, `apt-get update through the proxy: ${update.stderr}`);
    // The same proxy, asked for anything but the mirror's URIs, answers 403.
    const other = await lab.sshOk(
      1,
      `python3 -c "
import urllib.request, urllib.error, re
conf = open('/etc/apt/apt.conf.d/01lab-proxy').read()
proxy = re.search(r'Proxy \\"(http://[^\\"]+)\\"', conf).group(1)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({'http': proxy}))
try:
    opener.open('http://example.com/', timeout=10); print('200')
except urllib.error.HTTPError as e:
    print(e.code)
"`,
    );
    assert.equal(other.trim(), '403');
  });

  it('a drop fault makes a host unreachable until it is cleared; the other host is not affected', async function () {
    await lab.fault(1, 'drop');
    const dropped = await lab.ssh(1, 'true');
    assert.equal(dropped.code, 255, 'ssh to a dropped host must fail');
    assert.match(dropped.stderr, /timed out/i);
    assert.equal((await lab.ssh(2, 'true')).code, 0);
    await lab.fault(1, 'reject');
    const rejected = await lab.ssh(1, 'true');
    assert.match(rejected.stderr, /refused/i);
    await lab.fault(1, 'clear');
    assert.equal((await lab.ssh(1, 'true')).code, 0);
  });

  it('restart powers a host off and boots it again: its disk is kept, its /run (a tmpfs) is new', async function () {
    await lab.sshOk(2, 'echo kept > /root/marker && echo gone > /run/marker');
    await lab.restart(2);
    pids = [...new Set([...pids, ...recordedPids()])];
    assert.equal((await lab.sshOk(2, 'cat /root/marker')).trim(), 'kept');
    assert.equal((await lab.ssh(2, 'test -e /run/marker')).code, 1, '/run/marker survived: the host was not booted again');
  });

  it('down stops every recorded PID and leaves no mount, network namespace or bridge', async function () {
    await lab.down();
    for (const pid of pids) assert.equal(alive(pid), false, `PID ${pid} still runs after down`);
    assert.doesNotMatch(sh('ip netns list'), new RegExp(`${labPrefix}-h`));
    assert.doesNotMatch(sh('ip link show'), new RegExp(`${labBridge}|v${labPrefix}-h`));
    assert.doesNotMatch(readFileSync('/proc/self/mounts', 'utf8'), new RegExp(`${labDir}/hosts`));
    const status = await labSh(['status']);
    assert.match(status.stdout, /\(no hosts\)/);
    lab = undefined as unknown as Lab;
  });
});
