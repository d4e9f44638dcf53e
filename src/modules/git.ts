// A git checkout on the host, as Ansible's git module: clone, or fetch and check out the wanted version.
import { z } from './lib/zod.js';
import { absolutePath, checkParams, moduleSchema } from './lib/schema.js';
import { quote } from '../connection/quote.js';
import { InputError, ProvisionError } from '../errors.js';
import { change, defineTask, noChange, type Plan, type Task, type TaskContext } from '../playbook/types.js';

const gitSchema = moduleSchema({
  /** URL or path of the repository (as `git clone` takes it; the host reaches it). */
  repo: z.string(),
  /** Absolute path of the checkout. */
  dest: absolutePath,
  /** Branch, tag or full commit id to check out (default `HEAD`: the remote's default branch). */
  version: z.string().optional(),
  /** Discard local changes of tracked files (default false: they fail the task). */
  force: z.boolean().optional(),
  /** A shallow clone and fetch of this many commits. */
  depth: z.number().int().positive().optional(),
  /** false: an existing checkout is left as it is (default true). */
  update: z.boolean().optional(),
  /** An extra refspec to fetch (`refs/pull/*`, …). */
  refspec: z.string().optional(),
  /** Clone only the history of `version`'s branch. */
  singleBranch: z.boolean().optional(),
  /** Accept an SSH host key the host does not know yet (never a changed one). */
  acceptNewhostkey: z.boolean().optional(),
});
export type GitParams = z.input<typeof gitSchema>;

/** What the check read on the host. */
export interface GitState {
  /** null: dest holds no checkout. */
  head: string | null;
  originUrl: string;
  /** Tags pointing at HEAD (for the summary's "now"). */
  tagsAtHead: string[];
  /** `git status --porcelain` lines of tracked files. */
  localChanges: string[];
  /** `git ls-remote`'s answer: ref → commit id. */
  remote: Map<string, string>;
}

const fullSha = /^[0-9a-f]{40}$/;

/** The commit `version` names on the remote (a tag peeled to its commit), or undefined when it names none. */
export function wantedCommit(version: string, remote: ReadonlyMap<string, string>): { sha: string; kind: 'branch' | 'tag' | 'commit' | 'head' } | undefined {
  if (version === 'HEAD') {
    const sha = remote.get('HEAD');
    return sha === undefined ? undefined : { sha, kind: 'head' };
  }
  if (fullSha.test(version)) return { sha: version, kind: 'commit' };
  const branch = remote.get(`refs/heads/${version}`);
  if (branch !== undefined) return { sha: branch, kind: 'branch' };
  const tag = remote.get(`refs/tags/${version}^{}`) ?? remote.get(`refs/tags/${version}`);
  return tag === undefined ? undefined : { sha: tag, kind: 'tag' };
}

/** Parses the check script's output (see readScript). */
export function parseState(out: string): GitState {
  const [local = '', remoteText = ''] = out.split('--ls-remote--\n');
  const [present, head, url, tags, changes] = local.split('\n');
  const remote = new Map<string, string>();
  for (const line of remoteText.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref) remote.set(ref, sha);
  }
  return {
    head: present === 'present' && head && fullSha.test(head) ? head : null,
    originUrl: url ?? '',
    tagsAtHead: (tags ?? '').split(' ').filter(Boolean),
    localChanges: (changes ?? '').split('\x1f').map((l) => l.trim()).filter(Boolean),
    remote,
  };
}

interface GitData {
  clone: boolean;
  before: string | null;
  sha: string;
  kind: 'branch' | 'tag' | 'commit' | 'head';
  reset: boolean;
  setUrl: boolean;
}

/** Ensures a checkout of `repo` at `version` in `dest`. */
export function git(params: GitParams): Task {
  checkParams('git', gitSchema, params);
  if (params.version !== undefined && params.version.startsWith('-')) throw new InputError(`git ${params.dest}: version must not start with '-'`);
  return defineTask('git', `git ${params.repo} → ${params.dest}`, params, {
    check: (ctx) => planGit(ctx, params),
    async apply(ctx, plan) {
      const d = plan.data as GitData;
      await ctx.run(applyScript(params, d), { timeoutMs: 30 * 60_000 });
      const after = (await ctx.run(`git -C ${quote(params.dest)} rev-parse HEAD`)).stdout.trim();
      if (after !== d.sha && d.kind !== 'head') throw new ProvisionError(`git ${params.dest}: checked out ${after}, not ${d.sha}`);
      return { changed: after !== d.before || d.reset || d.setUrl, summary: plan.summary };
    },
  });
}

const env = (p: GitParams) => (p.acceptNewhostkey ? "GIT_SSH_COMMAND='ssh -o StrictHostKeyChecking=accept-new'; export GIT_SSH_COMMAND; " : '');

/** Reads the checkout (HEAD, origin, tags at HEAD, tracked changes) and asks the remote for `version`. */
function readScript(p: GitParams): string {
  const version = p.version ?? 'HEAD';
  const patterns = version === 'HEAD' ? ['HEAD'] : fullSha.test(version) ? [] : [`refs/heads/${version}`, `refs/tags/${version}`, `refs/tags/${version}^{}`];
  return [
    `${env(p)}export LC_ALL=C GIT_TERMINAL_PROMPT=0`,
    `d=${quote(p.dest)}`,
    'if [ -e "$d/.git" ]; then echo present; git -C "$d" rev-parse HEAD 2>/dev/null || echo none; git -C "$d" config --get remote.origin.url || echo',
    `  git -C "$d" tag --points-at HEAD | tr '\\n' ' '; echo`,
    `  git -C "$d" status --porcelain --untracked-files=no | tr '\\n' '\\037'; echo`,
    'else echo absent; fi',
    'echo --ls-remote--',
    patterns.length > 0 ? `git ls-remote ${quote(p.repo)} ${patterns.map(quote).join(' ')}` : 'true',
  ].join('\n');
}

const short = (sha: string) => sha.slice(0, 7);

async function planGit(ctx: TaskContext, p: GitParams): Promise<Plan> {
  const version = p.version ?? 'HEAD';
  const st = parseState((await ctx.run(readScript(p), { timeoutMs: 5 * 60_000 })).stdout);
  if (st.head !== null && p.update === false) return noChange(`${p.dest} is a checkout and update is false`);
  const wanted = wantedCommit(version, st.remote);
  if (wanted === undefined) throw new ProvisionError(`git: version ${version} is not a branch or tag of ${p.repo}`);
  const name = wanted.kind === 'commit' ? short(wanted.sha) : `${version} (${short(wanted.sha)})`;
  const data: GitData = { clone: st.head === null, before: st.head, sha: wanted.sha, kind: wanted.kind, reset: false, setUrl: false };
  if (st.head === null) return change(`would clone ${p.repo} at ${name} into ${p.dest}`, { data });
  const why: string[] = [];
  if (st.localChanges.length > 0) {
    if (!p.force) throw new ProvisionError(`Local modifications exist in the destination: ${p.dest} (force=no): ${st.localChanges.join('; ')}`);
    why.push(`would discard local changes (${st.localChanges.join('; ')})`);
    data.reset = true;
  }
  if (st.originUrl !== p.repo) {
    why.push(`would set origin to ${p.repo} (now ${st.originUrl || 'none'})`);
    data.setUrl = true;
  }
  if (st.head !== wanted.sha) {
    const now = st.tagsAtHead.length > 0 ? `${st.tagsAtHead.join(', ')}, ${short(st.head)}` : short(st.head);
    why.push(`would check out ${name} (now ${now})`);
  }
  return why.length === 0 ? noChange(`${p.dest} at ${name}`) : change(why.join(', '), { data });
}

/** Clone, or reset/set-url/fetch, then check out the wanted version, as Ansible's switch_version does. */
function applyScript(p: GitParams, d: GitData): string {
  const version = p.version ?? 'HEAD';
  const dest = quote(p.dest);
  const depth = p.depth === undefined ? '' : ` --depth ${p.depth}`;
  const lines = [`${env(p)}export LC_ALL=C GIT_TERMINAL_PROMPT=0`];
  if (d.clone) {
    const branch = d.kind === 'branch' || d.kind === 'tag' ? ` --branch ${quote(version)}` : '';
    lines.push(`git clone --origin origin${depth}${p.singleBranch ? ' --single-branch' : ''}${branch} -- ${quote(p.repo)} ${dest} || exit 1`);
    if (p.refspec !== undefined) lines.push(`git -C ${dest} fetch${depth} origin ${quote(p.refspec)} || exit 1`);
  } else {
    if (d.reset) lines.push(`git -C ${dest} reset --hard HEAD || exit 1`);
    if (d.setUrl) lines.push(`git -C ${dest} remote set-url origin ${quote(p.repo)} 2>/dev/null || git -C ${dest} remote add origin ${quote(p.repo)} || exit 1`);
    const specs = ["'+refs/heads/*:refs/remotes/origin/*'", "'+refs/tags/*:refs/tags/*'", ...(p.refspec !== undefined ? [quote(p.refspec)] : [])];
    lines.push(`git -C ${dest} fetch --force${depth} origin ${specs.join(' ')} || exit 1`);
  }
  if (d.kind === 'branch') {
    lines.push(
      `if git -C ${dest} rev-parse --verify -q ${quote(`refs/heads/${version}`)} >/dev/null; then git -C ${dest} checkout --force ${quote(version)} || exit 1`,
      `else git -C ${dest} checkout --force --track -b ${quote(version)} ${quote(`origin/${version}`)} || exit 1; fi`,
      `git -C ${dest} reset --hard ${quote(`origin/${version}`)} || exit 1`,
    );
  } else if (d.kind === 'head') {
    lines.push(
      `b=$(git -C ${dest} symbolic-ref --short refs/remotes/origin/HEAD 2>/dev/null || git -C ${dest} symbolic-ref --short HEAD) || exit 1; b=\${b#origin/}`,
      `git -C ${dest} checkout --force "$b" || exit 1`,
      `git -C ${dest} reset --hard "origin/$b" || exit 1`,
    );
  } else {
    lines.push(`git -C ${dest} checkout --force ${quote(d.kind === 'commit' ? d.sha : version)} -- 2>/dev/null || git -C ${dest} checkout --force ${quote(d.sha)} || exit 1`);
  }
  return lines.join('\n');
}
