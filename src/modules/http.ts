// A health check: GET a URL until it answers the wanted status (and text), from the controller or the host; never changes anything.
import { z } from './lib/zod.js';
import { checkParams, moduleSchema } from './lib/schema.js';
import { quoteArgv, sh } from '../connection/quote.js';
import { InputError, MissingOnHostError, ProvisionError } from '../errors.js';
import { defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';

const httpSchema = moduleSchema({
  /** The http(s) URL to fetch. */
  url: z.string(),
  /** The status (or statuses) that count as healthy; default 200. Redirects are followed. */
  status: z.union([z.number(), z.array(z.number()).readonly()]).optional(),
  /** Text the body must contain. */
  contains: z.string().optional(),
  /** Seconds one request may take; default 10. (The common `timeout` bounds the whole check, retries included.) */
  requestTimeout: z.number().optional(),
  /** How many more times to try after a failed attempt; default 3. */
  retries: z.number().optional(),
  /** Seconds between attempts; default 1. */
  delay: z.number().optional(),
  /** Where the request comes from: the host itself (default, as Ansible's uri) or the controller. */
  from: z.enum(['controller', 'host']).optional(),
  /** Request headers (e.g. `Host` for a name-based virtual host). */
  headers: z.record(z.string(), z.string()).optional(),
});
export type HttpParams = z.input<typeof httpSchema>;

/** What one attempt received. */
export interface HttpAnswer {
  status?: number;
  body?: string;
  error?: string;
}

const maxBody = 1024 * 1024;

/** Waits for a URL to answer as expected; ok when it does, failed (with what it received) when it never does. */
export function http(params: HttpParams): Task {
  checkParams('http', httpSchema, params);
  let parsed: URL;
  try {
    parsed = new URL(params.url);
  } catch {
    throw new InputError(`http: ${JSON.stringify(params.url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InputError(`http: ${params.url} is not an http(s) URL`);
  for (const field of ['timeout', 'requestTimeout', 'retries', 'delay'] as const) {
    const v = params[field];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw new InputError(`http: ${field} must be a number ≥ 0`);
  }
  if (params.from !== undefined && params.from !== 'controller' && params.from !== 'host') {
    throw new InputError(`http: from must be 'controller' or 'host' (got ${JSON.stringify(params.from)})`);
  }
  return defineTask('http', `GET ${params.url}`, params, {
    // What answers may come from anything on the host: the plan holds while nothing applies (a converged host).
    footprint: { reads: 'anything', writes: [] },
    check: (ctx) => checkUrl(ctx, params),
    async apply() {
      return { changed: false }; // never reached: check never plans a change
    },
  });
}

async function checkUrl(ctx: TaskContext, p: HttpParams): Promise<Plan> {
  const wanted = p.status === undefined ? [200] : typeof p.status === 'number' ? [p.status] : [...p.status];
  // Checked ahead of its turn, it tries once: a failure is checked again, with the retries, in the task's turn.
  const attempts = ctx.early ? 1 : Math.floor(p.retries ?? 3) + 1;
  const delayMs = (p.delay ?? 1) * 1000;
  // finish a little before the task's own deadline so the failure says what was received, not just "timed out"
  const deadline = p.timeout === undefined ? Infinity : Date.now() + p.timeout * 1000 - 250;
  let last: HttpAnswer = {};
  let tried = 0;
  while (tried < attempts) {
    const timeout = Math.max(0.1, Math.min(p.requestTimeout ?? 10, (deadline - Date.now()) / 1000));
    last = p.from === 'controller' ? await fetchFromController(p, timeout) : await fetchFromHost(ctx, p, timeout);
    tried++;
    if (isHealthy(last, wanted, p.contains)) return noChange(`GET ${p.url} → ${last.status}`);
    // In check mode after planned changes, waiting cannot help: the changes it would check were not made.
    if (ctx.earlierChangesPlanned) break;
    if (tried >= attempts || Date.now() + delayMs + 100 >= deadline) break;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  const failure = describeFailure(p.url, wanted, p.contains, last, tried);
  // In --check after planned changes, what answers may be what those changes make (a site not yet deployed).
  if (ctx.checkMode && ctx.earlierChangesPlanned) throw new MissingOnHostError(failure, 'any-change');
  throw new ProvisionError(failure);
}

/** Whether an answer has a wanted status and, when asked, the text. */
export function isHealthy(a: HttpAnswer, wanted: readonly number[], contains: string | undefined): boolean {
  if (a.status === undefined || !wanted.includes(a.status)) return false;
  return contains === undefined || (a.body ?? '').includes(contains);
}

/** The failure message: what was wanted and what was received (status and the first 200 characters of the body). */
export function describeFailure(url: string, wanted: readonly number[], contains: string | undefined, a: HttpAnswer, attempts: number): string {
  const want = `status ${wanted.join(' or ')}${contains === undefined ? '' : ` and a body containing ${JSON.stringify(contains)}`}`;
  const tries = `after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (a.status === undefined) return `GET ${url}: expected ${want}, got no answer ${tries}: ${a.error ?? 'unknown error'}`;
  const body = (a.body ?? '').slice(0, 200);
  return `GET ${url}: expected ${want}, got ${a.status} ${tries}; body: ${JSON.stringify(body)}`;
}

async function fetchFromController(p: HttpParams, timeout: number): Promise<HttpAnswer> {
  try {
    const res = await fetch(p.url, { headers: p.headers, redirect: 'follow', signal: AbortSignal.timeout(timeout * 1000) });
    const body = (await res.text()).slice(0, maxBody);
    return { status: res.status, body };
  } catch (err) {
    const e = err as Error & { cause?: { message?: string } };
    return { error: e.cause?.message ?? e.message };
  }
}

// urllib: present wherever the distribution's python3 is; an HTTP error status is an answer, not a failure
const pythonProbe = `import json, sys, urllib.request, urllib.error
p = json.loads(sys.argv[1])
req = urllib.request.Request(p['url'], headers=p['headers'])
try:
    with urllib.request.urlopen(req, timeout=p['timeout']) as r:
        status, body = r.status, r.read(p['max'])
except urllib.error.HTTPError as e:
    status, body = e.code, e.read(p['max'])
except Exception as e:
    print(json.dumps({'error': str(getattr(e, 'reason', e))}))
    sys.exit(0)
print(json.dumps({'status': status, 'body': body.decode('utf-8', 'replace')}))`;

async function fetchFromHost(ctx: TaskContext, p: HttpParams, timeout: number): Promise<HttpAnswer> {
  const python = ctx.facts.python;
  const execOpts = { become: false, timeoutMs: (timeout + 5) * 1000 };
  if (python) {
    const arg = JSON.stringify({ url: p.url, headers: p.headers ?? {}, timeout, max: maxBody });
    const r = await ctx.exec([python, '-c', pythonProbe, arg], execOpts);
    try {
      return JSON.parse(r.stdout) as HttpAnswer;
    } catch {
      return { error: `cannot check from ${ctx.host} with ${python}: ${(r.stderr || r.stdout).trim().slice(0, 200)}` };
    }
  }
  const headerArgs = Object.entries(p.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const curlArgs = ['-w', '%{http_code}', '--max-time', String(timeout), ...headerArgs, '--', p.url];
  const script = [
    't=$(mktemp)',
    `c=$(curl -sS -L -o "$t" ${quoteArgv(curlArgs)})`,
    'rc=$?',
    'echo "$c"',
    sh`head -c ${String(maxBody)} "$t"`,
    'rm -f "$t"',
    'exit $rc',
  ].join('\n');
  const r = await ctx.exec(script, execOpts);
  const nl = r.stdout.indexOf('\n');
  const status = Number(r.stdout.slice(0, nl < 0 ? undefined : nl));
  if (r.code !== 0 || !status) return { error: r.stderr.trim() || `curl exited with ${r.code}` };
  return { status, body: nl < 0 ? '' : r.stdout.slice(nl + 1) };
}
