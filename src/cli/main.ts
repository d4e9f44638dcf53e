// The `provision` command: parses options, wires inventory, playbook, connections, runner and reporters.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LocalConnection } from '../connection/local.js';
import type { BecomeSettings, Connection } from '../connection/types.js';
import { InputError, ProvisionError } from '../errors.js';
import { loadInventory, resolveConnectionVars, type Inventory } from '../inventory/index.js';
import { loadPlaybook } from '../playbook/load.js';
import type { Vars } from '../playbook/types.js';
import { createProgress } from '../report/progress.js';
import { formatRecap } from '../report/recap.js';
import type { RunReport } from '../runner/events.js';
import { runPlaybook } from '../runner/run.js';
import { secret } from '../secret.js';
import { exitCodeFor, exitCodes } from './exit-codes.js';
import { parseExtraVars } from './extra-vars.js';
import { askPassword } from './prompt.js';
import { gatherVaultSecrets, type VaultFlags } from './vault-secrets.js';
import { setVaultSecrets } from '../inventory/vault.js';
import { loadAnsibleConfig, type AnsibleConfig } from '../config/ansible-cfg.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
    return n;
  };
}

function percentage(value: string) {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage from 0 to 100');
  return n;
}

interface RunFlags {
  inventory: string[];
  limit?: string;
  forks: number;
  check: boolean;
  diff: boolean;
  user?: string;
  privateKey?: string;
  become: boolean;
  becomeUser?: string;
  askBecomePass: boolean;
  acceptNewHostKeys: boolean;
  knownHosts: string[];
  sshConfig?: string;
  connectTimeout: number;
  connectRetries: number;
  persistentShell: boolean;
  json: boolean;
  report?: string;
  extraVars: string[];
  serial?: string;
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  forceHandlers: boolean;
  timeout?: number;
  tags?: string;
  retryFile?: string;
  verbose: boolean;
  vaultId: string[];
  vaultPasswordFile: string[];
  askVaultPass: boolean;
}

/** Writes a file atomically on the controller (a report, a retry file): temp file beside it, then rename. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Hosts of the play: the playbook's pattern, narrowed by --limit (both Ansible patterns). */
function selectHosts(inventory: Inventory, pattern: string, limit?: string): string[] {
  const hosts = inventory.selectHosts(pattern);
  if (!limit) return hosts;
  const allowed = new Set(inventory.selectHosts(limit));
  return hosts.filter((h) => allowed.has(h));
}

/** Loads the inventories named by -i (default ./inventory) and prints what Ansible would only warn about. */
async function loadInventoryWithWarnings(sources: string[], vault?: VaultFlags): Promise<Inventory> {
  if (vault) setVaultSecrets(await gatherVaultSecrets(vault));
  const inventory = await loadInventory(sources.length > 0 ? sources : ['inventory']);
  for (const w of inventory.warnings) process.stderr.write(`provision: warning: ${w}\n`);
  return inventory;
}

/**
 * Fills what the command line left unset from ansible.cfg (found as Ansible finds it); options given win.
 * Returns the config, for the inventory defaults it carries (ssh_args).
 */
function applyAnsibleConfig(flags: Partial<RunFlags> & { inventory: string[] } & VaultFlags, given: (name: string) => boolean): AnsibleConfig {
  const cfg = loadAnsibleConfig();
  if (cfg.unused.length > 0) {
    process.stderr.write(`provision: warning: ${cfg.path}: not used by provision: ${cfg.unused.join(', ')}\n`);
  }
  if (flags.inventory.length === 0 && cfg.inventory) flags.inventory = cfg.inventory;
  if (flags.vaultId.length === 0 && flags.vaultPasswordFile.length === 0 && !flags.askVaultPass && cfg.vaultPasswordFile) {
    flags.vaultPasswordFile = [cfg.vaultPasswordFile];
  }
  if (!given('user') && cfg.remoteUser) flags.user = cfg.remoteUser;
  if (!given('privateKey') && cfg.privateKeyFile) flags.privateKey = cfg.privateKeyFile;
  if (!given('forks') && cfg.forks !== undefined) flags.forks = cfg.forks;
  if (!given('connectTimeout') && cfg.timeout !== undefined) flags.connectTimeout = cfg.timeout;
  if (!given('become') && cfg.become !== undefined) flags.become = cfg.become;
  if (!given('becomeUser') && cfg.becomeUser) flags.becomeUser = cfg.becomeUser;
  if (!given('askBecomePass') && cfg.becomeAskPass !== undefined) flags.askBecomePass = cfg.becomeAskPass;
  return cfg;
}

async function runCommand(playbookPath: string, flags: RunFlags, given: (name: string) => boolean = () => false): Promise<number> {
  const out = flags.json ? process.stderr : process.stdout;
  const cfg = applyAnsibleConfig(flags, given);
  if (flags.verbose) process.stderr.write(`provision: ${cfg.path ? `using config file ${cfg.path}` : 'no ansible.cfg found (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg)'}\n`);
  const inventory = await loadInventoryWithWarnings(flags.inventory, flags);
  if (cfg.sshArgs !== undefined) inventory.setDefaultVars({ ansible_ssh_args: cfg.sshArgs }, `${cfg.path} ([ssh_connection] ssh_args)`);
  // The SSH stack loads while esbuild compiles the playbook in its own process, when any host may need it.
  const sshStack = inventory.hostNames().some((h) => resolveConnectionVars(inventory.hostVars(h), h).connection !== 'local')
    ? import('../connection/connect.js')
    : undefined;
  const playbook = await loadPlaybook(playbookPath);
  const extraVars = parseExtraVars(flags.extraVars);
  const hosts = selectHosts(inventory, playbook.hosts, flags.limit);
  if (hosts.length === 0) {
    process.stderr.write(
      `provision: no hosts matched "${playbook.hosts}"${flags.limit ? ` limited to "${flags.limit}"` : ''}; nothing to do\n`,
    );
    return exitCodes.ok;
  }
  let becomePassword: string | undefined;
  if (flags.askBecomePass) becomePassword = secret(await askPassword('BECOME password: '));

  // group_vars/ and host_vars/ beside the playbook win over the inventory's; variables render (Jinja2) when read
  inventory.addPlaybookDir(dirname(resolve(playbookPath)));
  const varsOf = (host: string): Vars =>
    inventory.templatedVars(
      host,
      { ...(playbook.vars ?? {}), ...extraVars },
      (name) => (Object.hasOwn(extraVars, name) ? 'extra vars (-e)' : `${playbookPath} (vars)`),
      extraVars,
    );
  const knownHostsFiles = [...flags.knownHosts, join(homedir(), '.ssh', 'known_hosts')];
  // A host's ansible_become wins over the play's `become` and --become, as Ansible's variables win over keywords.
  const becomeOf = (host: string, vars: Vars): boolean =>
    resolveConnectionVars(vars, host).become ?? (flags.become || playbook.become === true);
  const connect = async (host: string, vars: Vars): Promise<Connection> => {
    const c = resolveConnectionVars(vars, host);
    if (c.password) secret(c.password);
    if (c.becomePassword) secret(c.becomePassword);
    const become: BecomeSettings = {
      become: becomeOf(host, vars),
      becomeUser: c.becomeUser ?? flags.becomeUser ?? playbook.becomeUser,
      becomePassword: c.becomePassword ?? becomePassword,
    };
    if (c.connection === 'local') return new LocalConnection(host, become);
    const { connectHost } = await (sshStack ?? import('../connection/connect.js'));
    return connectHost({
      host,
      address: c.address,
      port: c.port,
      user: c.user ?? flags.user,
      privateKeyFile: c.privateKeyFile ?? flags.privateKey,
      password: c.password,
      knownHostsFiles,
      acceptNewHostKeys: flags.acceptNewHostKeys,
      connectTimeoutMs: flags.connectTimeout * 1000,
      sshConfigPath: flags.sshConfig,
      persistentShell: flags.persistentShell,
      become,
    });
  };

  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\nprovision: ${signal}: no new task starts; waiting for running tasks (again to abort now)\n`);
      abort.abort();
    } else {
      // Remote writes are atomic (temp file, checksum, rename): dropping the connections leaves no half file.
      process.stderr.write(`\nprovision: aborted\n`);
      process.exit(exitCodes.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const tty = out.isTTY === true && process.env.CI === undefined;
  const progress = await createProgress({ tty, stream: out, diff: flags.diff, color: tty, verbose: flags.verbose });
  let report: RunReport;
  try {
    report = await runPlaybook({
      playbook,
      playbookPath,
      baseDir: dirname(resolve(playbookPath)),
      hosts,
      varsOf,
      connect,
      becomeOf,
      forks: flags.forks,
      connectRetries: flags.connectRetries,
      check: flags.check,
      forceHandlers: flags.forceHandlers,
      serial: flags.serial,
      maxFailPercentage: flags.maxFailPercentage,
      anyErrorsFatal: flags.anyErrorsFatal || undefined,
      timeout: flags.timeout,
      tags: flags.tags ? flags.tags.split(',').map((t) => t.trim()) : undefined,
      signal: abort.signal,
      onEvent: (e) => progress.onEvent(e),
    });
  } finally {
    await progress.done();
  }

  const retry = Object.entries(report.hosts)
    .filter(([, h]) => h.status === 'failed' || h.status === 'unreachable' || h.status === 'not run' || h.reason !== undefined)
    .map(([name]) => name);
  if (retry.length > 0 && !flags.check) {
    const path = flags.retryFile ?? `${basename(playbookPath).replace(/\.[cm]?ts$/, '')}.retry`;
    writeAtomic(path, `${retry.join('\n')}\n`);
    report.retry_file = path;
  }
  out.write(`\n${formatRecap(report)}\n`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (flags.report) writeAtomic(flags.report, json);
  if (flags.json) process.stdout.write(json);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return exitCodeFor(report);
}

async function inventoryCommand(flags: { inventory: string[]; list?: boolean; graph?: boolean; host?: string } & VaultFlags) {
  applyAnsibleConfig(flags, () => false);
  const inventory = await loadInventoryWithWarnings(flags.inventory, flags);
  if (flags.host !== undefined) {
    if (!inventory.hostNames().includes(flags.host)) throw new InputError(`no host named "${flags.host}" in the inventory`);
    process.stdout.write(`${JSON.stringify(inventory.toHost(flags.host), null, 4)}\n`);
  } else if (flags.graph) {
    process.stdout.write(`${inventory.toGraph()}\n`);
  } else if (flags.list) {
    process.stdout.write(`${JSON.stringify(inventory.toList(), null, 4)}\n`);
  } else {
    throw new InputError('say what to show: --list, --graph or --host NAME');
  }
  return exitCodes.ok;
}

/** The vault options, the same on every command that loads an inventory. */
function addVaultOptions(command: Command): Command {
  return command
    .option('--vault-id <label@source>', 'a vault password: source is a file, an executable script or "prompt" (repeatable)', collect, [])
    .option('--vault-password-file <file>', 'a vault password file, or an executable that prints it (repeatable)', collect, [])
    .option('-J, --ask-vault-pass', 'ask for the vault password (read from stdin when not a terminal)', false);
}

/** Builds the command-line program; `main` runs it. */
export function buildProgram(setExit: (code: number) => void): Command {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('provision')
    .description('Agentless provisioner: TypeScript playbooks applied over SSH across an inventory.')
    .version(version)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('apply a playbook to the hosts of an inventory')
    .argument('<playbook>', 'a .ts file that default-exports definePlaybook({...})')
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable)', collect, [])
    .option('-l, --limit <pattern>', 'restrict to hosts matching a pattern (or @file of host names)')
    .option('-f, --forks <n>', 'hosts run in parallel', positiveInt('--forks'), 10)
    .option('-C, --check', 'plan only: report what would change, change nothing', false)
    .option('-D, --diff', 'show unified diffs of file changes', false)
    .option('-u, --user <name>', 'SSH user when the inventory names none')
    .option('--private-key <file>', 'SSH private key when the inventory names none')
    .option('-b, --become', 'run tasks through sudo', false)
    .option('--become-user <name>', 'the user to become (default root)')
    .option('-K, --ask-become-pass', 'ask for the sudo password (read from stdin when not a terminal)', false)
    .option('--accept-new-host-keys', 'accept and record host keys not yet in known_hosts (a changed key is still refused)', false)
    .option('--known-hosts <file>', 'known_hosts file to check host keys against, before ~/.ssh/known_hosts (repeatable)', collect, [])
    .option('--ssh-config <file>', 'ssh config file (default ~/.ssh/config)')
    .option('--connect-timeout <seconds>', 'SSH connect timeout', positiveInt('--connect-timeout'), 10)
    .option('--connect-retries <n>', 'retries of a refused or reset connect, with backoff', positiveInt('--connect-retries'), 2)
    .option('--no-persistent-shell', 'open an SSH channel a command instead of one long-lived shell per host')
    .option('--json', 'print the JSON report on stdout (progress goes to stderr)', false)
    .option('--report <file>', 'write the JSON report to a file')
    .option('-e, --extra-vars <vars>', 'key=value, a JSON/YAML object, or @file; highest precedence (repeatable)', collect, [])
    .option('--serial <batches>', 'rollout batches: 5, 25% or a ramp 1,10%,100%')
    .option('--max-fail-percentage <pct>', 'halt the rollout when more than this share of a batch fails', percentage)
    .option('--any-errors-fatal', 'halt the rollout at the first failure', false)
    .option('--force-handlers', 'run notified handlers even after a failure', false)
    .option('--timeout <seconds>', 'default timeout of each task', positiveInt('--timeout'))
    .option('-t, --tags <tags>', 'only run tasks with these tags (comma-separated)')
    .option('--retry-file <file>', 'where to list failed, unreachable and not-run hosts (default <playbook>.retry)')
    .option('-v, --verbose', 'print every task, not only changes and failures', false)
    .action(async (playbook: string, flags: RunFlags, command: Command) =>
      setExit(await runCommand(playbook, flags, (name) => command.getOptionValueSource(name) === 'cli')),
    );

  program
    .command('inventory')
    .description('show an inventory as ansible-inventory does')
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable)', collect, [])
    .addOption(new Option('--list', 'all groups and hosts as JSON, with merged variables').conflicts(['graph', 'host']))
    .addOption(new Option('--graph', 'the group tree').conflicts(['host']))
    .option('--host <name>', "one host's merged variables as JSON")
    .action(async (flags) => setExit(await inventoryCommand(flags)));

  // both commands load inventories, so both take the vault options
  for (const command of program.commands) addVaultOptions(command);
  return program;
}

/** Runs the CLI and returns its exit code; user errors are one clear line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  // A reader that went away (`provision … | head`) is not an error of the run.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  let code: number = exitCodes.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help'
        ? exitCodes.ok
        : exitCodes.badInput;
    }
    if (err instanceof InputError) {
      process.stderr.write(`provision: error: ${err.message}\n`);
      return exitCodes.badInput;
    }
    if (err instanceof ProvisionError) {
      process.stderr.write(`provision: error: ${err.message}\n`);
      return exitCodes.hostFailed;
    }
    process.stderr.write(`provision: internal error (please report it): ${(err as Error).stack ?? String(err)}\n`);
    return exitCodes.internal;
  }
}
