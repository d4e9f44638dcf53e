// Parses -e/--extra-vars as Ansible does: key=value pairs (strings), a JSON/YAML object, or @file.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InputError } from '../errors.js';
import type { Vars } from '../playbook/types.js';

const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;
/** yaml (~70 modules) is loaded for a JSON/YAML object or an @file only, not for key=value pairs or no -e at all. */
const parseYaml = (text: string): unknown => (yamlModule ??= require('yaml') as typeof import('yaml')).parse(text);

/** Splits `a=1 b='two words'` into pairs, honouring single and double quotes. */
function splitKeyValues(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new InputError(`-e ${JSON.stringify(text)}: expected key=value pairs, a JSON or YAML object, or @file`);
    let value = m[2] ?? '';
    if (value.startsWith('"')) value = JSON.parse(value) as string;
    else if (value.startsWith("'")) value = value.slice(1, -1);
    out.push([m[1] as string, value]);
    pos = re.lastIndex;
  }
  return out;
}

/** Merges every -e argument, later ones winning. */
export function parseExtraVars(args: readonly string[]): Vars {
  const vars: Vars = {};
  for (const arg of args) {
    let text = arg.trim();
    let source = '-e';
    if (text.startsWith('@')) {
      source = text.slice(1);
      try {
        text = readFileSync(source, 'utf8');
      } catch (err) {
        throw new InputError(`-e @${source}: ${(err as Error).message}`);
      }
    }
    if (text.startsWith('{') || source !== '-e') {
      let parsed: unknown;
      try {
        parsed = parseYaml(text);
      } catch (err) {
        throw new InputError(`${source}: ${(err as Error).message}`);
      }
      if (parsed === null || parsed === undefined) continue;
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputError(`${source}: extra vars must be a mapping`);
      Object.assign(vars, parsed);
    } else {
      for (const [k, v] of splitKeyValues(text)) vars[k] = v;
    }
  }
  return vars;
}
