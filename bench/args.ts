// The benchmark's command line: which fleet sizes, how many runs, latency, where the JSON goes.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  hosts: number[];
  runs: number;
  /** Runs of Ansible per fleet size; by default `runs` for 1 host and 1 above (Ansible takes a minute or more there). */
  ansibleRuns?: number;
  /** Round-trip latency added by the proxy, in ms (0: none, straight to sshd). */
  latencyMs: number;
  json?: string;
  profile: boolean;
  ansible: boolean;
  /** Seconds after which one tool run is killed. */
  timeoutS: number;
  /** Host i's sshd listens on basePort + i (and its latency proxy on basePort + hosts + i); unset: random free ports. */
  basePort?: number;
  /** List every program a traced cold and warm run exec'd on the first host, with the task that caused it. */
  explain: boolean;
  /**
   * Seconds provision (--connect-timeout) and Ansible (-T) wait for a host's SSH handshake; unset: their defaults
   * (10 s each). Hundreds of hosts connecting at once on a small machine queue their handshakes for longer.
   */
  connectTimeoutS?: number;
}

export const usage = `usage: npm run bench -- [--hosts 1,10,50] [--runs 3] [--ansible-runs N] [--latency MS]
                       [--json out.json] [--profile] [--explain] [--no-ansible] [--timeout S] [--base-port N]
                       [--connect-timeout S]`;

function positive(name: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be a whole number${allowZero ? '' : ' above 0'}: ${value}`);
  return n;
}

/** Parses argv (without node and the script); throws an Error with a one-line message on bad input. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string', default: '1,10,50' },
      runs: { type: 'string', default: '3' },
      'ansible-runs': { type: 'string' },
      latency: { type: 'string', default: '0' },
      json: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'no-ansible': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '900' },
      'base-port': { type: 'string' },
      explain: { type: 'boolean', default: false },
      'connect-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new Error(usage);
  const hosts = values.hosts.split(',').map((h) => positive('hosts', h.trim()));
  let basePort: number | undefined;
  if (values['base-port'] !== undefined) {
    basePort = positive('base-port', values['base-port']);
    const top = basePort + 2 * Math.max(...hosts) - 1; // sshds, then as many latency proxies
    if (basePort < 1024 || top > 65535) throw new Error(`--base-port must leave ports ${basePort}..${top} within 1024..65535`);
  }
  return {
    hosts,
    runs: positive('runs', values.runs),
    ...(values['ansible-runs'] !== undefined ? { ansibleRuns: positive('ansible-runs', values['ansible-runs']) } : {}),
    latencyMs: positive('latency', values.latency, true),
    ...(values.json !== undefined ? { json: values.json } : {}),
    profile: values.profile,
    ansible: !values['no-ansible'],
    timeoutS: positive('timeout', values.timeout),
    ...(basePort !== undefined ? { basePort } : {}),
    explain: values.explain,
    ...(values['connect-timeout'] !== undefined ? { connectTimeoutS: positive('connect-timeout', values['connect-timeout']) } : {}),
  };
}

/** Ansible's run count for a fleet size (see BenchOptions.ansibleRuns). */
export function ansibleRunsFor(opts: BenchOptions, hosts: number): number {
  return opts.ansibleRuns ?? (hosts <= 1 ? opts.runs : 1);
}
