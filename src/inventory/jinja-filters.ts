// Ansible's filters, on plain values: nothing here reads a file, runs a program or evaluates inventory text as code.

import { Missing, NativeText, pyJson, pyRegex, pyReplacement, pyText, pyYaml, toInt, truthy } from './jinja-python.js';

export const FILTERS: Record<string, (...args: never[]) => unknown> = {
  default: (value: unknown, dflt: unknown = '', boolean = false) => (value === undefined || value instanceof Missing || (boolean && !truthy(value)) ? dflt : value),
  lower: (value: unknown) => pyText(value).toLowerCase(),
  upper: (value: unknown) => pyText(value).toUpperCase(),
  int: (value: unknown, dflt = 0, base = 10) => toInt(value, dflt, base),
  bool: (value: unknown) => {
    if (typeof value === 'boolean') return value;
    if (value === null || value === undefined) return false;
    const v = typeof value === 'string' ? value.toLowerCase() : value;
    return v === 'yes' || v === 'on' || v === '1' || v === 'true' || v === 1;
  },
  string: (value: unknown) => new NativeText(pyText(value)),
  trim: (value: unknown) => pyText(value).trim(),
  replace: (value: unknown, old: string, repl: string, count?: number) => {
    const s = pyText(value);
    const o = pyText(old);
    if (count === undefined) return s.split(o).join(pyText(repl));
    const parts = s.split(o);
    return parts.slice(0, count + 1).join(pyText(repl)) + (parts.length > count + 1 ? o + parts.slice(count + 1).join(o) : '');
  },
  join: (value: unknown, sep = '') => (Array.isArray(value) ? value.map(pyText).join(pyText(sep)) : typeof value === 'string' ? [...value].join(pyText(sep)) : pyText(value)),
  length: (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value.length : value !== null && typeof value === 'object' ? Object.keys(value).length : 0),
  first: (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value[0] : undefined),
  last: (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value[value.length - 1] : undefined),
  regex_replace: (value: unknown, pattern = '', replacement = '', ignorecase = false, multiline = false) =>
    pyText(value).replace(pyRegex(pyText(pattern), `g${ignorecase ? 'i' : ''}${multiline ? 'm' : ''}`), pyReplacement(pyText(replacement))),
  to_json: (value: unknown) => new NativeText(pyJson(value)),
  to_yaml: (value: unknown) => new NativeText(pyYaml(value)),
  mandatory: (value: unknown, msg?: string) => {
    if (value === undefined || value instanceof Missing) {
      throw new Error(msg ?? `Mandatory variable ${value instanceof Missing ? `'${value.name}' ` : ''}not defined.`);
    }
    return value;
  },
};
FILTERS['d'] = FILTERS['default']!;

/** The filters a variable's template may use. */
export const SUPPORTED_FILTERS = Object.keys(FILTERS).sort();

