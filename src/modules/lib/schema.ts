// One declaration per module's parameters: a zod schema gives the TypeScript type (inferred), the run-time check
// (unknown keys with "did you mean", wrong types naming the parameter and the value) and the README's reference.
import leven from 'leven';
import { z } from './zod.js';
import { InputError } from '../../errors.js';
import { removeOmitted } from '../../inventory/omit.js';
import { commonShape } from '../../playbook/types.js';
import type { FileMode } from './mode.js';

export { commonShape };

/** A module's parameter schema: its own fields plus the common options; any other key is refused. */
export function moduleSchema<S extends z.ZodRawShape>(shape: S) {
  // a module's own field wins over a common one of the same name (service's `name` is the service)
  return z.strictObject({ ...commonShape, ...shape } as Omit<typeof commonShape, keyof S> & S);
}

/** What a user may write for a module: the schema's input type (common options included). */
export type ParamsOf<S extends z.ZodType> = z.input<S>;

// Rules between parameters, on a schema's input type, so an editor refuses what the module refuses at run time. They
// keep the schema's own declarations (and so its doc comments): nothing about a parameter is written twice.

/** `T` with exactly one of `A` and `B` given (copy's src and content). */
export type ExactlyOneOf<T, A extends keyof T, B extends keyof T> =
  | (Omit<T, A | B> & Required<Pick<T, A>> & Partial<Record<B, never>>)
  | (Omit<T, A | B> & Required<Pick<T, B>> & Partial<Record<A, never>>);

/** `T` with at most one of `A` and `B` given (lineinfile's insertAfter and insertBefore). */
export type AtMostOneOf<T, A extends keyof T, B extends keyof T> = (Omit<T, B> & Partial<Record<B, never>>) | (Omit<T, A> & Partial<Record<A, never>>);

/** `T` with parameter `K` narrowed to `V`, optional when `V` takes undefined (its declaration, and so its doc comment, kept). */
export type Narrowed<T, K extends keyof T, V> = Omit<T, K> & Pick<T, K> & (undefined extends V ? { [P in K]?: V } : { [P in K]: V });

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (Array.isArray(value)) return `an array ${JSON.stringify(value).slice(0, 60)}`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The closest known name to a typo, when one is close enough to be what was meant. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = leven(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  // two edits (a swapped pair of letters) for a word of four or more letters, one for shorter ones
  return best !== undefined && bestDistance <= (key.length < 4 ? 1 : Math.max(2, Math.floor(key.length / 3))) ? best : undefined;
}

const article = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** One line per problem, naming the parameter and what was given. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], params: unknown, known: readonly string[]): string[] {
  return issues.map((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((k) => {
          const near = didYouMean(k, known);
          return `unknown parameter ${JSON.stringify(k)}${near ? ` (did you mean "${near}"?)` : ''}`;
        })
        .join('; ');
    }
    const given = show(valueAt(params, issue.path));
    if (issue.code === 'invalid_type') {
      return valueAt(params, issue.path) === undefined ? `${at} is required` : `${at} must be ${issue.expected === 'custom' ? issue.message : article(issue.expected)} (got ${given})`;
    }
    if (issue.code === 'invalid_value') return `${at} must be one of ${issue.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')} (got ${given})`;
    // a rule of the schema's own (absolutePath) says the whole of what is wrong
    const text = issue.code === 'custom' ? (issue.params as { text?: unknown } | undefined)?.text : undefined;
    if (typeof text === 'string') return `${at} ${text}`;
    if (issue.code === 'custom') return `${at} must be ${issue.message} (got ${given})`;
    if (issue.code === 'invalid_union') return `${at} has the wrong type (got ${given})`;
    return `${at}: ${issue.message} (got ${given})`;
  });
}

/**
 * Checks a module call's parameters against its schema, before any host is touched; throws an InputError naming the
 * module, the parameter and the value. Returns the parameters as given (the schema only checks).
 */
export function checkParams<S extends z.ZodObject>(module: string, schema: S, params: unknown): z.input<S> {
  lastChecked = schema;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new InputError(`${module}: parameters must be an object (got ${show(params)})`);
  }
  // a parameter given Ansible's `omit` ("{{ x | default(omit) }}") is left out, as if never given
  removeOmitted(params as Record<string, unknown>);
  const r = schema.safeParse(params);
  if (!r.success) {
    const lines = describeIssues(r.error.issues, params, Object.keys(schema.shape));
    throw new InputError(`${module}: ${lines.join('; ')}`);
  }
  return params as z.input<S>;
}

let lastChecked: z.ZodObject | undefined;

/**
 * Calls a module function with parameters given as text (an ad-hoc `-a key=value`): as written first, and when its
 * schema refuses them, again with each value read as the schema's field takes it (a boolean, a number, a
 * comma-separated list), the first reading that field accepts.
 */
export function callWithTextParams<T>(fn: (params: Record<string, unknown>) => T, params: Record<string, unknown>): T {
  lastChecked = undefined;
  try {
    return fn(params);
  } catch (err) {
    const schema = lastChecked as z.ZodObject | undefined;
    if (!schema) throw err;
    const typed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) {
      const field = schema.shape[k] as z.ZodType | undefined;
      typed[k] = typeof v !== 'string' || !field ? v : (readings(v).find((r) => field.safeParse(r).success) ?? v);
    }
    return fn(typed);
  }
}

/** What a text value may stand for, in order: itself, a boolean (Ansible's yes/no/true/false), a number, a list. */
function readings(v: string): unknown[] {
  const out: unknown[] = [v];
  if (/^(true|yes|on)$/i.test(v)) out.push(true);
  if (/^(false|no|off)$/i.test(v)) out.push(false);
  if (/^-?\d+(\.\d+)?$/.test(v)) out.push(Number(v));
  out.push(v === '' ? [] : v.split(',').map((s) => s.trim()));
  return out;
}

/** A file mode as a string ('0644', 'u=rw,g=r'): its form is checked by validateMode, the TS type by FileMode. */
export const modeSchema = z.custom<FileMode>((v) => typeof v === 'string', { message: "a string such as '0644'" });

/** An absolute path on the host: anything else is refused when the task is built, naming the parameter. */
export const absolutePath = z.string().superRefine((v, ctx) => {
  if (v === '') ctx.addIssue({ code: 'custom', message: 'a path', params: { text: 'is required' } });
  else if (!v.startsWith('/')) ctx.addIssue({ code: 'custom', message: 'an absolute path', params: { text: `must be an absolute path (got '${v}')` } });
});

/** mode/owner/group, which most file modules take. */
export const attrsShape = {
  /** Octal (`'0750'`) or symbolic (`'u=rwx,g=rx'`) permissions. */
  mode: modeSchema.optional(),
  /** Owning user: a name or a numeric id. */
  owner: z.string().optional(),
  /** Owning group: a name or a numeric id. */
  group: z.string().optional(),
};

/** What copy and template write: dest and how (Ansible's names). */
export const writtenFileShape = {
  /** Absolute path on the host. */
  dest: absolutePath,
  ...attrsShape,
  /** false: write only when dest is missing (default true). */
  force: z.boolean().optional(),
  /** Keep the replaced file as `dest.<time>~`. */
  backup: z.boolean().optional(),
  /** Command with %s run against the new temporary file; non-zero exit leaves dest untouched and fails the task. */
  validate: z.string().optional(),
  /**
   * A symbolic link at dest: false (default) replaces the link with the file, as Ansible's copy; true writes its
   * target, refused when the link belongs neither to the user the task runs as nor to the target's owner.
   */
  follow: z.boolean().optional(),
};
