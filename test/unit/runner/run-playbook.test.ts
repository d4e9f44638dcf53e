// The runner's decisions (handlers, conditions, check mode, timeouts, batches, halts, gates) with in-memory tasks.
import assert from 'node:assert/strict';
import { LocalConnection } from '../../../src/connection/local.js';
import type { Connection } from '../../../src/connection/types.js';
import { ConnectionError, MissingOnHostError } from '../../../src/errors.js';
import { change, defineTask, definePlaybook, noChange, type CommonOptions, type Playbook, type Task } from '../../../src/playbook/types.js';
import { flushHandlers } from '../../../src/playbook/meta.js';
import { secret } from '../../../src/secret.js';
import type { RunEvent } from '../../../src/runner/events.js';
import { runPlaybook, type RunOptions } from '../../../src/runner/run.js';

/** A task over an in-memory state: changes `key` to `value` unless it already has it. */
function setKey(state: Map<string, string>, key: string, value: string, opts: CommonOptions = {}): Task {
  return defineTask('set', `set ${key}`, { ...opts, key, value }, {
    async check() {
      const before = state.get(key);
      return before === value ? noChange(`${key} already ${value}`) : change(`${key} ${before ?? 'unset'} → ${value}`);
    },
    async apply() {
      state.set(key, value);
    },
  });
}

function failing(message: string, opts: CommonOptions = {}, needs?: MissingOnHostError['needs']): Task {
  return defineTask('fail', 'fail', opts, {
    async check() {
      throw needs === undefined ? new Error(message) : new MissingOnHostError(message, needs);
    },
    async apply() {},
  });
}

function sleeping(ms: number, opts: CommonOptions = {}): Task {
  return defineTask('sleep', `sleep ${ms}`, opts, {
    check: () => new Promise((r) => setTimeout(() => r(change('slept')), ms)),
    async apply() {},
  });
}

async function run(playbook: Playbook, extra: Partial<RunOptions> = {}, hosts = ['h1']) {
  const events: RunEvent[] = [];
  const report = await runPlaybook({
    playbook: { gatherFacts: false, ...playbook },
    playbookPath: 'test.ts',
    baseDir: '.',
    hosts,
    varsOf: (h) => ({ inventory_hostname: h }),
    connect: async (h) => new LocalConnection(h),
    forks: 4,
    check: false,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { report, events };
}

describe('runPlaybook', () => {
  it('applies what check planned, then reports ok on a converged second run', async () => {
    const state = new Map<string, string>();
    const pb = definePlaybook({ name: 't', hosts: 'all', tasks: [setKey(state, 'a', '1'), setKey(state, 'b', '2')] });
    const first = await run(pb);
    assert.deepEqual(first.report.hosts.h1?.stats, { ok: 0, changed: 2, failed: 0, skipped: 0, left_out: 0 });
    assert.equal(first.report.hosts.h1?.status, 'changed');
    const second = await run(pb);
    assert.deepEqual(second.report.hosts.h1?.stats, { ok: 2, changed: 0, failed: 0, skipped: 0, left_out: 0 });
    assert.equal(second.report.hosts.h1?.status, 'ok');
  });

  it('changes nothing in check mode and reports what would change', async () => {
    const state = new Map<string, string>();
    const { report } = await run(definePlaybook({ name: 't', hosts: 'all', tasks: [setKey(state, 'a', '1')] }), { check: true });
    assert.equal(report.hosts.h1?.tasks[0]?.summary, 'a unset → 1');
    assert.equal(report.hosts.h1?.stats.changed, 1);
    assert.equal(state.size, 0);
  });

  it('predicts, in check mode, a task that fails only because an earlier change is planned', async () => {
    const state = new Map<string, string>();
    const pb = definePlaybook({
      name: 't',
      hosts: 'all',
      tasks: [setKey(state, 'pkg', 'installed'), failing('service apache2 does not exist', {}, [{ path: 'service:apache2' }])],
    });
    const { report } = await run(pb, { check: true });
    const predicted = report.hosts.h1?.tasks[1];
    assert.equal(predicted?.status, 'changed');
    assert.equal(predicted?.predicted, true);
    assert.match(predicted?.summary ?? '', /depends on an earlier planned change: set pkg/);
    // Without an earlier planned change the same missing state is a failure, as in the real run.
    const alone = await run(
      definePlaybook({ name: 't', hosts: 'all', tasks: [failing('service apache2 does not exist', {}, [{ path: 'service:apache2' }])] }),
      { check: true },
    );
    assert.equal(alone.report.hosts.h1?.status, 'failed');
  });

  it('fails in check mode, after a planned change, every error that is not a state missing on the host', async () => {
    const state = new Map<string, string>();
    const pb = definePlaybook({ name: 't', hosts: 'all', tasks: [setKey(state, 'pkg', 'installed'), failing('template: x is not defined')] });
    const { report } = await run(pb, { check: true });
    assert.equal(report.hosts.h1?.status, 'failed');
    assert.equal(report.hosts.h1?.tasks[1]?.status, 'failed');
    assert.equal(report.hosts.h1?.tasks[1]?.error, 'template: x is not defined');
  });

  it('runs a handler notified by a handler, and every handler listening to a notified topic, in definition order', async () => {
    const state = new Map<string, string>();
    const order: string[] = [];
    const handler = (name: string, opts: CommonOptions = {}) =>
      defineTask('record', name, opts, {
        async check() {
          return change(`run ${name}`);
        },
        async apply() {
          order.push(name);
        },
      });
    const pb = definePlaybook({
      name: 't',
      hosts: 'all',
      tasks: [setKey(state, 'a', '1', { notify: 'restart web' }), setKey(state, 'b', '1', { notify: 'reload config' })],
      handlers: {
        'reload proxy': handler('reload proxy'),
        'reload config': handler('reload config', { notify: 'reload proxy' }),
        'restart app': handler('restart app', { listen: 'restart web' }),
        'restart cache': handler('restart cache', { listen: ['restart web'] }),
      },
    });
    const { report } = await run(pb);
    assert.deepEqual(order, ['reload config', 'reload proxy', 'restart app', 'restart cache']);
    assert.equal(report.hosts.h1?.status, 'changed');
  });

  it('stops the other hosts of the batch after the task they are on when maxFailPercentage is crossed, and says so', async () => {
    const pb = definePlaybook({
      name: 't',
      hosts: 'all',
      tasks: ({ host }) => (host === 'h1' ? [failing('boom')] : [sleeping(150), sleeping(150), sleeping(150)]),
    });
    const { report } = await run(pb, { maxFailPercentage: 0 }, ['h1', 'h2']);
    assert.equal(report.hosts.h1?.status, 'failed');
    assert.equal(report.hosts.h1?.error, 'fail: boom');
    assert.equal(report.hosts.h2?.status, 'halted');
    assert.equal(report.hosts.h2?.tasks.length, 1);
    assert.equal(report.hosts.h2?.reason, 'halted: 2 of 3 tasks not run');
    assert.equal(report.summary.halted, 1);
    assert.match(report.halted ?? '', /1 of 2 hosts of batch 1 failed/);
  });

  it('runs notified handlers once, after the tasks, in the order they are defined, only on change', async () => {
    const state = new Map<string, string>();
    const order: string[] = [];
    const handler = (name: string) =>
      defineTask('record', name, {}, {
        async check() {
          return change(`run ${name}`);
        },
        async apply() {
          order.push(name);
        },
      });
    const pb = definePlaybook({
      name: 't',
      hosts: 'all',
      tasks: [
        setKey(state, 'a', '1', { notify: 'second' }),
        setKey(state, 'b', '1', { notify: ['first', 'second'] }),
        setKey(state, 'c', '1', { notify: 'third', when: false }),
      ],
      handlers: { first: handler('first'), second: handler('second'), third: handler('third') },
    });
    await run(pb);
    assert.deepEqual(order, ['first', 'second']);
    order.length = 0;
    await run(pb); // converged: nothing notified
    assert.deepEqual(order, []);
  });

  it('runs the handlers notified so far at flushHandlers(), and again at the end only if notified again', async () => {
    const state = new Map<string, string>();
    const order: string[] = [];
    const record = (name: string) =>
      defineTask('record', name, {}, {
        check: async () => change(name),
        apply: async () => {
          order.push(name);
        },
      });
    await run(
      definePlaybook({
        name: 't',
        hosts: 'all',
        tasks: [
          setKey(state, 'a', '1', { notify: 'h' }),
          flushHandlers(),
          record('middle'),
          setKey(state, 'b', '1', { notify: 'h' }),
        ],
        handlers: { h: record('h') },
      }),
    );
    assert.deepEqual(order, ['h', 'middle', 'h']);
  });

  it('never reports a secret value, and hides the diff and output of a task marked secret', async () => {
    const password = secret('hunter2-for-the-runner-test');
    const leaky = (opts: CommonOptions) =>
      defineTask('leak', 'leak', opts, {
        check: async () => change(`password=${password}`, { diff: [{ path: '/etc/app.conf', before: null, after: `pw ${password}\n` }] }),
        apply: async () => ({ stdout: `set ${password}` }),
      });
    const { report, events } = await run(definePlaybook({ name: 't', hosts: 'all', tasks: [leaky({}), leaky({ secret: true })] }));
    const text = JSON.stringify(report) + JSON.stringify(events);
    assert.ok(!text.includes(password), 'the secret leaked');
    assert.equal(report.hosts.h1?.tasks[0]?.summary, 'password=********');
    assert.equal(report.hosts.h1?.tasks[0]?.diff?.[0]?.after, 'pw ********\n');
    assert.equal(report.hosts.h1?.tasks[1]?.diff, undefined);
    assert.equal(report.hosts.h1?.tasks[1]?.stdout, undefined);
  });

  it('stops a host at its first failure, records the error, and skips handlers unless forced', async () => {
    const state = new Map<string, string>();
    let handled = 0;
    const handlers = {
      h: defineTask('record', 'h', {}, {
        check: async () => change('x'),
        apply: async () => {
          handled++;
        },
      }),
    };
    const tasks = () => [setKey(state, 'a', String(Math.random()), { notify: 'h' }), failing('nope'), setKey(state, 'never', '1')];
    const { report } = await run(definePlaybook({ name: 't', hosts: 'all', tasks, handlers }));
    assert.equal(report.hosts.h1?.status, 'failed');
    assert.equal(report.hosts.h1?.tasks.length, 2);
    assert.equal(report.hosts.h1?.tasks[1]?.error, 'nope');
    assert.equal(state.has('never'), false);
    assert.equal(handled, 0);
    await run(definePlaybook({ name: 't', hosts: 'all', tasks, handlers }), { forceHandlers: true });
    assert.equal(handled, 1);
  });

  it('goes on past an ignored failure and applies changedWhen/failedWhen and register', async () => {
    const state = new Map<string, string>();
    const { report } = await run(
      definePlaybook({
        name: 't',
        hosts: 'all',
        tasks: [
          failing('ignored', { ignoreErrors: true }),
          setKey(state, 'a', '1', { register: 'seta', changedWhen: () => false }),
          setKey(state, 'b', '1', { when: ({ registered }) => registered.seta?.changed === false }),
          setKey(state, 'c', '1', { failedWhen: (r) => r.changed }),
        ],
      }),
    );
    const tasks = report.hosts.h1?.tasks ?? [];
    assert.equal(tasks[0]?.ignored, true);
    assert.equal(tasks[1]?.status, 'ok');
    assert.equal(tasks[2]?.status, 'changed');
    assert.equal(tasks[3]?.status, 'failed');
    assert.deepEqual(report.hosts.h1?.stats, { ok: 2, changed: 1, failed: 1, skipped: 0, left_out: 0 });
  });

  it('fails a task that runs past its timeout and does not run the later ones', async () => {
    const state = new Map<string, string>();
    const { report } = await run(
      definePlaybook({ name: 't', hosts: 'all', tasks: [sleeping(5000, { timeout: 0.2 }), setKey(state, 'after', '1')] }),
    );
    assert.equal(report.hosts.h1?.tasks[0]?.error, 'timed out after 0.2 s');
    assert.equal(state.has('after'), false);
  });

  it('marks a host unreachable when its connect fails, and the others finish', async () => {
    const state = new Map<string, string>();
    const { report } = await run(
      definePlaybook({ name: 't', hosts: 'all', tasks: [setKey(state, 'a', '1')] }),
      {
        connect: async (h): Promise<Connection> => {
          if (h === 'h2') throw new ConnectionError('h2: connect ECONNREFUSED 127.0.0.1:1');
          return new LocalConnection(h);
        },
        connectRetries: 0,
      },
      ['h1', 'h2', 'h3'],
    );
    assert.equal(report.hosts.h2?.status, 'unreachable');
    assert.match(report.hosts.h2?.error ?? '', /ECONNREFUSED/);
    assert.equal(report.summary.unreachable, 1);
    for (const h of ['h1', 'h3']) assert.ok(['ok', 'changed'].includes(report.hosts[h]?.status ?? ''));
  });

  it('retries a refused connect with backoff before calling the host unreachable', async () => {
    let attempts = 0;
    const { report } = await run(definePlaybook({ name: 't', hosts: 'all', tasks: [] }), {
      connect: async (h): Promise<Connection> => {
        attempts++;
        if (attempts < 3) throw new ConnectionError('connect ECONNREFUSED');
        return new LocalConnection(h);
      },
    });
    assert.equal(attempts, 3);
    assert.equal(report.hosts.h1?.status, 'ok');
  });

  it('halts a rollout when a batch fails over maxFailPercentage; later hosts are not run', async () => {
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
    const { report, events } = await run(
      definePlaybook({
        name: 't',
        hosts: 'all',
        serial: '1,2,100%',
        maxFailPercentage: 0,
        tasks: ({ host }) => (host === 'h3' ? [failing('bad host')] : []),
      }),
      {},
      hosts,
    );
    assert.deepEqual(report.batches, [['h1'], ['h2', 'h3'], ['h4', 'h5', 'h6']]);
    assert.equal(report.hosts.h3?.status, 'failed');
    for (const h of ['h4', 'h5', 'h6']) {
      assert.equal(report.hosts[h]?.status, 'not run');
      assert.match(report.hosts[h]?.reason ?? '', /^halted/);
    }
    assert.match(report.halted ?? '', /1 of 2 hosts of batch 2 failed/);
    assert.equal(report.summary.not_run, 3);
    assert.ok(events.some((e) => e.type === 'halted'));
  });

  it('counts a failing health gate as a host failure', async () => {
    const { report } = await run(
      definePlaybook({
        name: 't',
        hosts: 'all',
        serial: 1,
        maxFailPercentage: 0,
        tasks: [],
        gate: ({ host }) => (host === 'h1' ? failing('HTTP 503 from /') : defineTask('ok', 'healthy', {}, { check: async () => noChange(), apply: async () => {} })),
      }),
      {},
      ['h1', 'h2'],
    );
    assert.equal(report.hosts.h1?.status, 'failed');
    assert.match(report.hosts.h1?.error ?? '', /health gate failed: HTTP 503/);
    assert.equal(report.hosts.h2?.status, 'not run');
  });

  it('starts no new task once aborted, and says the run was interrupted', async () => {
    const state = new Map<string, string>();
    const abort = new AbortController();
    const started = run(
      definePlaybook({ name: 't', hosts: 'all', tasks: [sleeping(200), setKey(state, 'late', '1')] }),
      { signal: abort.signal },
    );
    setTimeout(() => abort.abort(), 50);
    const { report } = await started;
    assert.equal(report.interrupted, true);
    assert.equal(report.hosts.h1?.tasks.length, 1); // the running task finished, the next never started
    assert.equal(state.has('late'), false);
  });
});
