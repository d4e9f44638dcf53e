// blockinfile and replace through a real sshd host, side by side with ansible-core 2.14 on the cases of Ansible's own
// integration tests for them (and the edges of blockinfile.py and replace.py): changed/failed per step, the files left.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection } from '../../../src/connection/types.js';
import { blockinfile, type BlockInFileParams } from '../../../src/modules/blockinfile.js';
import { replace, type ReplaceParams } from '../../../src/modules/replace.js';
import type { Task } from '../../../src/playbook/types.js';
import { createContext } from '../../../src/runner/context.js';
import { debianFacts } from '../../fixtures/facts.js';
import { ansibleSteps } from '../../helpers/ansible-steps.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';

type Step = { blockinfile: Omit<BlockInFileParams, 'path'> } | { replace: Omit<ReplaceParams, 'path'> };
interface Scenario {
  name: string;
  /** The file's content before the first step; undefined: no file. */
  initial?: string;
  steps: Step[];
}

const pangrams = 'The quick brown fox jumps over the lazy dog.\nWe promptly judged antique ivory buckles for the next prize.\nJinxed wizards pluck ivy from the big quilt.\nJaded zombies acted quaintly but kept driving their oxen forward.';
const group = '# start of group\n0.0.0.0\n127.0.0.1\n127.0.1.1\n# end of group\n';
const sshd = '# sshd_config\nPort 22\n#ListenAddress 0.0.0.0\nPermitRootLogin no\nUsePAM yes\n';
const block = 'Match User ansible-agent\nPasswordAuthentication no\n';

const scenarios: Scenario[] = [
  // blockinfile: tasks/add_block_to_existing_file.yml, create_file.yml, block_without_trailing_newline.yml,
  // file_without_trailing_newline.yml, insertafter.yml, insertbefore.yml, diff.yml, crlf_markers.yml, validate.yml
  { name: 'existing', initial: sshd, steps: [{ blockinfile: { block, backup: true } }, { blockinfile: { block } }, { blockinfile: { block: 'PasswordAuthentication yes' } }, { blockinfile: { state: 'absent' } }, { blockinfile: { state: 'absent' } }] },
  { name: 'create', steps: [{ blockinfile: { block } }, { blockinfile: { block, create: true } }, { blockinfile: { block, create: true } }] },
  { name: 'create-empty', steps: [{ blockinfile: { create: true } }, { blockinfile: { state: 'absent' } }] },
  { name: 'no-trailing-newline-block', initial: 'a\n', steps: [{ blockinfile: { block: 'one\ntwo' } }, { blockinfile: { block: 'one\ntwo' } }] },
  { name: 'no-trailing-newline-file', initial: '# File with no newline', steps: [{ blockinfile: { block: 'one\ntwo\nthree\n' } }, { blockinfile: { block: 'one\ntwo\nthree\n' } }] },
  { name: 'absent-no-newline', initial: 'x=1', steps: [{ blockinfile: { state: 'absent' } }] },
  { name: 'insertafter', initial: 'Port 22\nListen 80\nListen 81\nUser x\n', steps: [{ blockinfile: { block: 'A\n', insertAfter: '^Listen' } }, { blockinfile: { block: 'A\n', insertAfter: '^Listen' } }, { blockinfile: { block: 'B\n', marker: '; {mark} other', insertAfter: 'nothing-matches' } }] },
  { name: 'insertbefore', initial: 'Port 22\nListen 80\nListen 81\nUser x\n', steps: [{ blockinfile: { block: 'A\n', insertBefore: 'Listen' } }, { blockinfile: { block: 'B\n', marker: '# {mark} bof', insertBefore: 'BOF' } }, { blockinfile: { block: 'B\n', marker: '# {mark} bof', insertBefore: 'BOF' } }] },
  { name: 'markers', initial: 'x\n', steps: [{ blockinfile: { block: 'in\n', marker: '<!-- {mark} -->', markerBegin: 'START', markerEnd: 'STOP' } }, { blockinfile: { block: 'in2\n', marker: '<!-- {mark} -->', markerBegin: 'START', markerEnd: 'STOP' } }, { blockinfile: { block: '', marker: '<!-- {mark} -->', markerBegin: 'START', markerEnd: 'STOP' } }] },
  { name: 'crlf-markers', initial: 'a\r\n# BEGIN ANSIBLE MANAGED BLOCK\r\nold\r\n# END ANSIBLE MANAGED BLOCK\r\nb\r\n', steps: [{ blockinfile: { block: 'new\n' } }, { blockinfile: { block: 'new\n' } }] },
  { name: 'reversed-markers', initial: 'a\n# END ANSIBLE MANAGED BLOCK\nmid\n# BEGIN ANSIBLE MANAGED BLOCK\nz\n', steps: [{ blockinfile: { block: 'new\n' } }] },
  { name: 'multiline-insert', initial: 'SID_LIST_LISTENER_DG =\n  (SID_LIST =\n  )\nEND\n', steps: [{ blockinfile: { block: '    (SID_DESC)\n', insertAfter: '(?m)SID_LIST_LISTENER_DG =\\n.*\\(SID_LIST =' } }, { blockinfile: { block: '    (SID_DESC)\n', insertAfter: '(?m)SID_LIST_LISTENER_DG =\\n.*\\(SID_LIST =' } }] },
  { name: 'unicode', initial: 'é\n', steps: [{ blockinfile: { block: 'ключ = значение\n', insertBefore: 'é' } }, { blockinfile: { block: 'ключ = значение\n', insertBefore: 'é' } }] },
  { name: 'validate', initial: 'keep\n', steps: [{ blockinfile: { block: 'x\n', validate: 'grep -q NOPE %s' } }, { blockinfile: { block: 'x\n', validate: 'grep -q keep %s' } }] },
  { name: 'mode', initial: 'm\n', steps: [{ blockinfile: { block: 'x\n', mode: '0600' } }, { blockinfile: { block: 'x\n', mode: '0640' } }, { blockinfile: { block: 'x\n', mode: '0640' } }] },
  // replace: tasks/main.yml
  { name: 'pangrams-before', initial: pangrams, steps: [{ replace: { before: 'quilt', regexp: ' ' } }, { replace: { before: 'quilt', regexp: ' ' } }] },
  { name: 'pangrams-after', initial: pangrams, steps: [{ replace: { after: 'promptly', regexp: ' ' } }] },
  { name: 'pangrams-before-after-none', initial: pangrams, steps: [{ replace: { before: 'promptly', after: 'quilt', regexp: 'e', replace: '3' } }] },
  { name: 'pangrams-before-after', initial: pangrams, steps: [{ replace: { before: 'quilt', after: 'promptly', regexp: 'e', replace: '3' } }] },
  { name: 'pangrams-multiline', initial: pangrams, steps: [{ replace: { regexp: '^([\\S\\s]+)$', replace: '"\\1"' } }, { replace: { regexp: '^(.+)$', replace: '"\\1"' } }] },
  { name: 'pangrams-boundaries', initial: pangrams, steps: [{ replace: { regexp: '\\b(.+)\\b', replace: '"\\1"' } }, { replace: { regexp: '\\\\b(.+)\\\\b', replace: '"\\1"' } }] },
  { name: 'pangrams-backup', initial: pangrams, steps: [{ replace: { regexp: '^(.+)$', replace: '"\\1"', backup: true } }] },
  { name: 'missing', steps: [{ replace: { regexp: '^(.+)$' } }] },
  { name: 'addresses', initial: `${group}\n${group}\n${group}`, steps: [{ replace: { after: '# start of group', before: '# end of group', regexp: '0', replace: '9' } }] },
  { name: 'bad-escape', initial: 'a.b\n', steps: [{ replace: { regexp: '\\.', replace: '\\D' } }] },
  // Python's re where JavaScript's differs: named groups, \g<name>, \Z, $ before '\n' only, Unicode \w, {,n}
  { name: 'python-re', initial: 'key = 1\r\nключ = 2\nx = 3\n', steps: [{ replace: { regexp: '^(?P<k>\\w+) = (\\d)$', replace: '\\g<k>: \\2' } }, { replace: { regexp: '\\Z', replace: '# end\n' } }, { replace: { regexp: 'x{,1}: 3', replace: 'y' } }, { replace: { regexp: '^(?P<k>\\w+) = (\\d)$', replace: '\\g<k>: \\2' } }] },
  { name: 'no-match-mode', initial: 'a\n', steps: [{ replace: { regexp: 'zzz', mode: '0600' } }] },
];

/** Ansible's task for a step on `path` (snake_case names). */
function ansibleTask(step: Step, path: string): object {
  if ('blockinfile' in step) {
    const { insertAfter, insertBefore, markerBegin, markerEnd, ...rest } = step.blockinfile;
    const p: Record<string, unknown> = { path, ...rest, insertafter: insertAfter, insertbefore: insertBefore, marker_begin: markerBegin, marker_end: markerEnd };
    return { blockinfile: Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) };
  }
  return { replace: { path, ...step.replace } };
}

describe('blockinfile and replace through sshd, side by side with Ansible', function () {
  this.timeout(180_000);
  let fleet: Fleet;
  let conn: Connection;
  let root: string;
  const ctxFor = (checkMode: boolean) => createContext({ host: 'host01', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: root });

  /** As a run: check, then apply what it planned; a failure is a failed step. */
  async function step(build: () => Task): Promise<{ changed: boolean; failed: boolean }> {
    try {
      const t = build();
      const ctx = ctxFor(false);
      const plan = await t.check(ctx);
      if (plan.changed) await t.apply(ctx, plan);
      return { changed: plan.changed, failed: false };
    } catch {
      return { changed: false, failed: true };
    }
  }

  before(async () => {
    fleet = await startFleet(1);
    conn = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!));
    root = join(fleet.hosts[0]!.root, 'edits');
  });
  after(async () => {
    await conn?.close();
    await fleet?.stop();
  });

  it('agrees on changed/failed per step and on the files left, for every case', async () => {
    for (const side of ['mine', 'ansible']) {
      mkdirSync(join(root, side), { recursive: true });
      for (const s of scenarios) if (s.initial !== undefined) writeFileSync(join(root, side, s.name), s.initial);
    }
    const mine: Array<{ changed: boolean; failed: boolean }> = [];
    for (const s of scenarios) {
      const path = join(root, 'mine', s.name);
      for (const st of s.steps) {
        mine.push(await step(() => ('blockinfile' in st ? blockinfile({ path, ...st.blockinfile }) : replace({ path, ...st.replace }))));
      }
    }
    const tasks = scenarios.flatMap((s) => s.steps.map((st) => ansibleTask(st, join(root, 'ansible', s.name))));
    const theirs = (await ansibleSteps(fleet, fleet.hosts[0]!, tasks)).map(({ changed, failed }) => ({ changed, failed }));
    const label = scenarios.flatMap((s) => s.steps.map((_, i) => `${s.name}#${i + 1}`));
    assert.deepEqual(
      mine.map((r, i) => `${label[i]} ${JSON.stringify(r)}`),
      theirs.map((r, i) => `${label[i]} ${JSON.stringify(r)}`),
    );
    for (const s of scenarios) {
      const [a, b] = ['mine', 'ansible'].map((side) => join(root, side, s.name));
      assert.equal(existsSync(a!), existsSync(b!), `${s.name}: the file exists on one side only`);
      if (existsSync(a!)) assert.equal(readFileSync(a!, 'latin1'), readFileSync(b!, 'latin1'), `${s.name}: the files differ`);
      const backups = (side: string) => readdirSync(join(root, side)).filter((n) => n.startsWith(`${s.name}.`) && n.endsWith('~')).length;
      assert.equal(backups('mine'), backups('ansible'), `${s.name}: backups`);
    }
  });

  it('--check predicts exactly what the run does, with the diff, and changes nothing', async () => {
    const path = join(root, 'check.conf');
    writeFileSync(path, 'a = 1\nb = 2\n');
    const t = replace({ path, regexp: '^(\\w) = (\\d)$', replace: '\\1: \\2' });
    const predicted = await t.check(ctxFor(true));
    assert.equal(predicted.summary, '2 replacements made');
    assert.equal(readFileSync(path, 'utf8'), 'a = 1\nb = 2\n');
    const diff = predicted.diff?.[0];
    assert.equal(diff?.after?.toString(), 'a: 1\nb: 2\n');
    const b = blockinfile({ path, block: 'c: 3' });
    assert.equal((await b.check(ctxFor(true))).summary, 'Block inserted');
    assert.equal((await step(() => t)).changed, true);
    assert.equal((await step(() => b)).changed, true);
    assert.equal(readFileSync(path, 'utf8'), 'a: 1\nb: 2\n# BEGIN ANSIBLE MANAGED BLOCK\nc: 3\n# END ANSIBLE MANAGED BLOCK\n');
    assert.equal((await t.check(ctxFor(true))).changed, false);
    assert.equal((await b.check(ctxFor(true))).changed, false);
  });

  it('refuses by name what it cannot read as Python does, when the task is built', () => {
    const path = join(root, 'x');
    assert.throws(() => replace({ path, regexp: '(?x) a b' }), /replace .*: regexp is not a supported regular expression: the verbose flag \(\?x\) is not supported/);
    assert.throws(() => replace({ path, regexp: '(?i:a)b' }), /scoped inline flags/);
    assert.throws(() => replace({ path, regexp: 'a++' }), /possessive quantifiers/);
    assert.throws(() => replace({ path, regexp: '(a)', replace: '\\2' }), /replace: invalid group reference 2/);
    assert.throws(() => blockinfile({ path, block: 'x', insertAfter: 'a', insertBefore: 'b' }), /mutually exclusive/);
  });
});
