// The `provision` command: parses options, wires inventory, playbook, connections, runner and reporters.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LocalConnection } from '../connection/local.js';
import type { BecomeSettings, Connection } from '../connection/types.js';
import { InputError, ProvisionError } from '../errors.js';
import type { Inventory } from '../inventory/index.js';
import type { LoadOptions } from '../inventory/load.js';
import { loadPlays } from '../playbook/load.js';
import type { Playbook, Vars } from '../playbook/types.js';
import { createProgress, type Progress, type ProgressOptions } from '../report/progress.js';
import { reportDiffGroups } from '../report/diff-groups.js';
import { formatJunit } from '../report/junit.js';
import { formatRecap } from '../report/recap.js';
import { readRunReport } from '../report/report-file.js';
import { terminalSafe } from '../report/terminal-safe.js';
import type { RunReport } from '../runner/events.js';
import { runPlays, type RunOptions } from '../runner/run.js';
import { settleBecome } from '../runner/context.js';
import { redact, secret } from '../secret.js';
import { setTraceListener, traceProtocol } from '../connection/trace.js';
import { coordinatorSignals, exitCodeFor, exitCodes } from './exit-codes.js';
import { checkPatterns, selectHosts } from './hosts.js';
import { formatListing } from '../runner/list-tasks.js';
import { createStepper } from './step.js';
import { checkOutputPath, writeAtomic } from './output-file.js';
import { createPlanRecorder, planFileOf, readPlanFile, vetAgainst, type PlanFile, type PlannedTask } from './plan-file.js';
import { askPassword } from './prompt.js';
import { gatherVaultSecrets, type VaultFlags } from './vault-secrets.js';
import { loadAnsibleConfig, type AnsibleConfig } from '../config/ansible-cfg.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `a, b` of --tags and --skip-tags as a list. */
const splitTags = (tags?: string): string[] | undefined => (tags ? tags.split(',').map((t) => t.trim()) : undefined);

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
    return n;
  };
}

function atLeastOne(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1 (got ${JSON.stringify(value)})`);
    return n;
  };
}

function percentage(value: string) {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage from 0 to 100');
  return n;
}

export interface RunFlags {
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
  becomeMethod?: string;
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
  /** -T/--timeout: Ansible's connect timeout (the same as --connect-timeout). */
  timeout?: number;
  taskTimeout?: number;
  tags?: string;
  skipTags?: string;
  retryFile?: string;
  /** -v … -vvvv: how many times -v was given. */
  verbose: number;
  junit?: string;
  detailedExitcode: boolean;
  planOut?: string;
  fromPlan?: string;
  /** The inventory comes from the saved plan, not from the user's command line. */
  planInventory: boolean;
  syntaxCheck: boolean;
  /** --allow-pipe-lookup: inventory text may run programs through lookup('pipe', …). */
  allowPipeLookup?: boolean;
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  startAtTask?: string;
  step: boolean;
  connection?: string;
  /** --engine URL: coordinate the rollout over worker processes (see src/engine/). */
  engine?: string;
  shardSize?: number;
  regionVar?: string;
  regionTimeout?: number;
  vaultId: string[];
  vaultPasswordFile: string[];
  askVaultPass: boolean;
}

/** --start-at-task's test of a task's name, as Ansible's: the name itself, or a glob (fnmatch) matching it. */
async function startAtTask(name: string): Promise<{ name: string; test(taskName: string): boolean }> {
  const glob = (await import('../inventory/patterns.js')).globToRegExp(name);
  return { name, test: (taskName) => taskName === name || glob.test(taskName) };
}

/** -c/--connection: the connection types provision has, by Ansible's names; any other is refused by name. */
export function connectionFlag(type: string): string {
  if (['ssh', 'smart', 'paramiko', 'local', 'ansible.builtin.ssh', 'ansible.builtin.local'].includes(type)) return type;
  throw new InputError(`-c/--connection ${type}: not supported (provision connects with ssh or local)`);
}

/** -vvv: each connection's steps and commands on stderr, -vvvv the SSH protocol's too; secrets redacted. */
export function traceConnections(verbosity: number): void {
  if (verbosity < 3) return;
  traceProtocol(verbosity >= 4);
  setTraceListener((level, host, line) => {
    if (level <= verbosity) process.stderr.write(`<${terminalSafe(host)}> ${terminalSafe(redact(line))}\n`);
  });
}

/** What the command does before its run starts, said by a Ctrl-C then (the run installs its own handler). */
let startingPhase = 'starting';
const startup = (phase: string) => {
  startingPhase = phase;
};
function onStartupSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\nprovision: ${signal}: interrupted while ${startingPhase}; no task ran on any host\n`);
  process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
}

/** Loads the inventories named by -i (default ./inventory) and prints what Ansible would only warn about. */
async function loadInventoryWithWarnings(sources: string[], vault?: VaultFlags, opts: LoadOptions = {}): Promise<Inventory> {
  // The inventory's code (YAML, Jinja2: ~110 modules) loads here, not at start-up: --help and `report` do without it.
  const [{ loadInventory }, { setVaultSecrets }] = await Promise.all([import('../inventory/index.js'), import('../inventory/vault.js')]);
  startup('reading the vault passwords');
  if (vault) setVaultSecrets(await gatherVaultSecrets(vault));
  startup(`loading the inventory (${sources.join(', ') || 'inventory'})`);
  const inventory = await loadInventory(sources.length > 0 ? sources : ['inventory'], opts);
  for (const w of inventory.warnings) process.stderr.write(`provision: warning: ${terminalSafe(w)}\n`);
  return inventory;
}

/**
 * Fills what the command line left unset from ansible.cfg (found as Ansible finds it); options given win.
 * Returns the config, for the inventory defaults it carries (ssh_args).
 */
function applyAnsibleConfig(flags: Partial<RunFlags> & { inventory: string[] } & VaultFlags, given: (name: string) => boolean): AnsibleConfig {
  const cfg = loadAnsibleConfig();
  for (const w of cfg.warnings) process.stderr.write(`provision: warning: ${terminalSafe(w)}\n`);
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
  if (flags.timeout !== undefined) flags.connectTimeout = flags.timeout;
  else if (!given('connectTimeout') && cfg.timeout !== undefined) flags.connectTimeout = cfg.timeout;
  if (!given('become') && cfg.become !== undefined) flags.become = cfg.become;
  if (!given('becomeUser') && cfg.becomeUser) flags.becomeUser = cfg.becomeUser;
  if (!given('askBecomePass') && cfg.becomeAskPass !== undefined) flags.askBecomePass = cfg.becomeAskPass;
  if (!given('becomeMethod') && cfg.becomeMethod !== undefined) flags.becomeMethod = cfg.becomeMethod;
  return cfg;
}

/** What `adhoc` gives `run`'s machinery instead of a playbook file: its one play and its own output. */
export interface AdhocRun {
  plays: Playbook[];
  progress: (o: ProgressOptions) => Progress;
}

/** `provision run` (and, with `adhoc`, `provision adhoc`): the plays over their hosts, the recap, the reports. */
/** What a caller running a shard (a worker) needs of a run: to halt it, to hear of each host's end, and its report. */
export interface RunHooks {
  /** When it aborts, no new task starts (as a first Ctrl-C). */
  halt?: AbortSignal;
  onHostEnd?: (host: string, report: RunReport['hosts'][string]) => void;
  onReport?: (report: RunReport) => void;
  /** Why an executable inventory must not run (it was named by data: a saved plan, a queued shard). */
  refuseScripts?: string;
  /** Check mode: each plan a check made (a worker records its shard's part of an engine run's --plan-out). */
  onPlan?: RunOptions['onPlan'];
  /** A real run: the saved plan's part its hosts are vetted against (a worker's shard of `apply --engine`). */
  plan?: Pick<PlanFile, 'hosts'>;
  /** The become password, asked once by a worker started with -K (not again for each shard). */
  becomePassword?: string;
}

export async function runCommand(playbookPath: string, flags: RunFlags, given: (name: string) => boolean = () => false, adhoc?: AdhocRun, hooks: RunHooks = {}): Promise<number> {
  const out = flags.json ? process.stderr : process.stdout;
  const cfg = applyAnsibleConfig(flags, given);
  if (flags.verbose) process.stderr.write(`provision: ${cfg.path ? `using config file ${cfg.path}` : 'no ansible.cfg found (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg)'}\n`);
  // A saved plan is data: an executable inventory it names runs only when the user names it too (apply -i).
  const refuseScripts = flags.planInventory && flags.fromPlan
    ? `it is named only by the saved plan ${flags.fromPlan}; to run it, name it yourself: provision apply ${flags.fromPlan} ${flags.inventory.map((i) => `-i ${i}`).join(' ')}`
    : hooks.refuseScripts;
  const inventory = await loadInventoryWithWarnings(flags.inventory, flags, { refuseScripts });
  const [{ resolveConnectionVars, becomeMethodOf, allowPipeLookup }, { parseExtraVars }] = await Promise.all([import('../inventory/index.js'), import('./extra-vars.js')]);
  if (flags.allowPipeLookup) allowPipeLookup();
  // the magic variables ansible-playbook's options set (playbook_dir is the current folder for ad-hoc, as in Ansible)
  inventory.setRunVars({
    ...(adhoc ? {} : { playbook_dir: dirname(resolve(playbookPath)) }),
    ansible_check_mode: flags.check,
    ansible_diff_mode: flags.diff,
    ansible_run_tags: [...new Set(splitTags(flags.tags) ?? ['all'])],
    ansible_skip_tags: [...new Set(splitTags(flags.skipTags) ?? [])],
    ansible_forks: flags.forks,
  });
  if (flags.connection !== undefined) inventory.setDefaultVars({ ansible_connection: connectionFlag(flags.connection) }, '-c/--connection');
  if (cfg.sshArgs !== undefined) inventory.setDefaultVars({ ansible_ssh_args: cfg.sshArgs }, `${cfg.path} ([ssh_connection] ssh_args)`);
  // The SSH stack loads while esbuild compiles the playbook in its own process, when any host may need it.
  // (a host whose connection type is not supported fails when its turn comes, if it is in the play: not here)
  const connectionOf = (h: string) => {
    try {
      return resolveConnectionVars(inventory.hostVars(h), h);
    } catch {
      return undefined;
    }
  };
  const sshStack = inventory.hostNames().some((h) => connectionOf(h)?.connection !== 'local')
    ? import('../connection/connect.js')
    : undefined;
  // Where results go is checked before any host is touched: a run must not end unable to say what it did.
  if (flags.report) checkOutputPath(flags.report, '--report');
  if (flags.junit) checkOutputPath(flags.junit, '--junit');
  if (flags.planOut) checkOutputPath(flags.planOut, '--plan-out');
  if (flags.retryFile) checkOutputPath(flags.retryFile, '--retry-file');
  if (!adhoc) startup(`compiling the playbook ${playbookPath}`);
  const plays = adhoc ? adhoc.plays : await loadPlays(playbookPath);
  const extraVars = parseExtraVars(flags.extraVars);
  if (flags.syntaxCheck) {
    // Loaded, compiled and its export checked: as ansible-playbook --syntax-check, no host is contacted.
    process.stdout.write(`playbook: ${playbookPath}\n`);
    return exitCodes.ok;
  }
  checkPatterns(inventory, plays.map((p) => p.hosts), flags.limit);
  const hostsOf = plays.map((play) => selectHosts(inventory, play.hosts, flags.limit));
  const allHosts = [...new Set(hostsOf.flat())];
  if (flags.engine !== undefined) refuseWithEngine(playbookPath, plays, flags, given);
  const saved = flags.fromPlan ? readPlanFile(flags.fromPlan) : undefined;
  if (saved) checkPlanHosts(flags.fromPlan as string, saved, allHosts);
  const vetted = saved ?? hooks.plan;
  const recorder = flags.planOut ? createPlanRecorder() : undefined;
  if (flags.listHosts) {
    for (const [i, play] of plays.entries()) {
      const hosts = hostsOf[i] as string[];
      // `ansible --list-hosts` prints the hosts alone
      if (!adhoc) process.stdout.write(`play: ${play.name} (hosts: ${play.hosts})\n`);
      process.stdout.write(`  hosts (${hosts.length}):\n${hosts.map((h) => `    ${h}\n`).join('')}`);
    }
    return exitCodes.ok;
  }
  // Every password of the play's hosts is a secret from the start, not only once its host connects.
  for (const host of allHosts) {
    const c = connectionOf(host);
    if (c?.password) secret(c.password);
    if (c?.becomePassword) secret(c.becomePassword);
  }
  let becomePassword = hooks.becomePassword;
  const becomeMethod = flags.becomeMethod === undefined ? undefined : becomeMethodOf(flags.becomeMethod, '--become-method');
  if (flags.askBecomePass && becomePassword === undefined) {
    startup('reading the BECOME password (-K)');
    if (flags.verbose && !process.stdin.isTTY) process.stderr.write('provision: reading the BECOME password from stdin (not a terminal)\n');
    becomePassword = secret(await askPassword('BECOME password: '));
  }

  // group_vars/ and host_vars/ beside the playbook win over the inventory's; variables render (Jinja2) when read
  if (!adhoc) inventory.addPlaybookDir(dirname(resolve(playbookPath)));
  /** What the runner needs of one play: its hosts' variables, become and connections. */
  const wiring = (playbook: Playbook) => {
    const varsOf = (host: string): Vars =>
      inventory.templatedVars(
        host,
        { ...(playbook.vars ?? {}), ...extraVars },
        (name) => (Object.hasOwn(extraVars, name) ? 'extra vars (-e)' : `${playbookPath} (vars)`),
        extraVars,
      );
    const becomeOf = (host: string, vars: Vars): BecomeSettings =>
      settleBecome(resolveConnectionVars(vars, host), playbook, { become: flags.become, becomeUser: flags.becomeUser, becomePassword, method: becomeMethod });
    const connect = async (host: string, vars: Vars, become: BecomeSettings): Promise<Connection> => {
      const c = resolveConnectionVars(vars, host);
      if (c.password) secret(c.password);
      if (c.connection === 'local') return new LocalConnection(host, become);
      const { connectHost } = await (sshStack ?? import('../connection/connect.js'));
      return connectHost({
        host,
        address: c.address,
        port: c.port,
        user: c.user ?? flags.user,
        privateKeyFile: c.privateKeyFile ?? flags.privateKey,
        password: c.password,
        extraKnownHostsFiles: flags.knownHosts,
        sshArgs: c.sshArgs,
        acceptNewHostKeys: flags.acceptNewHostKeys,
        connectTimeoutMs: flags.connectTimeout * 1000,
        sshConfigPath: flags.sshConfig,
        persistentShell: flags.persistentShell,
        become,
      });
    };
    return { varsOf, becomeOf, connect };
  };

  if (flags.listTasks || flags.listTags) {
    const listed = plays.map((playbook, i) => ({ playbook, hosts: hostsOf[i] as string[], varsOf: wiring(playbook).varsOf }));
    process.stdout.write(formatListing(playbookPath, listed, { tasks: flags.listTasks, tags: flags.listTags, only: splitTags(flags.tags), skip: splitTags(flags.skipTags) }));
    return exitCodes.ok;
  }
  if (flags.engine !== undefined) return engineRun(playbookPath, plays[0] as Playbook, hostsOf[0] ?? [], inventory, flags, saved);

  const confirmTask = flags.step ? createStepper() : undefined;
  // --step asks in the terminal, and -vvv traces there: the live display would draw over them.
  const tty = out.isTTY === true && process.env.CI === undefined && !flags.step && flags.verbose < 3;
  traceConnections(flags.verbose);
  let progress: Progress | undefined;
  const abort = new AbortController();
  const interrupt = new AbortController();
  setMaxListeners(0, abort.signal, interrupt.signal); // one listener a running task: as many as hosts × forks
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    // Through the progress display, so that its next frame does not draw over the message.
    const say = (notice: string) => (progress ? progress.notice(notice) : process.stderr.write(`${notice}\n`));
    if (interrupts === 1) {
      say(`provision: ${signal}: no new task starts; waiting for running tasks (again to stop them now, keeping the report)`);
      abort.abort();
    } else if (interrupts === 2) {
      // Remote writes are atomic (temp file, checksum, rename): stopping a task leaves no half file.
      say(`provision: ${signal} again: running tasks stop now, marked interrupted; writing the report and recap (again to exit at once)`);
      interrupt.abort();
    } else {
      process.stderr.write(`\nprovision: aborted: no report\n`);
      process.exit(exitCodes.interrupted);
    }
  };
  process.off('SIGINT', onStartupSignal);
  process.off('SIGTERM', onStartupSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (hooks.halt?.aborted) abort.abort();
  else hooks.halt?.addEventListener('abort', () => abort.abort(), { once: true });

  const startAt = flags.startAtTask === undefined ? undefined : await startAtTask(flags.startAtTask);
  let report: RunReport;
  try {
    report = await runPlays({
      plays: plays.map((playbook, i) => ({ playbook, hosts: hostsOf[i] as string[] })),
      // As ansible-playbook: the play is announced and passed over; its report has no hosts (exit 0). As `ansible`: a warning.
      onNoHosts: (playbook) => {
        if (adhoc) process.stderr.write('provision: warning: No hosts matched, nothing to do\n');
        else out.write(`PLAY ${terminalSafe(playbook.name)}\nskipping: no hosts matched\n`);
      },
      around: async (_playbook, _i, run) => {
        const shown: ProgressOptions = { tty, stream: out, diff: flags.diff, color: tty, verbose: flags.verbose > 0, verbosity: flags.verbose };
        const shownNow = adhoc ? adhoc.progress(shown) : await createProgress(shown);
        progress = shownNow;
        try {
          return await run();
        } finally {
          await shownNow.done();
        }
      },
      optionsOf: (playbook, i, hosts) => ({
        playbook,
        playbookPath,
        baseDir: dirname(resolve(playbookPath)),
        hosts,
        ...wiring(playbook),
        forks: flags.forks,
        connectRetries: flags.connectRetries,
        check: flags.check,
        forceHandlers: flags.forceHandlers,
        serial: flags.serial,
        maxFailPercentage: flags.maxFailPercentage,
        anyErrorsFatal: flags.anyErrorsFatal || undefined,
        timeout: flags.taskTimeout,
        tags: splitTags(flags.tags),
        skipTags: splitTags(flags.skipTags),
        startAtTask: startAt,
        confirmTask,
        signal: abort.signal,
        interrupt: interrupt.signal,
        idPrefix: i === 0 ? '' : `play ${i + 1} `,
        onEvent: (e) => {
          progress?.onEvent(e);
          if (e.type === 'host-end') hooks.onHostEnd?.(e.host, e.report);
        },
        onPlan: recorder?.record ?? hooks.onPlan,
        vetPlan: vetted ? (seen) => vetAgainst(vetted, seen) : undefined,
      }),
    });
  } finally {
    // Jump host connections are shared by the hosts behind them and outlive each host's: close them now.
    if (sshStack) await (await sshStack).closeJumpHosts();
  }

  const code = finishRun(report, flags, { playbookPath, hosts: allHosts, plans: recorder?.entries(), plays: plays.map((p) => p.name), adhoc: adhoc !== undefined, out });
  hooks.onReport?.(report);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}

/**
 * How a run ends, for one controller and a coordinator alike: the retry file, the plan (--plan-out), the diff
 * groups, the recap, the reports, and the exit code.
 */
function finishRun(report: RunReport, flags: RunFlags, o: { playbookPath: string; hosts: string[]; plans?: Record<string, PlannedTask[]>; plays: string[]; adhoc: boolean; out: NodeJS.WritableStream }): number {
  const retry = Object.entries(report.hosts)
    .filter(([, h]) => h.status === 'failed' || h.status === 'unreachable' || h.status === 'not run' || h.reason !== undefined)
    .map(([name]) => name);
  // as `ansible`, an ad-hoc command writes no retry file
  if (retry.length > 0 && !flags.check && !o.adhoc) {
    const path = flags.retryFile ?? `${basename(o.playbookPath).replace(/\.[cm]?ts$/, '')}.retry`;
    try {
      writeAtomic(path, `${retry.join('\n')}\n`);
      report.retry_file = path;
    } catch (err) {
      // The recap and the report still come: a retry file that cannot be written is a warning, not a lost run.
      process.stderr.write(`provision: warning: cannot write the retry file ${path}: ${(err as Error).message}\n`);
    }
  }
  report.version = version();
  if (o.plans) savePlan(flags, report, o.plans, { playbookPath: o.playbookPath, hosts: o.hosts }, o.out);
  if (flags.diff) report.diff_groups = reportDiffGroups(report);
  o.out.write(`\n${terminalSafe(formatRecap(report))}\n`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  let reportLost = false;
  for (const [flag, path, text] of [
    ['--report', flags.report, () => json],
    ['--junit', flags.junit, () => formatJunit(report, o.plays.join(', '))],
  ] as const) {
    if (!path) continue;
    try {
      writeAtomic(path, text());
    } catch (err) {
      // Checked writable before the run; it can still fill up or vanish since: said, not a crash.
      process.stderr.write(`provision: error: cannot write the ${flag.slice(2)} report ${path}: ${(err as Error).message}\n`);
      reportLost = true;
    }
  }
  if (flags.json) process.stdout.write(json);
  const code = exitCodeFor(report);
  if (reportLost && code === exitCodes.ok) return exitCodes.badInput;
  // Drift detection: in --check, pending changes on an otherwise clean run get an exit code of their own.
  if (flags.detailedExitcode && code === exitCodes.ok && report.summary.changed > 0) return exitCodes.changesPending;
  return code;
}

/** --plan-out: the plan of a check run where every host planned (none failed, nothing interrupted), or why none. */
function savePlan(flags: RunFlags, report: RunReport, entries: Record<string, PlannedTask[]>, meta: { playbookPath: string; hosts: string[] }, out: NodeJS.WritableStream): void {
  if (!flags.planOut) return;
  const failed = Object.entries(report.hosts).filter(([, h]) => h.status !== 'ok' && h.status !== 'changed');
  if (failed.length > 0 || report.interrupted) {
    out.write(`provision: no plan written: ${failed.map(([name, h]) => `${name} ${h.status}`).join(', ') || 'interrupted'}\n`);
    return;
  }
  const options = { inventory: flags.inventory, limit: flags.limit, extraVars: flags.extraVars, become: flags.become, becomeUser: flags.becomeUser, user: flags.user, privateKey: flags.privateKey, tags: flags.tags, skipTags: flags.skipTags, timeout: flags.taskTimeout };
  // Owner-only: a plan holds what the hosts' files will hold (secrets are redacted, the rest is not).
  writeAtomic(flags.planOut, `${JSON.stringify(planFileOf(entries, { version: version(), ...meta, options }), null, 2)}\n`, 0o600);
  out.write(`provision: plan written to ${flags.planOut}; apply exactly it with: provision apply ${flags.planOut}${flags.engine ? ' --engine URL' : ''}\n`);
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

/** This package's version, as reports and --version give it. */
const version = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Options a plan fixes: `apply` takes them from the plan, never from its command line (-i only to confirm it). */
const planned = ['-l', '--limit', '-e', '--extra-vars', '-b', '--become', '--become-user', '-u', '--user', '--private-key', '-t', '--tags', '--skip-tags', '--task-timeout', '-C', '--check', '--plan-out'];

/** `provision apply plan.json [options]`: `run` of the plan's playbook with the plan's options, vetted against it. */
async function applyCommand(planPath: string, given: string[]): Promise<number> {
  const plan = readPlanFile(planPath);
  const { named, rest } = takeInventories(given);
  const clash = rest.find((a) => planned.includes(a.split('=')[0] as string));
  if (clash) throw new InputError(`apply takes ${clash} from the plan (made with it); make a new plan to change it`);
  const o = plan.options;
  if (named.length > 0 && named.join('\0') !== o.inventory.join('\0')) {
    throw new InputError(
      `apply takes -i from the plan: give it only to confirm the plan's own (${o.inventory.map((i) => `-i ${i}`).join(' ') || 'none'}); make a new plan to change it`,
    );
  }
  process.stderr.write(terminalSafe(describePlan(planPath, plan)));
  const args = [
    plan.playbook.path,
    ...o.inventory.flatMap((i) => ['-i', i]),
    ...(named.length === 0 ? ['--plan-inventory'] : []),
    ...o.extraVars.flatMap((e) => ['-e', e]),
    ...(o.limit !== undefined ? ['--limit', o.limit] : []),
    ...(o.become ? ['--become'] : []),
    ...(o.becomeUser !== undefined ? ['--become-user', o.becomeUser] : []),
    ...(o.user !== undefined ? ['--user', o.user] : []),
    ...(o.privateKey !== undefined ? ['--private-key', o.privateKey] : []),
    ...(o.tags !== undefined ? ['--tags', o.tags] : []),
    ...(o.skipTags !== undefined ? ['--skip-tags', o.skipTags] : []),
    ...(o.timeout !== undefined ? ['--task-timeout', String(o.timeout)] : []),
    '--from-plan',
    planPath,
    ...rest,
  ];
  let code: number = exitCodes.ok;
  await buildProgram((c) => (code = c)).parseAsync(['run', ...args], { from: 'user' });
  return code;
}

/** Splits `-i X`, `-iX`, `--inventory X`, `--inventory=X` from apply's other options. */
function takeInventories(args: string[]): { named: string[]; rest: string[] } {
  const named: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-i' || a === '--inventory') {
      const value = args[++i];
      if (value === undefined) throw new InputError(`${a} needs an inventory`);
      named.push(value);
    } else if (a.startsWith('--inventory=')) named.push(a.slice('--inventory='.length));
    else if (/^-i./.test(a)) named.push(a.slice(2));
    else rest.push(a);
  }
  return { named, rest };
}

/** What `apply` is about to do, before it connects: the plan's playbook, options, inventory and hosts. */
function describePlan(planPath: string, plan: PlanFile): string {
  const o = plan.options;
  const shown = [
    `inventory: ${o.inventory.length > 0 ? o.inventory.join(', ') : 'inventory (the default)'}`,
    o.limit !== undefined ? `limit: ${o.limit}` : '',
    o.extraVars.length > 0 ? `extra vars: ${o.extraVars.join(' ')}` : '',
    o.become ? `become: yes${o.becomeUser !== undefined ? ` (as ${o.becomeUser})` : ''}` : '',
    o.user !== undefined ? `user: ${o.user}` : '',
    o.privateKey !== undefined ? `private key: ${o.privateKey}` : '',
    o.tags !== undefined ? `tags: ${o.tags}` : '',
    o.skipTags !== undefined ? `skip tags: ${o.skipTags}` : '',
    o.timeout !== undefined ? `timeout: ${o.timeout} s` : '',
  ].filter(Boolean);
  const hosts = Object.entries(plan.hosts).map(([h, tasks]) => `${h} (${tasks.filter((t) => t.changed).length} to change)`);
  return `provision: applying ${planPath}, made ${plan.created} for ${plan.playbook.path}\n  ${shown.join('\n  ')}\n  hosts: ${hosts.join(', ')}\n`;
}

/** A plan is for the hosts it was made for: the same hosts must be selected now, no fewer and no more. */
function checkPlanHosts(planPath: string, plan: PlanFile, hosts: string[]): void {
  const missing = Object.keys(plan.hosts).filter((h) => !hosts.includes(h));
  const extra = hosts.filter((h) => !(h in plan.hosts));
  if (missing.length > 0 || extra.length > 0) {
    throw new InputError(
      `${planPath}: the plan was made for other hosts${missing.length ? `; not selected now: ${missing.join(', ')}` : ''}${extra.length ? `; not in the plan: ${extra.join(', ')}` : ''}`,
    );
  }
}

/** `provision report run.json --html page.html --junit junit.xml`: other views of a saved JSON report. */
async function reportCommand(path: string, flags: { html?: string; junit?: string }): Promise<number> {
  if (!flags.html && !flags.junit) throw new InputError('say what to write: --html FILE and/or --junit FILE');
  const report = readRunReport(path);
  if (flags.html) checkOutputPath(flags.html, '--html');
  if (flags.junit) checkOutputPath(flags.junit, '--junit');
  if (flags.html) {
    const { renderHtmlReport } = await import('../report/html.js');
    writeAtomic(flags.html, renderHtmlReport(report));
  }
  if (flags.junit) writeAtomic(flags.junit, formatJunit(report, basename(report.playbook)));
  return exitCodes.ok;
}

/** How to reach and log in to hosts: with --engine, each worker's own options (the coordinator connects to none). */
const workerOptions: Array<[keyof RunFlags, string]> = [
  ['user', '-u/--user'], ['privateKey', '--private-key'], ['knownHosts', '--known-hosts'], ['acceptNewHostKeys', '--accept-new-host-keys'],
  ['sshConfig', '--ssh-config'], ['timeout', '-T/--timeout'], ['connectTimeout', '--connect-timeout'], ['connectRetries', '--connect-retries'],
  ['persistentShell', '--no-persistent-shell'], ['connection', '-c/--connection'], ['becomeMethod', '--become-method'],
];

/** What `run --engine` cannot do, refused by name before anything is asked or read. */
function refuseWithEngine(playbookPath: string, plays: Playbook[], flags: RunFlags, given: (name: string) => boolean): void {
  const theirs = workerOptions.filter(([name]) => given(name)).map(([, flag]) => flag);
  if (theirs.length > 0) throw new InputError(`${theirs.join(', ')} with --engine: how to reach the hosts is each worker's own; give ${theirs.length > 1 ? 'them' : 'it'} to provision worker`);
  if (flags.step) throw new InputError('--step asks at a terminal before each task: the workers have none; it is not supported with --engine');
  if (flags.askBecomePass) throw new InputError("-K/--ask-become-pass with --engine: the become password is each worker's own (start provision worker with -K, or give ansible_become_password in its inventory)");
  if (plays.length !== 1) throw new InputError(`${playbookPath} has ${plays.length} plays: --engine runs a playbook of one play`);
}

/** `run --engine URL`: this process coordinates; workers run the shards (src/engine/coordinator.ts). */
async function engineRun(playbookPath: string, play: Playbook, hosts: string[], inventory: Inventory, flags: RunFlags, saved: PlanFile | undefined): Promise<number> {
  const [{ coordinate }, { splitBatches }] = await Promise.all([import('../engine/coordinator.js'), import('../runner/batches.js')]);
  const regionVar = flags.regionVar ?? 'provision_region';
  // --plan-out: what the workers recorded, by host. (A saved plan, read and checked as for one controller: each shard
  // carries its hosts' part, which its worker vets.)
  const plans: Record<string, PlannedTask[]> = {};
  process.off('SIGINT', onStartupSignal);
  process.off('SIGTERM', onStartupSignal);
  const interrupt = coordinatorSignals();
  const out = flags.json ? process.stderr : process.stdout;
  const report = await coordinate({
    engine: flags.engine as string,
    playbookPath,
    playName: play.name,
    inventory: flags.inventory.length > 0 ? flags.inventory : ['inventory'],
    batches: splitBatches(hosts, flags.serial ?? play.serial),
    regionOf: (h) => {
      const r = inventory.hostVars(h)[regionVar];
      return r === undefined || r === null || r === '' ? 'default' : String(r);
    },
    shardSize: flags.shardSize ?? 50,
    regionTimeout: flags.regionTimeout ?? 300,
    maxFailPercentage: flags.maxFailPercentage ?? play.maxFailPercentage,
    anyErrorsFatal: flags.anyErrorsFatal || (play.anyErrorsFatal ?? false),
    options: { check: flags.check, diff: flags.diff, tags: flags.tags, skipTags: flags.skipTags, extraVars: flags.extraVars, forks: flags.forks, taskTimeout: flags.taskTimeout, anyErrorsFatal: flags.anyErrorsFatal, forceHandlers: flags.forceHandlers, ...(flags.become ? { become: true } : {}), ...(flags.becomeUser !== undefined ? { becomeUser: flags.becomeUser } : {}), ...(flags.startAtTask !== undefined ? { startAtTask: flags.startAtTask } : {}), ...(flags.planOut ? { planOut: true } : {}) },
    plan: saved?.hosts,
    onShardPlans: (entries) => Object.assign(plans, entries),
    signal: interrupt.signal,
    say: (line) => out.write(`${terminalSafe(line)}\n`),
  });
  const code = finishRun(report, flags, { playbookPath, hosts, ...(flags.planOut ? { plans } : {}), plays: [play.name], adhoc: false, out });
  interrupt.release();
  return code;
}

interface ShardFlags extends VaultFlags {
  inventory: string[];
  limit?: string;
  shards: number;
  out: string;
  serial?: string;
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
}

/** `provision shard`: the batches one controller would run, each cut into shards, written as files (see shard.ts). */
async function shardCommand(playbookPath: string, flags: ShardFlags): Promise<number> {
  const { shardManifest, writeShards } = await import('./shard.js');
  const { splitBatches } = await import('../runner/batches.js');
  const inventory = await loadInventoryWithWarnings(flags.inventory, flags);
  const plays = await loadPlays(playbookPath);
  if (plays.length !== 1) throw new InputError(`${playbookPath} has ${plays.length} plays: shards are cut from the batches of a playbook of one play`);
  const play = plays[0]!;
  checkPatterns(inventory, [play.hosts], flags.limit);
  const hosts = selectHosts(inventory, play.hosts, flags.limit);
  const manifest = shardManifest({
    playbook: playbookPath,
    inventory: flags.inventory.length > 0 ? flags.inventory : ['inventory'],
    limit: flags.limit,
    maxFailPercentage: flags.maxFailPercentage ?? play.maxFailPercentage,
    anyErrorsFatal: flags.anyErrorsFatal || (play.anyErrorsFatal ?? false),
    batches: splitBatches(hosts, flags.serial ?? play.serial),
    shards: flags.shards,
    out: flags.out,
  });
  writeShards(manifest, flags.out);
  for (const b of manifest.batches) {
    process.stdout.write(`batch ${b.batch} (${b.hosts.length} hosts): ${b.shards.length} shards\n${b.shards.map((s) => `  ${s.command}\n`).join('')}`);
  }
  process.stdout.write(`then, after each batch: provision merge --shards ${join(flags.out, 'shards.json')} REPORTS…  (exit 0: start the next batch)\n`);
  return exitCodes.ok;
}

interface MergeFlags {
  shards?: string;
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  report?: string;
  junit?: string;
  json: boolean;
}

/** `provision merge`: one report of shards' reports, with the batches' halts decided on whole batches. */
async function mergeCommand(files: string[], flags: MergeFlags): Promise<number> {
  const { mergeShardReports, readManifest } = await import('./shard.js');
  const manifest = flags.shards === undefined ? undefined : readManifest(flags.shards);
  if (flags.report) checkOutputPath(flags.report, '--report');
  if (flags.junit) checkOutputPath(flags.junit, '--junit');
  const merged = mergeShardReports(files.map((file) => ({ file, report: readRunReport(file) })), {
    maxFailPercentage: flags.maxFailPercentage ?? manifest?.max_fail_percentage,
    anyErrorsFatal: flags.anyErrorsFatal || (manifest?.any_errors_fatal ?? false),
    batches: manifest?.batches.map((b) => b.hosts),
  });
  const text = `${JSON.stringify(merged, null, 2)}\n`;
  if (flags.report) writeAtomic(flags.report, text);
  if (flags.junit) writeAtomic(flags.junit, formatJunit(merged, basename(merged.playbook)));
  if (flags.json) process.stdout.write(text);
  (flags.json ? process.stderr : process.stdout).write(`${terminalSafe(formatRecap(merged))}\n`);
  return exitCodeFor(merged);
}

/** The vault options, the same on every command that loads an inventory. */
function addVaultOptions(command: Command): Command {
  return command
    .option('--vault-id <label@source>', 'a vault password: source is a file, an executable script or "prompt" (repeatable)', collect, [])
    .option('--vault-password-file <file>', 'a vault password file, or an executable that prints it (repeatable)', collect, [])
    .option('-J, --ask-vault-pass', 'ask for the vault password (read from stdin when not a terminal)', false);
}

/** The options `run` and `adhoc` share: inventory, hosts, connection, become, check, output. */
function addRunOptions(command: Command): Command {
  return command
    .addOption(new Option('-i, --inventory <path>', 'inventory file or directory (repeatable)').argParser(collect).default([], './inventory'))
    .option('-l, --limit <pattern>', 'restrict to hosts matching a pattern (or @file of host names)')
    .option('-f, --forks <n>', 'hosts run in parallel', atLeastOne('--forks'), 10)
    .option('-C, --check', 'plan only: report what would change, change nothing', false)
    .option('-D, --diff', 'show unified diffs of file changes', false)
    .option('-u, --user <name>', 'SSH user when the inventory names none')
    .option('--private-key <file>', 'SSH private key when the inventory names none')
    .option('-b, --become', 'run tasks through sudo', false)
    .option('--become-user <name>', 'the user to become (default root)')
    .option('--become-method <method>', 'sudo (default), or su (from a root login only: su asks its password on a terminal)')
    .option('-K, --ask-become-pass', 'ask for the sudo password (read from stdin when not a terminal)', false)
    .option('--accept-new-host-keys', 'accept and record host keys not yet in known_hosts (a changed key is still refused)', false)
    .option('--known-hosts <file>', 'known_hosts file to check host keys against, before ~/.ssh/known_hosts (repeatable)', collect, [])
    .option('--ssh-config <file>', 'ssh config file (default ~/.ssh/config)')
    .option('-T, --timeout <seconds>', "connect timeout, as Ansible's -T (the same as --connect-timeout)", atLeastOne('--timeout'))
    .option('--connect-timeout <seconds>', 'SSH connect timeout', atLeastOne('--connect-timeout'), 10)
    .option('--connect-retries <n>', 'retries of a refused or reset connect, with backoff', positiveInt('--connect-retries'), 2)
    .option('--no-persistent-shell', 'open an SSH channel a command instead of one long-lived shell per host')
    .option('--json', 'print the JSON report on stdout (progress goes to stderr)', false)
    .option('--report <file>', 'write the JSON report to a file')
    .option('-e, --extra-vars <vars>', 'key=value, a JSON/YAML object, or @file; highest precedence (repeatable)', collect, [])
    .option('--task-timeout <seconds>', 'default timeout of each task (Ansible: TASK_TIMEOUT in ansible.cfg)', positiveInt('--task-timeout'))
    .option('-v, --verbose', 'more output, up to -vvvv: -v every task, -vv their output, -vvv commands sent and connection steps, -vvvv SSH protocol debug (secrets redacted)', (_: string, n: number) => n + 1, 0)
    .option('-c, --connection <type>', "connection where the inventory sets no ansible_connection: ssh (Ansible's smart) or local")
    .option('--allow-pipe-lookup', "let variables' lookup('pipe', …) run programs on the controller (or PROVISION_ALLOW_PIPE_LOOKUP=1)", false);
}

/** Builds the command-line program; `main` runs it. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('provision')
    .description('Agentless provisioner: TypeScript playbooks applied over SSH across an inventory.')
    .version(version())
    .showHelpAfterError('(add --help for the options)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  provision run playbooks/daemon.ts -i inventory --check --diff    what would change, per host
  provision run playbooks/daemon.ts -i inventory                   apply it
  provision run site.ts -i hosts.ini --serial 1,10%,100% --max-fail-percentage 0
  provision adhoc web -i hosts.ini -m shell -a 'uptime'               one module on a pattern's hosts, as ansible
  provision inventory -i hosts.ini --graph                         the group tree
  provision report run.json --html run.html                        a page of a saved report`,
    );

  addRunOptions(program
    .command('run')
    .description('apply a playbook to the hosts of an inventory')
    .argument('<playbook>', 'a .ts file that default-exports definePlaybook({...})'))
    .option('--serial <batches>', 'rollout batches: 5, 25% or a ramp 1,10%,100%')
    .option('--max-fail-percentage <pct>', 'halt the rollout when more than this share of a batch fails', percentage)
    .option('--any-errors-fatal', 'halt the rollout at the first failure', false)
    .option('--force-handlers', 'run notified handlers even after a failure', false)
    .option('-t, --tags <tags>', 'only run tasks with these tags (comma-separated)')
    .option('--skip-tags <tags>', 'skip tasks with any of these tags (comma-separated)')
    .option('--retry-file <file>', 'where to list failed, unreachable and not-run hosts (default <playbook>.retry)')
    .option('--start-at-task <name>', 'start at the first task of this name (or glob), as ansible-playbook does')
    .option('--step', 'ask before each task: (N)o/(y)es/(c)ontinue (needs a terminal)', false)
    .option('--syntax-check', 'load and check the playbook (and the inventory), contact no host', false)
    .option('--list-hosts', 'list the hosts the play would run on, contact none', false)
    .option('--list-tasks', 'list the tasks --tags/--skip-tags select, with their tags, as ansible-playbook does (contacts no host: facts unknown)', false)
    .option('--list-tags', 'list the tags of the tasks --tags/--skip-tags select (contacts no host)', false)
    .option('--junit <file>', 'write a JUnit XML report (a test case per host and task) for CI')
    .option('--detailed-exitcode', `with --check: exit ${exitCodes.changesPending} when changes are pending, 0 when every host is converged`, false)
    .option('--plan-out <file>', 'with --check: save the plan, to apply exactly it later with provision apply FILE')
    .option('--engine <url>', 'coordinate the rollout over `provision worker` processes: redis://HOST:PORT or postgres://USER@HOST:PORT/DB')
    .option('--shard-size <n>', 'with --engine: at most this many hosts a shard (default 50)', atLeastOne('--shard-size'))
    .option('--region-var <name>', 'with --engine: the host variable naming its region (default provision_region)')
    .option('--region-timeout <seconds>', "with --engine: how long a shard waits for a worker of its region before its hosts fail (default 300)", atLeastOne('--region-timeout'))
    .addOption(new Option('--from-plan <file>', 'apply a saved plan (what provision apply does)').hideHelp())
    .addOption(new Option('--plan-inventory', 'the inventory is the saved plan\'s, not named by the user: its scripts are not run').default(false).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  provision run playbooks/daemon.ts -i inventory --check --diff
  provision run site.ts -i hosts.ini -l 'web:!web3' --become -K
  provision run site.ts -i hosts.ini --check --detailed-exitcode   drift check for CI or cron
  provision run site.ts -i hosts.ini --report run.json --junit junit.xml`,
    )
    .action(async (playbook: string, flags: RunFlags, command: Command) => {
      if (flags.detailedExitcode && !flags.check) throw new InputError('--detailed-exitcode reports pending changes: use it with --check');
      if (flags.planOut && !flags.check) throw new InputError('--plan-out saves what would change: use it with --check');
      if (flags.fromPlan && flags.check) throw new InputError('a saved plan is applied, not checked: drop --check');
      setExit(await runCommand(playbook, flags, (name) => command.getOptionValueSource(name) === 'cli'));
    });

  addVaultOptions(
    addRunOptions(
      program
        .command('adhoc')
        .description('run one module on the hosts of a pattern, as `ansible PATTERN -m MODULE -a ARGS` does')
        .argument('<pattern>', "a host pattern, as a play's hosts: all, web, 'web:!web3', h1,h2 …"),
    )
      .option('-m, --module-name <module>', "a module of provision's (command, shell, copy, packages …; ansible.builtin.NAME too), or a module file ./mod.ts[#export]", 'command')
      .option('-a, --args <args>', "the module's arguments: key=value words, or a JSON object; free text for command and shell")
      .option('--list-hosts', 'list the hosts the command would run on, contact none', false)
      .addHelpText(
        'after',
        `
Examples:
  provision adhoc web -i hosts.ini -m shell -a 'uptime'
  provision adhoc db -i hosts.ini -b -m packages -a 'present=postgresql'
  provision adhoc all -i hosts.ini -m copy -a '{"dest": "/etc/motd", "content": "hi\\n"}' --check --diff`,
      ),
  ).action(async (pattern: string, flags: RunFlags & { moduleName: string; args?: string }, command: Command) => {
    const { adhocRun } = await import('./adhoc.js');
    const adhoc = await adhocRun(pattern, flags.moduleName, flags.listHosts ? undefined : flags.args, flags.listHosts);
    const defaults = { serial: undefined, anyErrorsFatal: false, forceHandlers: false, syntaxCheck: false, listTasks: false, listTags: false, step: false, detailedExitcode: false };
    setExit(await runCommand(`adhoc ${pattern} -m ${flags.moduleName}`, { ...defaults, ...flags }, (name) => command.getOptionValueSource(name) === 'cli', adhoc));
  });

  program
    .command('inventory')
    .description('show an inventory as ansible-inventory does')
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable)', collect, [])
    .addOption(new Option('--list', 'all groups and hosts as JSON, with merged variables').conflicts(['graph', 'host']))
    .addOption(new Option('--graph', 'the group tree').conflicts(['host']))
    .option('--host <name>', "one host's merged variables as JSON")
    .action(async (flags) => setExit(await inventoryCommand(flags)));

  addRunOptions(
    program
      .command('worker')
      .description('run the shards of rollouts coordinated with run --engine, with this checkout and these connection options'),
  )
    .requiredOption('--engine <url>', 'the engine: redis://HOST:PORT or postgres://USER@HOST:PORT/DB')
    .option('--region <name>', 'take the shards of this region (the hosts\' provision_region)', 'default')
    .option('--concurrency <n>', 'shards run at once', atLeastOne('--concurrency'), 1)
    .option('--name <name>', 'the name reports give this worker (default HOSTNAME-PID)')
    .option('--lock-duration <seconds>', "how long a lost worker's shard takes to be declared lost", atLeastOne('--lock-duration'), 60)
    .action(async (flags: RunFlags & { engine: string; region: string; concurrency: number; name?: string; lockDuration: number }, command: Command) => {
      const { workerCommand } = await import('../engine/worker.js');
      const defaults = { serial: undefined, anyErrorsFatal: false, forceHandlers: false, syntaxCheck: false, listHosts: false, listTasks: false, listTags: false, step: false, detailedExitcode: false, planInventory: false };
      const given = (name: string) => command.getOptionValueSource(name) === 'cli';
      setExit(await workerCommand({ ...defaults, ...flags }, (playbook, runFlags, hooks) => runCommand(playbook, runFlags, given, undefined, hooks)));
    });

  program
    .command('shard')
    .description('cut a rollout into shards for runners without an engine (CI matrix, Kubernetes Indexed Job): each batch\'s shards as host lists and commands')
    .argument('<playbook>', 'a .ts file that default-exports definePlaybook({...}) of one play')
    .addOption(new Option('-i, --inventory <path>', 'inventory file or directory (repeatable)').argParser(collect).default([], './inventory'))
    .option('-l, --limit <pattern>', 'restrict to hosts matching a pattern (or @file of host names)')
    .requiredOption('--shards <n>', 'shards per batch (runners working at once)', atLeastOne('--shards'))
    .option('--out <dir>', 'the folder to write (new or empty)', 'shards')
    .option('--serial <batches>', "rollout batches, as run's --serial (default: the playbook's)")
    .option('--max-fail-percentage <pct>', 'recorded for merge: halt when more than this share of a batch fails', percentage)
    .option('--any-errors-fatal', 'recorded for merge: halt at any failure of a batch', false)
    .action(async (playbook: string, flags: ShardFlags) => setExit(await shardCommand(playbook, flags)));

  // these commands load inventories, so they take the vault options
  for (const command of program.commands) if (command.name() !== 'adhoc') addVaultOptions(command);

  program
    .command('resume')
    .description('go on with a rollout of run --engine whose coordinator was lost, from the engine: the batches that ended are kept, none is run twice')
    .argument('<run-id>', 'the run id run --engine printed (run ID)')
    .requiredOption('--engine <url>', 'the engine of the run: redis://HOST:PORT or postgres://USER@HOST:PORT/DB')
    .option('--region-timeout <seconds>', "how long a shard waits for a worker of its region before its hosts fail (default: the run's)", atLeastOne('--region-timeout'))
    .option('--report <file>', 'write the JSON report to a file')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json', 'print the JSON report on stdout (the lines go to stderr)', false)
    .action(async (runId: string, flags: import('./resume.js').ResumeFlags) => {
      process.off('SIGINT', onStartupSignal);
      process.off('SIGTERM', onStartupSignal);
      setExit(await (await import('./resume.js')).resumeCommand(runId, flags));
    });

  program
    .command('apply')
    .description('apply a plan saved by run --check --plan-out: exactly its changes; a host whose state no longer matches it is refused')
    .argument('<plan>', 'a plan file')
    .argument('[options...]', 'connection and output options of run (--known-hosts, -K, --json, --report, --forks …)')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (planPath: string, rest: string[]) => setExit(await applyCommand(planPath, rest)));

  program
    .command('report')
    .description('turn a JSON report (run --report FILE) into a self-contained HTML page or a JUnit XML file')
    .argument('<report>', 'a JSON report written by provision run --report or --json')
    .option('--html <file>', 'write one HTML page: timeline of batches and hosts, task × host matrix, diffs, failures')
    .option('--junit <file>', 'write a JUnit XML report')
    .action(async (path: string, flags: { html?: string; junit?: string }) => setExit(await reportCommand(path, flags)));

  program
    .command('merge')
    .description("one report of shards' reports (provision shard): max-fail and any-errors-fatal decided on each whole batch")
    .argument('<reports...>', 'JSON reports written by the shards\' runs (--report)')
    .option('--shards <file>', 'the manifest provision shard wrote (shards.json): batches and halting rules')
    .option('--max-fail-percentage <pct>', "halt when more than this share of a batch fails (default: the manifest's)", percentage)
    .option('--any-errors-fatal', 'halt at any failure of a batch', false)
    .option('--report <file>', 'write the merged JSON report to a file')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json', 'print the merged JSON report on stdout (the recap goes to stderr)', false)
    .action(async (files: string[], flags: MergeFlags) => setExit(await mergeCommand(files, flags)));

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
  startup('starting');
  process.on('SIGINT', onStartupSignal);
  process.on('SIGTERM', onStartupSignal);
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
      process.stderr.write(`provision: error: ${terminalSafe(err.message)}\n`);
      return exitCodes.badInput;
    }
    if (err instanceof ProvisionError) {
      process.stderr.write(`provision: error: ${terminalSafe(err.message)}\n`);
      return exitCodes.hostFailed;
    }
    process.stderr.write(`provision: internal error (please report it): ${(err as Error).stack ?? String(err)}\n`);
    return exitCodes.internal;
  } finally {
    process.off('SIGINT', onStartupSignal);
    process.off('SIGTERM', onStartupSignal);
  }
}
