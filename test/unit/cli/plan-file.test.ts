// A plan file binds what it shows: fingerprints recomputed from the shown diff at read, secrets redacted but bound.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createPlanRecorder, readPlanFile, vetAgainst, type PlanFile } from '../../../src/cli/plan-file.js';
import type { Plan } from '../../../src/playbook/types.js';
import { secret } from '../../../src/secret.js';

const diffTo = (after: string): Plan => ({ changed: true, summary: 'content changed', diff: [{ path: '/etc/app.conf', before: null, after }] });

describe('plan files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-plan-'));
  const playbookPath = join(dir, 'site.ts');
  writeFileSync(playbookPath, 'export default {}\n');
  const write = (plan: unknown) => {
    const path = join(dir, 'plan.json');
    writeFileSync(path, JSON.stringify(plan));
    return path;
  };
  const make = (plans: Array<{ plan: Plan; secret?: boolean }>): PlanFile => {
    const rec = createPlanRecorder();
    plans.forEach(({ plan, secret: s }, i) => rec.record({ host: 'h1', id: `task ${i + 1}`, name: `t${i + 1}`, module: 'copy', plan, secret: s, dependsOnEarlier: false }));
    return rec.finish({ version: '0', playbookPath, options: { inventory: [], extraVars: [], become: false }, hosts: ['h1'] });
  };
  const resign = (plan: PlanFile): PlanFile => {
    const { checksum: _, ...body } = plan;
    return { ...body, checksum: createHash('sha256').update(JSON.stringify(body)).digest('hex') };
  };
  const seen = (id: string, plan: Plan, s?: boolean) => ({ host: 'h1', id, name: id === 'task 1' ? 't1' : 't2', module: 'copy', plan, secret: s });

  it('shows secrets as ******** and a secret task not at all, yet binds the real values', () => {
    const pw = secret('hunter2-unit');
    const plan = make([{ plan: diffTo(`password ${pw}\n`) }, { plan: diffTo('token abc\n'), secret: true }]);
    const text = JSON.stringify(plan);
    assert.doesNotMatch(text, /hunter2-unit|token abc/);
    assert.equal(plan.hosts.h1?.[0]?.diff?.[0]?.after, 'password ********\n');
    assert.equal(plan.hosts.h1?.[1]?.diff, undefined);
    const read = readPlanFile(write(plan));
    assert.equal(vetAgainst(read, seen('task 1', diffTo(`password ${pw}\n`))), undefined);
    assert.equal(vetAgainst(read, seen('task 2', diffTo('token abc\n'), true)), undefined);
    assert.match(vetAgainst(read, seen('task 1', diffTo(`password ${secret('other-unit')}\n`))) ?? '', /the host changed since the plan/);
    assert.match(vetAgainst(read, seen('task 2', diffTo('token xyz\n'), true)) ?? '', /the host changed since the plan/);
  });

  it('refuses at read a re-signed plan whose diff is not what its fingerprint says', () => {
    const plan = make([{ plan: diffTo('port 8080\n') }]);
    plan.hosts.h1![0]!.diff![0]!.after = 'port 9999\n';
    assert.throws(() => readPlanFile(write(resign(plan))), /host h1, task 1 "t1": its summary or diff is not what its fingerprint says/);
  });

  it('reads a plan written before secrets were sealed (no `sealed`: the fingerprint of old)', () => {
    const plan = make([{ plan: diffTo('port 8080\n') }]);
    assert.equal(plan.hosts.h1?.[0]?.sealed, undefined);
    const old = createHash('sha256').update(JSON.stringify([true, 'content changed', [{ path: '/etc/app.conf', before: null, after: 'port 8080\n' }], null])).digest('hex');
    assert.equal(plan.hosts.h1?.[0]?.fingerprint, old);
    assert.doesNotThrow(() => readPlanFile(write(plan)));
  });
});
