// The values inventory variables can hold, and the two ways they leave the inventory: plain for playbooks, Ansible's JSON for --list.

/** A string marked `!unsafe` in YAML: a plain string to playbooks, `{"__ansible_unsafe": …}` in ansible-inventory's JSON. */
export class UnsafeText {
  constructor(readonly text: string) {}
}

/** An inline `!vault` value: the plaintext to playbooks, `{"__ansible_vault": envelope}` in ansible-inventory's JSON. */
export class VaultText {
  constructor(
    readonly envelope: string,
    readonly text: string,
  ) {}
}

/** A value as Ansible's inventory can hold it once converted to JSON-like data. */
export type InventoryValue =
  | string
  | number
  | boolean
  | null
  | UnsafeText
  | VaultText
  | InventoryValue[]
  | { [key: string]: InventoryValue };

/** Deep copy of a value, each `!unsafe` string replaced by what `unsafe` makes of its text. */
function copyValue(value: InventoryValue, unsafe: (text: string) => unknown): unknown {
  if (value instanceof UnsafeText) return unsafe(value.text);
  if (value instanceof VaultText) return unsafe === ansibleUnsafe ? { __ansible_vault: value.envelope } : value.text;
  if (Array.isArray(value)) return value.map((v) => copyValue(v, unsafe));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copyValue(v, unsafe);
    return out;
  }
  return value;
}

/** Deep copy with `!unsafe` strings as plain strings: what a playbook sees. */
export function toPlainValue(value: InventoryValue): unknown {
  return copyValue(value, (text) => text);
}

/** Deep copy as ansible-inventory prints it: `!unsafe` strings become `{"__ansible_unsafe": text}`. */
export function toAnsibleJson(value: InventoryValue): unknown {
  return copyValue(value, ansibleUnsafe);
}

function ansibleUnsafe(text: string): unknown {
  return { __ansible_unsafe: text };
}
