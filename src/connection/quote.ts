// Shell quoting lives here and only here: every value that reaches a remote shell passes through quote().

const safe = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one value for a POSIX shell so it is passed literally (spaces, quotes, $(), newlines, non-ASCII). */
export function quote(value: string): string {
  if (value === '') return "''";
  if (safe.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** Joins an argv array into a shell command line, each element quoted. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}

/** Builds a shell command from a template: each `${value}` is quoted; arrays are quoted element by element. */
export function sh(strings: TemplateStringsArray, ...values: ReadonlyArray<string | number | readonly string[]>): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += Array.isArray(value) ? quoteArgv(value) : quote(String(value));
    out += strings[i + 1] ?? '';
  });
  return out;
}

/** Turns a Command (argv or script) into the script text that `sh -c` runs. */
export function toScript(cmd: string | readonly string[]): string {
  return typeof cmd === 'string' ? cmd : quoteArgv(cmd);
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Wraps a script with a working directory and environment, all quoted. */
export function wrapScript(script: string, opts: { cwd?: string; env?: Record<string, string> }): string {
  let out = script;
  if (opts.env && Object.keys(opts.env).length > 0) {
    const assignments = Object.entries(opts.env).map(([k, v]) => {
      if (!envName.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
      return `${k}=${quote(v)}`;
    });
    out = `export ${assignments.join(' ')}; ${out}`;
  }
  if (opts.cwd) out = `cd ${quote(opts.cwd)} && { ${out}\n}`;
  return out;
}
