// Values marked secret are redacted wherever the runner prints, diffs or reports them.

const registry = new Set<string>();

/** Marks a string as secret: it is returned unchanged, but every occurrence in output is replaced by ********. */
export function secret(value: string): string {
  if (value.length > 0) registry.add(value);
  return value;
}

/** Replaces every registered secret in a text by ********. */
export function redact(text: string): string {
  let out = text;
  for (const s of registry) out = out.split(s).join('********');
  return out;
}
