// A network the controller can reach only through a bastion: a network namespace with one veth link to this machine.
// The bastion's sshd listens on the namespace's end of the link; the hosts behind it listen on the namespace's own
// loopback, which no process outside the namespace can reach. Needs root (ip netns).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, probeBanner } from '../../fleet/fleet.js';

export interface NetSshd {
  name: string;
  /** The address it listens on, as seen from inside the namespace (the bastion's is reachable from outside too). */
  address: string;
  port: number;
  pid: number;
  /** `keytype base64` of its host key. */
  hostKey: string;
  logPath: string;
  /** Connections this sshd has authenticated so far (its log's "Accepted publickey" lines). */
  acceptedLogins(): number;
}

export interface BastionNet {
  dir: string;
  ns: string;
  /** The key (ed25519, no passphrase) every sshd here accepts for root. */
  clientKeyPath: string;
  bastion: NetSshd;
  /** Starts one more sshd on the namespace's loopback (reachable only from inside, e.g. through the bastion). */
  startInner(name: string): Promise<NetSshd>;
  /** known_hosts lines for these sshds, as ssh records them (`[addr]:port type key`). */
  knownHostsLines(...hosts: NetSshd[]): string;
  stop(): Promise<void>;
}

const sshdPath = '/usr/sbin/sshd';
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/** Polls `check` every 10 ms until it holds or 15 s pass (readiness, not a guess). */
async function waitFor(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startBastionNet(): Promise<BastionNet> {
  if (process.getuid?.() !== 0) throw new Error('the bastion tests make a network namespace: run them as root (CI does)');
  if (!existsSync(sshdPath)) throw new Error(`the bastion tests need ${sshdPath}: install openssh-server`);
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'provision-bastion-'));
  const tag = `${process.pid % 100000}`;
  const ns = `provjump${tag}`;
  const outside = `pjo${tag}`;
  const inside = `pji${tag}`;
  // A /30 of 10.231/16 picked from the PID, so two test processes do not share one.
  const base = (process.pid % 16000) * 4;
  const net = `10.231.${Math.floor(base / 256)}`;
  const outerAddress = `${net}.${(base % 256) + 1}`;
  const innerAddress = `${net}.${(base % 256) + 2}`;
  const procs: ChildProcess[] = [];
  let made = false;

  const stop = async () => {
    for (const p of procs) {
      if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) {
        const exited = once(p, 'exit');
        process.kill(p.pid, 'SIGTERM');
        await exited;
      }
    }
    if (made) {
      try {
        ip('netns', 'del', ns); // takes both ends of the veth link with it
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    ip('netns', 'add', ns);
    made = true;
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', ns);
    ip('addr', 'add', `${outerAddress}/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${innerAddress}/30`, 'dev', inside);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');

    const clientKeyPath = join(dir, 'client_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-bastion-client', '-f', clientKeyPath]);
    const keysDir = join(dir, 'authorized_keys');
    mkdirSync(keysDir);
    writeFileSync(join(keysDir, 'root'), readFileSync(`${clientKeyPath}.pub`));
    const home = join(dir, 'session-home');
    mkdirSync(home);

    const startSshd = async (name: string, address: string): Promise<NetSshd> => {
      const hostDir = join(dir, name);
      mkdirSync(hostDir);
      const keyPath = join(hostDir, 'host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}-host-key`, '-f', keyPath]);
      const cfg = join(hostDir, 'sshd_config');
      writeFileSync(
        cfg,
        [
          `ListenAddress ${address}`,
          `HostKey ${keyPath}`,
          `PidFile ${join(hostDir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${keysDir}/%u`,
          'UsePAM no',
          'StrictModes no',
          'PermitRootLogin yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'AllowTcpForwarding yes',
          `SetEnv HOME=${home}`,
          'UseDNS no',
          'MaxStartups 1000',
          'LogLevel INFO',
          '',
        ].join('\n'),
      );
      const logPath = join(hostDir, 'sshd.log');
      const port = await freePort();
      const log = openSync(logPath, 'a');
      // `ip netns exec` enters the namespace and execs sshd in place: the PID is sshd's.
      const child = spawn('ip', ['netns', 'exec', ns, sshdPath, '-D', '-e', '-f', cfg, '-p', String(port)], { stdio: ['ignore', log, log] });
      closeSync(log);
      procs.push(child);
      await waitFor(`sshd ${name} on ${address}:${port} (log: ${logPath})`, () => {
        if (child.exitCode !== null) throw new Error(`sshd ${name} exited:\n${readFileSync(logPath, 'utf8')}`);
        return readFileSync(logPath, 'utf8').includes(`Server listening on ${address} port ${port}`);
      });
      return {
        name,
        address,
        port,
        pid: child.pid!,
        hostKey: readFileSync(`${keyPath}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '),
        logPath,
        acceptedLogins: () => (readFileSync(logPath, 'utf8').match(/Accepted publickey for /g) ?? []).length,
      };
    };

    const bastion = await startSshd('bastion', innerAddress);
    await waitFor('the bastion to answer from outside the namespace', () => probeBanner(bastion.port, innerAddress));
    return {
      dir,
      ns,
      clientKeyPath,
      bastion,
      startInner: (name) => startSshd(name, '127.0.0.1'),
      knownHostsLines: (...hosts) => hosts.map((h) => `[${h.address}]:${h.port} ${h.hostKey}\n`).join(''),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
