// The command line's side of inventory Jinja: --allow-pipe-lookup (and its environment variable) for a lookup in a
// connection variable of a local host, omit leaving a parameter out, an undefined name failing the run.
import { ok, strictEqual } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';

describe('provision adhoc: Jinja in variables and arguments', function () {
  this.timeout(60_000);
  let dir: string;
  let inventory: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'provision-jinja-cli-'));
    inventory = join(dir, 'hosts.ini');
    writeFileSync(inventory, `h1 ansible_connection=local ansible_user="{{ lookup('pipe', 'id -un') }}"\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const made = (name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    runCli(['adhoc', 'h1', '-i', inventory, '-m', 'file', '-a', `path=${join(dir, name)} state=directory mode={{ dir_mode | default(omit) }}`, ...extra], { cwd: dir, env });

  it('a pipe lookup in a connection variable is refused without the option, naming it; nothing is done', async function () {
    const r = await made('refused');
    ok(r.code !== 0, r.stdout);
    // the host's connection cannot be made: it is reported with the variable and the option to give
    const said = r.stdout + r.stderr;
    ok(said.includes('--allow-pipe-lookup') && said.includes('PROVISION_ALLOW_PIPE_LOOKUP'), said);
    ok(said.includes('variable "ansible_user"'), said);
    ok(!existsSync(join(dir, 'refused')));
  });

  it('with --allow-pipe-lookup, or PROVISION_ALLOW_PIPE_LOOKUP=1, the local host runs; a mode given omit is left out', async function () {
    const r = await made('allowed', ['--allow-pipe-lookup']);
    strictEqual(r.code, 0, r.stderr + r.stdout);
    ok(statSync(join(dir, 'allowed')).isDirectory());
    const e = await made('by-env', [], { PROVISION_ALLOW_PIPE_LOOKUP: '1' });
    strictEqual(e.code, 0, e.stderr + e.stdout);
    ok(statSync(join(dir, 'by-env')).isDirectory());
  });

  it('an undefined name in an argument fails naming it', async function () {
    const r = await runCli(['adhoc', 'h1', '-i', inventory, '--allow-pipe-lookup', '-m', 'file', '-a', `path=${join(dir, 'x')}{{ nosuch }} state=directory`], { cwd: dir });
    ok(r.code !== 0);
    ok(r.stderr.includes("'nosuch' is undefined"), r.stderr);
    ok(!existsSync(join(dir, 'x')));
  });
});
