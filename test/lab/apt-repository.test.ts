// aptRepository on a real Debian host of the lab: a flat file: repository made on the host, apt-get update only when a source changed.
import assert from 'node:assert/strict';
import type { Connection } from '../../src/connection/types.js';
import { aptRepository, suggestFilename } from '../../src/modules/apt-repository.js';
import type { Plan, Task } from '../../src/playbook/types.js';
import { createContext } from '../../src/runner/context.js';
import { debianFacts } from '../fixtures/facts.js';
import { labUnavailable, startLab, type Lab } from './lab.js';

describe('aptRepository on a lab host', function () {
  this.timeout(600_000);
  let lab: Lab;
  let conn: Connection;
  const ctxFor = (checkMode: boolean) => createContext({ host: 'h1', conn, vars: {}, facts: debianFacts(), checkMode, become: false, baseDir: '/' });
  const check = (t: Task) => t.check(ctxFor(true));
  async function run(t: Task): Promise<Plan> {
    const ctx = ctxFor(false);
    const plan = await t.check(ctx);
    if (plan.changed) await t.apply(ctx, plan);
    return plan;
  }

  before(async function () {
    const why = labUnavailable();
    if (why) throw new Error(why);
    lab = await startLab(1);
    conn = await lab.connect(1);
    // a flat repository on the host itself, and an apt-get that counts its updates
    await lab.sshOk(1, 'mkdir -p /srv/repo && : > /srv/repo/Packages && mkdir -p /etc/apt/keyrings && : > /etc/apt/keyrings/local.gpg');
    await lab.sshOk(1, 'mkdir -p /usr/local/bin && printf \'#!/bin/sh\\n[ "$1" = update ] && echo update >> /var/log/apt-updates\\nexec /usr/bin/apt-get "$@"\\n\' > /usr/local/bin/apt-get && chmod 755 /usr/local/bin/apt-get');
  });
  after(async () => {
    await conn?.close();
    await lab?.down();
  });

  it('adds the line in sources.list.d, updates once; converged changes nothing; absent removes the file', async () => {
    const repo = 'deb [trusted=yes] file:/srv/repo ./';
    const t = aptRepository({ repo, filename: 'local', signedBy: '/etc/apt/keyrings/local.gpg' });
    const planned = await check(t);
    assert.equal(planned.summary, '+ deb [signed-by=/etc/apt/keyrings/local.gpg trusted=yes] file:/srv/repo ./ in /etc/apt/sources.list.d/local.list, apt-get update');
    assert.equal((await lab.ssh(1, 'test -e /etc/apt/sources.list.d/local.list')).code, 1, 'check wrote');
    const count = async () => Number((await lab.sshOk(1, 'cat /var/log/apt-updates 2>/dev/null | wc -l')).trim());
    assert.equal(await count(), 0);
    await run(t);
    assert.equal(await lab.sshOk(1, 'cat /etc/apt/sources.list.d/local.list'), 'deb [signed-by=/etc/apt/keyrings/local.gpg trusted=yes] file:/srv/repo ./\n');
    assert.equal(await lab.sshOk(1, 'stat -c %a /etc/apt/sources.list.d/local.list'), '644\n');
    assert.equal(await count(), 1);
    // the same source written another way (options in another order, extra spaces) is the same source
    const again = await run(aptRepository({ repo: 'deb  [trusted=yes signed-by=/etc/apt/keyrings/local.gpg]  file:/srv/repo/ ./', filename: 'other' }));
    assert.equal(again.changed, false, again.summary);
    assert.equal((await run(t)).changed, false);
    assert.equal(await count(), 1, 'apt-get update ran with no source changed');
    const gone = aptRepository({ repo, signedBy: '/etc/apt/keyrings/local.gpg', state: 'absent' });
    assert.equal((await check(gone)).summary, 'remove /etc/apt/sources.list.d/local.list, apt-get update');
    await run(gone);
    assert.equal((await lab.ssh(1, 'test -e /etc/apt/sources.list.d/local.list')).code, 1);
    assert.equal((await run(gone)).changed, false);
    assert.equal(await count(), 2);
  });

  it("names the file as Ansible's apt_repository does", () => {
    assert.equal(suggestFilename('deb [arch=amd64] https://user:pw@deb.example.org/debian bookworm main'), '/etc/apt/sources.list.d/deb_example_org_debian.list');
    assert.equal(suggestFilename('deb http://x/ y', 'custom'), '/etc/apt/sources.list.d/custom.list');
  });
});
