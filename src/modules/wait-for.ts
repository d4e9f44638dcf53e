// Waits on the host for a port or a file, as Ansible's wait_for: the step between a restart and the next batch.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { quote } from '../connection/quote.js';
import { InputError, MissingOnHostError, ProvisionError } from '../errors.js';
import { defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';
import { pyRegex } from './lib/edit-lines.js';

const waitForSchema = moduleSchema({
  /** The host to connect to, as the host resolves it (default 127.0.0.1). */
  host: z.string().optional(),
  /** A TCP port to wait for. */
  port: z.number().int().min(1).max(65535).optional(),
  /** An absolute path to wait for (not with port). */
  path: z.string().optional(),
  /** `started` (default) / `present`: open or there; `stopped` / `absent`: closed or gone. */
  state: z.enum(['started', 'present', 'stopped', 'absent']).optional(),
  /** A Python regex the file's content, or what the port sends, must match. */
  searchRegex: z.string().optional(),
  /** Seconds to wait in all (default 300); as every module's `timeout`, it also bounds the task. */
  timeout: z.number().nonnegative().optional(),
  /** Seconds to wait before the first look (default 0). */
  delay: z.number().nonnegative().optional(),
});
export type WaitForParams = z.input<typeof waitForSchema>;

// One script waits on the host (delay, a look a second, up to timeout) and prints what it last found.
const waitScript = `import json, os, re, socket, sys, time
p = json.loads(sys.argv[1])
time.sleep(p['delay'])
end = time.time() + p['timeout']
rx = re.compile(p['regex'], re.M) if p['regex'] is not None else None
def look():
    if p['path'] is not None:
        there = os.path.exists(p['path'])
        if p['want'] == 'gone':
            return not there, 'present' if there else 'absent'
        if not there:
            return False, 'absent'
        if rx is None:
            return True, 'present'
        try:
            with open(p['path'], 'rb') as f:
                data = f.read().decode('utf-8', 'replace')
        except OSError as e:
            return False, 'present, unreadable (%s)' % e.strerror
        return (True, 'present, search_regex matched') if rx.search(data) else (False, 'present, search_regex not matched')
    try:
        s = socket.create_connection((p['host'], p['port']), timeout=5)
    except OSError as e:
        return p['want'] == 'gone', 'closed (%s)' % (e.strerror or e)
    try:
        if p['want'] == 'gone':
            return False, 'open'
        if rx is None:
            return True, 'open'
        data = ''
        s.settimeout(max(0.5, min(5, end - time.time())))
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b.decode('utf-8', 'replace')
                if rx.search(data):
                    return True, 'open, search_regex matched'
        except OSError:
            pass
        return False, 'open, search_regex not matched'
    finally:
        s.close()
while True:
    ok, found = look()
    if ok or time.time() >= end:
        print(json.dumps({'ok': ok, 'found': found}))
        break
    time.sleep(max(0, min(1, end - time.time())))`;

/** Waits until a port is open (or closed) or a file is there (or gone) on the host; never changes anything. */
export function waitFor(params: WaitForParams): Task {
  checkParams('waitFor', waitForSchema, params);
  const what = 'waitFor';
  if ((params.port === undefined) === (params.path === undefined)) throw new InputError(`${what}: give exactly one of port or path`);
  if (params.path !== undefined && !params.path.startsWith('/')) throw new InputError(`${what}: path must be absolute (got ${JSON.stringify(params.path)})`);
  if (params.searchRegex !== undefined) {
    if ((params.state ?? 'started') === 'stopped' || params.state === 'absent') throw new InputError(`${what}: searchRegex is only for state started or present`);
    try {
      pyRegex(params.searchRegex);
    } catch (err) {
      throw new InputError(`${what}: searchRegex is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const target = params.path ?? `${params.host ?? '127.0.0.1'}:${params.port}`;
  return defineTask('waitFor', `wait for ${target}`, params, {
    check: (ctx) => waitOn(ctx, params, target),
    async apply() {
      return { changed: false }; // never reached: the check never plans a change
    },
  });
}

async function waitOn(ctx: TaskContext, p: WaitForParams, target: string): Promise<Plan> {
  const python = ctx.facts.python;
  if (!python) throw new ProvisionError(`waitFor: ${ctx.host} has no python3 to wait with`);
  const state = p.state ?? 'started';
  const want = state === 'stopped' || state === 'absent' ? 'gone' : 'there';
  // --check never waits: one look, no delay
  const once = ctx.checkMode;
  const timeout = once ? 0 : Math.max(0, (p.timeout ?? 300) - (p.timeout === undefined ? 0 : 1));
  const arg = { path: p.path ?? null, host: p.host ?? '127.0.0.1', port: p.port ?? null, want, regex: p.searchRegex ?? null, timeout, delay: once ? 0 : (p.delay ?? 0) };
  const r = await ctx.run(`${quote(python)} -c ${quote(waitScript)} ${quote(JSON.stringify(arg))}`, { timeoutMs: (timeout + arg.delay + 30) * 1000 });
  const found = JSON.parse(r.stdout) as { ok: boolean; found: string };
  const wanted = `${target} ${want === 'gone' ? (p.path ? 'absent' : 'closed') : p.path ? 'present' : 'open'}${p.searchRegex === undefined ? '' : ` matching ${JSON.stringify(p.searchRegex)}`}`;
  if (found.ok) return noChange(`${target}: ${found.found}`);
  if (once) {
    // after a planned change it may depend on (a restart, a written file), what it would find is not known yet
    if (ctx.earlierChangesPlanned) throw new MissingOnHostError(`waiting for ${wanted}: now ${found.found} (--check does not wait)`, 'any-change');
    throw new ProvisionError(`waiting for ${wanted}: ${found.found} (--check looks once and does not wait)`);
  }
  throw new ProvisionError(`Timeout when waiting for ${wanted} (after ${p.timeout ?? 300} s: ${found.found})`);
}
