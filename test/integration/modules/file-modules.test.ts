// file, copy, template, lineinfile and sync against a real host (this machine through LocalConnection), in a temp dir.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';
import { CommandError, InputError, TemplateError } from '../../../src/errors.js';
import { copy, file, lineinfile, sync, template } from '../../../src/modules/index.js';
import type { Plan, Task, TaskContext, Vars } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { checkApplyTrips } from '../../helpers/round-trips.js';

const isRoot = process.getuid?.() === 0;
/** A name with everything a shell could misread: spaces, quotes, $(), backticks, a newline, non-ASCII. */
const odd = `sp ace 'q' "d" $(touch PWNED) \`touch PWNED2\` ;&|\nnl é✓`;
/** The same without the newline, for a value that must stay on one line. */
const oddLine = odd.replace('\n', ' ');

/** Every entry below `dir`: type, mode, owner, size, mtime and content checksum or link target. */
function snapshot(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const st = lstatSync(abs);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(abs)}`
        : st.isFile()
          ? createHash('sha256').update(readFileSync(abs)).digest('hex')
          : '';
      lines.push(`${rel}${name} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : st.size} ${st.mtimeMs} ${what}`);
      if (st.isDirectory()) walk(abs, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return lines.join('\n');
}

describe('file modules on a real host (LocalConnection)', function () {
  let root: string;
  let base: string;
  let conn: LocalConnection;
  const ctxFor = (checkMode: boolean, vars: Vars = {}): TaskContext =>
    createContext({ host: 'local', conn, vars, facts: debianFacts(), checkMode, become: false, baseDir: base });

  /** Check only (as --check); asserts the host did not change. */
  async function checkOnly(task: Task, vars?: Vars): Promise<Plan> {
    const before = snapshot(root);
    const plan = await task.check(ctxFor(true, vars));
    assert.equal(snapshot(root), before, 'check() changed the host');
    return plan;
  }
  /** Check then apply what it planned, as a normal run. */
  async function run(task: Task, vars?: Vars): Promise<Plan> {
    const ctx = ctxFor(false, vars);
    const plan = await task.check(ctx);
    if (plan.changed) await task.apply(ctx, plan);
    return plan;
  }
  /** Fresh → changed (check predicted it and changed nothing), then converged → ok. */
  async function converge(task: Task, vars?: Vars): Promise<Plan> {
    const predicted = await checkOnly(task, vars);
    assert.equal(predicted.changed, true, `expected a change, got: ${predicted.summary}`);
    const plan = await run(task, vars);
    assert.equal(plan.changed, true);
    assert.equal(plan.summary, predicted.summary);
    const again = await checkOnly(task, vars);
    assert.equal(again.changed, false, `second run still changes: ${again.summary}`);
    return plan;
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'modules-'));
    base = join(root, '.playbook');
    mkdirSync(base);
    conn = new LocalConnection('local');
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });
  afterEach(() => {
    assert.ok(!readdirSync(process.cwd()).some((n) => n.startsWith('PWNED')), 'a value was run by the shell');
  });

  describe('file', () => {
    it('creates a directory with mode, then converges', async () => {
      const dir = join(root, odd);
      const plan = await converge(file({ path: dir, state: 'directory', mode: '0770' }));
      assert.equal(plan.summary, 'absent → directory, mode 0770');
      assert.equal(lstatSync(dir).mode & 0o7777, 0o770);
      const plan2 = await run(file({ path: dir, state: 'directory', mode: 'u=rwx,g=rx,o=rx' }));
      assert.equal(plan2.summary, 'mode 0770 → 0755');
      assert.equal(lstatSync(dir).mode & 0o7777, 0o755);
    });

    it('changes owner and group, and recurses (as root)', async function () {
      if (!isRoot) this.skip();
      const dir = join(root, 'www');
      mkdirSync(join(dir, 'sub'), { recursive: true });
      writeFileSync(join(dir, 'sub', 'f'), 'x');
      const plan = await converge(file({ path: dir, state: 'directory', owner: 'nobody', group: 'nogroup', recurse: true }));
      assert.equal(plan.summary, 'owner root → nobody, group root → nogroup, 2 entries below need owner nobody, group nogroup');
      assert.equal(lstatSync(join(dir, 'sub', 'f')).uid, 65534);
      await converge(file({ path: dir, state: 'directory', mode: 'u=rwX,g=rX,o=', recurse: true }));
      assert.equal(lstatSync(join(dir, 'sub', 'f')).mode & 0o777, 0o640);
      assert.equal(lstatSync(join(dir, 'sub')).mode & 0o777, 0o750);
    });

    it('touch creates a missing file and leaves an existing one (content and times) alone', async () => {
      const f = join(root, `${odd}.txt`);
      const plan = await converge(file({ path: f, state: 'touch', mode: '0600' }));
      assert.equal(plan.summary, 'absent → file, mode 0600');
      writeFileSync(f, 'content');
      const mtime = lstatSync(f).mtimeMs;
      const again = await run(file({ path: f, state: 'touch', mode: '0600' }));
      assert.equal(again.changed, false);
      assert.equal(lstatSync(f).mtimeMs, mtime);
      assert.equal(readFileSync(f, 'utf8'), 'content');
    });

    it('makes links, retargets them, and replaces a file only with force', async () => {
      const l = join(root, 'link');
      // a relative src must exist, looked for from the link's folder (as Ansible's file.py), unless force
      await assert.rejects(run(file({ path: l, state: 'link', src: odd })), /^MissingOnHostError: src file does not exist, use "force=yes" if you really want to create the link: .*modules-.*\/sp ace/);
      mkdirSync(join(root, odd));
      assert.equal((await converge(file({ path: l, state: 'link', src: odd }))).summary, `absent → link to ${odd}`);
      assert.equal(readlinkSync(l), odd);
      assert.equal((await converge(file({ path: l, state: 'link', src: '/etc' }))).summary, `link to ${odd} → link to /etc`);
      const f = join(root, 'plain');
      writeFileSync(f, 'x');
      await assert.rejects(run(file({ path: f, state: 'link', src: '/etc' })), /exists and is a file; set force: true/);
      await converge(file({ path: f, state: 'link', src: '/etc', force: true }));
      assert.equal(readlinkSync(f), '/etc');
    });

    it('removes a tree with state absent', async () => {
      const dir = join(root, 'gone');
      mkdirSync(join(dir, 'a'), { recursive: true });
      assert.equal((await converge(file({ path: dir, state: 'absent' }))).summary, 'directory → absent');
      assert.throws(() => lstatSync(dir));
    });

    it('refuses a missing path for state file, and bad parameters when the task is built', async () => {
      await assert.rejects(run(file({ path: join(root, 'nope'), state: 'file' })), /does not exist/);
      assert.throws(() => file({ path: 'relative/x', state: 'directory' }), (e: Error) => e instanceof InputError && /absolute path/.test(e.message));
      // @ts-expect-error: '999' is not a mode
      assert.throws(() => file({ path: '/x', state: 'directory', mode: '999' }), /invalid mode '999'/);
      // @ts-expect-error: not a state
      assert.throws(() => file({ path: '/x', state: 'present' }), /state must be one of/);
    });
  });

  describe('copy', () => {
    it('writes content literally to an odd path, with a unified diff, then converges', async () => {
      const dest = join(root, odd);
      const text = `value=$(id) \`id\` '"\n${odd}\n`;
      const plan = await converge(copy({ dest, content: text, mode: '0640' }));
      assert.equal(plan.summary, `absent → file (${Buffer.byteLength(text)} bytes), mode 0640`);
      assert.deepEqual(plan.diff, [{ path: dest, before: null, after: text }]);
      assert.equal(readFileSync(dest, 'utf8'), text);
      assert.equal(lstatSync(dest).mode & 0o777, 0o640);
      const changed = await converge(copy({ dest, content: 'new\n', mode: '0640' }));
      assert.deepEqual(changed.diff, [{ path: dest, before: text, after: 'new\n' }]);
    });

    it('copies a local file relative to the playbook, and changes only the mode when content matches', async () => {
      writeFileSync(join(base, 'app.conf'), 'a=1\n');
      const dest = join(root, 'app.conf');
      await converge(copy({ src: 'app.conf', dest }));
      assert.equal(readFileSync(dest, 'utf8'), 'a=1\n');
      const plan = await converge(copy({ src: 'app.conf', dest, mode: '0600' }));
      assert.match(plan.summary ?? '', /^mode 0\d{3} → 0600$/);
      assert.equal(plan.diff, undefined);
    });

    it('notes binary and huge content instead of a text diff', async () => {
      const bin = join(root, 'bin');
      writeFileSync(bin, Buffer.from([1, 2, 0, 3]));
      const plan = await converge(copy({ dest: bin, content: Buffer.from([0, 0xff]) }));
      assert.equal(plan.diff?.[0]?.note, 'binary differs');
      const big = join(root, 'big');
      writeFileSync(big, 'x'.repeat(300 * 1024));
      const p2 = await converge(copy({ dest: big, content: 'small\n' }));
      assert.equal(p2.diff?.[0]?.note, `size ${300 * 1024} → 6 bytes`);
    });

    it('force: false writes only when missing; backup keeps the old file', async () => {
      const dest = join(root, 'f');
      writeFileSync(dest, 'old\n');
      assert.equal((await checkOnly(copy({ dest, content: 'new\n', force: false }))).changed, false);
      await converge(copy({ dest, content: 'new\n', backup: true }));
      const backups = readdirSync(root).filter((n) => /^f\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/.test(n));
      assert.equal(backups.length, 1);
      assert.equal(readFileSync(join(root, backups[0] as string), 'utf8'), 'old\n');
    });

    it('a failing validate keeps the old file, leaves no temporary file, and fails with its stderr', async () => {
      const dest = join(root, 'conf');
      writeFileSync(dest, 'good\n');
      const task = copy({ dest, content: 'bad\n', validate: `sh -c 'grep -q good "$1" || { echo "syntax error in $1" >&2; exit 1; }' -- %s` });
      await assert.rejects(run(task), (e: Error) => e instanceof CommandError && /syntax error in .*\.provision-/.test(e.message));
      assert.equal(readFileSync(dest, 'utf8'), 'good\n');
      assert.deepEqual(readdirSync(root).sort(), ['.playbook', 'conf']);
      await converge(copy({ dest, content: 'good too\n', validate: 'grep -q good %s' }));
    });

    it('refuses src and content together, and relative dest', () => {
      // @ts-expect-error: src and content are exclusive
      assert.throws(() => copy({ dest: '/x', src: 'a', content: 'b' }), /exactly one of src or content/);
      assert.throws(() => copy({ dest: 'x', content: 'b' }), /dest must be an absolute path/);
      assert.throws(() => copy({ dest: '/x', content: 'b', validate: 'true' }), /validate must be a command containing %s/);
    });
  });

  describe('template', () => {
    it('renders host vars, facts and task vars raw, then converges', async () => {
      writeFileSync(join(base, 'site.conf.ejs'), '# <%= facts.os.id %>\nServerName <%= server %>\nWSGIDaemonProcess <%= name %> home="<%= home %>"\n');
      const dest = join(root, 'site.conf');
      const vars = { server: 'a&b <x>', name: 'ignored' };
      const plan = await converge(template({ src: 'site.conf.ejs', dest, vars: { name: 'mysite', home: odd } }), vars);
      const want = `# debian\nServerName a&b <x>\nWSGIDaemonProcess mysite home="${odd}"\n`;
      assert.equal(readFileSync(dest, 'utf8'), want);
      assert.deepEqual(plan.diff, [{ path: dest, before: null, after: want }]);
    });

    it('fails on a missing variable, naming template, line and variable, before touching the host', async () => {
      writeFileSync(join(base, 't.ejs'), 'a\n<%= missing_var %>\n');
      const dest = join(root, 't');
      await assert.rejects(run(template({ src: 't.ejs', dest })), (e: Error) => e instanceof TemplateError && e.message === "t.ejs:2: undefined variable 'missing_var'");
      assert.throws(() => lstatSync(dest));
    });
  });

  describe('lineinfile', () => {
    it('creates, replaces the last match, and removes all matches, converging each time', async () => {
      const path = join(root, odd, 'sshd_config');
      const p1 = await converge(lineinfile({ path, line: 'PermitRootLogin no', create: true }));
      assert.equal(p1.summary, 'absent → file, line added');
      writeFileSync(path, '#PermitRootLogin yes\nPort 22\nPermitRootLogin yes\n');
      const p2 = await converge(lineinfile({ path, regexp: '^#?PermitRootLogin', line: `PermitRootLogin ${oddLine}` }));
      assert.equal(p2.summary, 'line replaced');
      assert.deepEqual(p2.diff, [{ path, before: '#PermitRootLogin yes\nPort 22\nPermitRootLogin yes\n', after: `#PermitRootLogin yes\nPort 22\nPermitRootLogin ${oddLine}\n` }]);
      const p3 = await converge(lineinfile({ path, regexp: 'PermitRootLogin', state: 'absent' }));
      assert.equal(p3.summary, '2 line(s) removed');
      assert.equal(readFileSync(path, 'utf8'), 'Port 22\n');
    });

    it('with follow: true, edits the target of a symbolic link and keeps the link', async () => {
      const target = join(root, `${odd}.real`);
      writeFileSync(target, 'a\n');
      symlinkSync(target, join(root, 'via-link'));
      await converge(lineinfile({ path: join(root, 'via-link'), line: 'b', follow: true }));
      assert.equal(readlinkSync(join(root, 'via-link')), target);
      assert.equal(readFileSync(target, 'utf8'), 'a\nb\n');
      await converge(copy({ dest: join(root, 'via-link'), content: 'c\n', follow: true }));
      assert.equal(readFileSync(target, 'utf8'), 'c\n');
      assert.ok(lstatSync(join(root, 'via-link')).isSymbolicLink());
    });

    it('without follow, never writes through a symbolic link: copy replaces it, lineinfile refuses it', async () => {
      const target = join(root, 'target');
      writeFileSync(target, 'a\n');
      symlinkSync(target, join(root, 'via-link'));
      await assert.rejects(run(lineinfile({ path: join(root, 'via-link'), line: 'b' })), /is a symbolic link \(to .*target\); lineinfile does not edit through a link unless follow: true/);
      const plan = await converge(copy({ dest: join(root, 'via-link'), content: 'c\n' }));
      assert.match(plan.summary ?? '', /^link to .*target → file \(2 bytes\)$/);
      assert.equal(readFileSync(target, 'utf8'), 'a\n');
      assert.ok(lstatSync(join(root, 'via-link')).isFile());
      assert.equal(readFileSync(join(root, 'via-link'), 'utf8'), 'c\n');
    });

    it('fails on a missing file without create, and is ok removing from a missing file', async () => {
      await assert.rejects(run(lineinfile({ path: join(root, 'none'), line: 'x' })), /does not exist \(set create: true/);
      assert.equal((await run(lineinfile({ path: join(root, 'none'), line: 'x', state: 'absent' }))).changed, false);
      assert.throws(() => lineinfile({ path: '/x', line: 'a', backrefs: true }), /regexp is required with backrefs/);
    });
  });

  describe('round trips', () => {
    const trips = (task: Task) => checkApplyTrips(task, ctxFor, conn);
    it('costs one command to check and one to apply, and only the check when converged', async () => {
      writeFileSync(join(base, 't.ejs'), '<%= 1 + 1 %>\n');
      mkdirSync(join(base, 'tree', 'sub'), { recursive: true });
      writeFileSync(join(base, 'tree', 'sub', 'a'), 'a');
      assert.deepEqual(await trips(file({ path: join(root, 'd'), state: 'directory', mode: '0750' })), [1, 1, 1, 0]);
      assert.deepEqual(await trips(copy({ dest: join(root, 'c'), content: 'x', mode: '0600' })), [1, 1, 1, 0]);
      assert.deepEqual(await trips(template({ src: 't.ejs', dest: join(root, 't') })), [1, 1, 1, 0]);
      assert.deepEqual(await trips(lineinfile({ path: join(root, 'c'), line: 'y' })), [1, 1, 1, 0]);
      assert.deepEqual(await trips(sync({ src: 'tree', dest: join(root, 's') })), [1, 1, 1, 0]);
    });
  });

  describe('sync', () => {
    function makeTree(src: string): void {
      mkdirSync(join(src, 'static', 'css'), { recursive: true });
      mkdirSync(join(src, 'empty'));
      writeFileSync(join(src, 'static', 'css', 'site.css'), 'body{}\n');
      writeFileSync(join(src, 'manage.py'), '#!/usr/bin/env python3\n');
      chmodSync(join(src, 'manage.py'), 0o755);
      writeFileSync(join(src, odd), 'odd\n');
      writeFileSync(join(src, 'cache.pyc'), 'junk');
      symlinkSync('static/css/site.css', join(src, 'link.css'));
    }

    it('sends a tree, keeps modes and links, then converges; later sends only what changed', async () => {
      const src = join(base, 'site');
      makeTree(src);
      const dest = join(root, 'dest dir');
      const task = () => sync({ src: 'site', dest, delete: true, exclude: ['*.pyc', 'local/'] });
      const p1 = await converge(task());
      assert.equal(p1.summary, 'absent → directory, +7 ~0 -0');
      assert.equal(readFileSync(join(dest, odd), 'utf8'), 'odd\n');
      assert.equal(lstatSync(join(dest, 'manage.py')).mode & 0o777, 0o755);
      assert.equal(readlinkSync(join(dest, 'link.css')), 'static/css/site.css');
      assert.throws(() => lstatSync(join(dest, 'cache.pyc')));

      writeFileSync(join(src, 'static', 'css', 'site.css'), 'body{color:red}\n');
      writeFileSync(join(src, 'new.txt'), 'new\n');
      rmSync(join(src, 'manage.py'));
      mkdirSync(join(dest, 'local'));
      writeFileSync(join(dest, 'local', 'keep'), 'kept: excluded');
      writeFileSync(join(dest, 'x.pyc'), 'kept: excluded');
      const p2 = await converge(task());
      assert.equal(p2.summary, '+1 ~1 -1');
      const css = p2.diff?.find((d) => d.path.endsWith('site.css'));
      assert.deepEqual(css, { path: join(dest, 'static/css/site.css'), before: 'body{}\n', after: 'body{color:red}\n' });
      assert.equal(readFileSync(join(dest, 'static', 'css', 'site.css'), 'utf8'), 'body{color:red}\n');
      assert.throws(() => lstatSync(join(dest, 'manage.py')));
      assert.equal(readFileSync(join(dest, 'local', 'keep'), 'utf8'), 'kept: excluded');
      assert.equal(readFileSync(join(dest, 'x.pyc'), 'utf8'), 'kept: excluded');

      chmodSync(dest, 0o750);
      assert.equal((await checkOnly(task())).changed, false, "dest's own mode is not sync's to manage");
      chmodSync(join(src, 'new.txt'), 0o700);
      assert.equal((await converge(task())).summary, '+0 ~1 -0');
      assert.equal(lstatSync(join(dest, 'new.txt')).mode & 0o777, 0o700);
    });

    it('replaces an entry of another type and applies owner/group (as root)', async function () {
      if (!isRoot) this.skip();
      const src = join(base, 'site');
      makeTree(src);
      const dest = join(root, 'dest');
      mkdirSync(join(dest, 'manage.py'), { recursive: true });
      await converge(sync({ src: 'site', dest, owner: 'nobody', group: 'nogroup' }));
      assert.ok(lstatSync(join(dest, 'manage.py')).isFile());
      assert.equal(lstatSync(join(dest, 'static', 'css', 'site.css')).uid, 65534);
      assert.equal(lstatSync(join(dest, 'link.css')).gid, 65534);
    });
  });
});
