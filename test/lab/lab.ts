// Drives test/lab/lab.sh from mocha: N real Debian hosts (systemd-nspawn, systemd as PID 1) on a bridge, reached over SSH.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectHost } from '../../src/connection/connect.js';
import type { Connection } from '../../src/connection/types.js';
import { runCaptured, type CliResult } from '../helpers/cli.js';

export const labScript = join(dirname(fileURLToPath(import.meta.url)), 'lab.sh');
/** Where the lab keeps its base image, keys, caches and logs (lab.sh's default, overridable with LAB_DIR). */
export const labDir = process.env['LAB_DIR'] ?? '/var/tmp/provision-lab';
/** The lab's /24 (lab.sh's LAB_NET): the controller is .1, host i is .(i+1). */
export const labNet = process.env['LAB_NET'] ?? '10.77.0';
/** lab.sh's LAB_PREFIX and LAB_BR: the names of the lab's netns, machines, veths and bridge. */
export const labPrefix = process.env['LAB_PREFIX'] ?? 'lab77';
export const labBridge = process.env['LAB_BR'] ?? 'lab77br';
/** The address of lab host i (1-based). */
export const labAddress = (i: number): string => `${labNet}.${i + 1}`;

export type Run = CliResult;

/** Runs lab.sh with arguments; never throws on a non-zero exit (the caller asserts). */
export function labSh(args: string[], timeoutMs = 900_000): Promise<Run> {
  return runCaptured('bash', [labScript, ...args], { env: { ...process.env, LAB_DIR: labDir }, timeoutMs });
}

/** Runs lab.sh and throws with its output when it fails. */
async function labOk(args: string[], timeoutMs?: number): Promise<Run> {
  const r = await labSh(args, timeoutMs);
  if (r.code !== 0) throw new Error(`lab.sh ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

export interface LabHost {
  /** Inventory name: h1, h2, … */
  name: string;
  address: string;
}

export type Fault = 'drop' | 'reject' | 'clear' | `loss ${number}` | `delay ${number}` | `rate ${number}`;

export interface Lab {
  hosts: LabHost[];
  /** The INI inventory lab.sh wrote: group `lab` (and `web`, its child), root by key. */
  inventory: string;
  knownHosts: string;
  key: string;
  /** Runs a command on host i (1-based) over SSH as root. */
  ssh(i: number, command: string): Promise<Run>;
  /** Like ssh(), but throws unless the command exits 0; returns its stdout. */
  sshOk(i: number, command: string): Promise<string>;
  /** provision's own SSH connection to host i (1-based) as root, named `hI`, without become. */
  connect(i: number): Promise<Connection>;
  fault(i: number, fault: Fault): Promise<void>;
  /** Powers host i off and boots it again (its disk is kept). */
  restart(i: number): Promise<void>;
  /** Stops every host by PID, unmounts, removes netns, bridge and proxy. */
  down(): Promise<void>;
}

/** Whether this machine can run the lab; the reason when it cannot (a suite fails with it, never skips silently). */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, mounts, systemd-nspawn): run as root, as .ci/run does';
  if (!existsSync('/usr/bin/systemd-nspawn') || !existsSync('/usr/sbin/debootstrap')) {
    return 'the lab needs systemd-nspawn and debootstrap: run .ci/run, or see test/lab/lab.sh for the apt-get line';
  }
  return null;
}

/** Starts fresh hosts h1..hn (building the base image first if missing) and returns a handle to them. */
export async function startLab(n: number): Promise<Lab> {
  const why = labUnavailable();
  if (why) throw new Error(why);
  // fresh hosts every time: what a crashed earlier run left (hosts, mounts, proxy) goes first
  await labOk(['down']);
  try {
    await labOk(['up', String(n)]);
  } catch (err) {
    await labSh(['down']);
    throw err;
  }
  const hosts = Array.from({ length: n }, (_, k) => ({ name: `h${k + 1}`, address: labAddress(k + 1) }));
  const key = join(labDir, 'keys/id_ed25519');
  const knownHosts = join(labDir, 'known_hosts');
  const ssh = (i: number, command: string): Promise<Run> =>
    runCaptured('ssh', [
      '-i', key, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${labAddress(i)}`, command,
    ]);
  return {
    hosts,
    inventory: join(labDir, 'inventory.ini'),
    knownHosts,
    key,
    ssh,
    async sshOk(i, command) {
      const r = await ssh(i, command);
      if (r.code !== 0) throw new Error(`h${i}: ${command} exited ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    connect: (i) => connectHost({ host: `h${i}`, address: labAddress(i), user: 'root', privateKeyFile: key, knownHostsFiles: [knownHosts], become: { become: false } }),
    async fault(i, fault) {
      await labOk(['fault', String(i), ...fault.split(' ')]);
    },
    async restart(i) {
      await labOk(['restart', String(i)]);
    },
    async down() {
      await labOk(['down']);
    },
  };
}
