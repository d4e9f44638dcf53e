// Lookups on the controller: pipe only when the run opts in, a lookup in a connection variable, the password file.
import { match, ok, strictEqual, throws } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { allowPipeLookup, loadInventory, PIPE_LOOKUP_ENV, resolveConnectionVars } from '../../../src/inventory/index.js';

describe('lookups on the controller', function () {
  let dir: string;
  let file: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'provision-jinja-lookups-'));
    file = join(dir, 'hosts.yml');
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'motd.j2'), '{{ greeting }} from {{ inventory_hostname }}{% if nosuch %}!{% endif %}\n');
    writeFileSync(join(dir, 'templates', 'ok.j2'), '{{ greeting }} from {{ inventory_hostname }}\n');
    writeFileSync(
      file,
      `all:
  hosts:
    h1:
      ansible_connection: local
      ansible_user: "{{ lookup('pipe', 'id -un') }}"
      greeting: hello
      piped: "{{ lookup('pipe', 'printf \\"%s\\" piped-output') }}"
      generated: "{{ lookup('password', 'credentials/h1/db length=24 chars=digits') }}"
      rendered: "{{ lookup('template', 'ok.j2') }}"
      rendered_undefined: "{{ lookup('template', 'motd.j2') }}"
      unknown: "{{ lookup('nosuchlookup', 'x') }}"
`,
    );
  });
  after(function () {
    allowPipeLookup(false);
    delete process.env[PIPE_LOOKUP_ENV];
    rmSync(dir, { recursive: true, force: true });
  });

  async function vars(): Promise<Record<string, unknown>> {
    const inventory = await loadInventory([file]);
    inventory.setRunVars({ playbook_dir: dir });
    return inventory.templatedVars('h1');
  }

  it('pipe is refused, naming the option and the variable, unless the run opts in', async function () {
    const v = await vars();
    throws(() => v['piped'], (err: Error) => err.message.includes('variable "piped"') && err.message.includes('--allow-pipe-lookup') && err.message.includes(PIPE_LOOKUP_ENV));
    process.env[PIPE_LOOKUP_ENV] = '1';
    strictEqual((await vars())['piped'], 'piped-output');
    delete process.env[PIPE_LOOKUP_ENV];
    allowPipeLookup();
    strictEqual((await vars())['piped'], 'piped-output');
    allowPipeLookup(false);
  });

  it('a lookup in a connection variable gives the connection its value (mitogen: ansible_user from pipe)', async function () {
    allowPipeLookup();
    const c = resolveConnectionVars(await vars(), 'h1');
    strictEqual(c.user, userInfo().username);
    strictEqual(c.connection, 'local');
    allowPipeLookup(false);
  });

  it('password writes a new password to its file (relative to playbook_dir) and reads it back after', async function () {
    const first = (await vars())['generated'] as string;
    match(first, /^\d{24}$/);
    const path = join(dir, 'credentials', 'h1', 'db');
    ok(existsSync(path));
    strictEqual(readFileSync(path, 'utf8'), `${first}\n`);
    strictEqual((await vars())['generated'], first);
  });

  it("template renders a file of templates/ with the host's variables; an undefined name in it names the file", async function () {
    const v = await vars();
    strictEqual(v['rendered'], 'hello from h1\n');
    throws(() => v['rendered_undefined'], (err: Error) => err.message.includes('variable "rendered_undefined"') && err.message.includes('motd.j2') && err.message.includes("'nosuch' is undefined"));
    throws(() => v['unknown'], /the lookup "nosuchlookup" is not supported \(supported: env, file, password, pipe, template\)/);
  });
});
