// Host entries in an inventory can carry a port (`web1:2222`, `[::1]:22`) and ranges (`web[01:50]`); Ansible's rules for both.

const W = String.raw`[\p{L}\p{N}\p{M}_]`;
const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const IPV6_C = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const IPV4_C = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const LABEL = String.raw`(?:${W}|${ALNUM_RANGE})(?:${W}|[_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(String.raw`^(?:${IPV4_C}\.){3}${IPV4_C}$`, 'i');
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${IPV6_C}:){7}${IPV6_C}`,
      `(?:${IPV6_C}:){1,6}:`,
      `(?:${IPV6_C}:)(?::${IPV6_C}){1,6}`,
      `(?:${IPV6_C}:){2}(?::${IPV6_C}){1,5}`,
      `(?:${IPV6_C}:){3}(?::${IPV6_C}){1,4}`,
      `(?:${IPV6_C}:){4}(?::${IPV6_C}){1,3}`,
      `(?:${IPV6_C}:){5}(?::${IPV6_C}){1,2}`,
      `(?:${IPV6_C}:){6}(?::${IPV6_C})`,
      `:(?::${IPV6_C}){1,6}`,
      `${IPV6_C}?::`,
      String.raw`(?:0:){6}(?:${IPV6_C}\.){3}${IPV6_C}`,
      String.raw`::(?:ffff:)?(?:${IPV6_C}\.){3}${IPV6_C}`,
      String.raw`(?:0:){5}ffff:(?:${IPV6_C}\.){3}${IPV6_C}`,
    ].join('|') +
    ')$',
  'i',
);
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');
// HOSTNAME restricted to ASCII, tried first: the same answer for an ASCII name, but the Unicode classes above cost ~8 ms
// of CPU to compile, on every run, for an inventory of plain names.
const ASCII_LABEL = String.raw`(?:\w|${ALNUM_RANGE})(?:[\w-]|${ALNUM_RANGE})*(?<![_-])`;
const ASCII_HOSTNAME = new RegExp(String.raw`^${ASCII_LABEL}(?:\.${ASCII_LABEL})*$`, 'i');

/** Is this an IPv4 or IPv6 address (ranges allowed)? Used for inventory_hostname_short. */
export function isIpAddress(name: string): boolean {
  // every IPv6 form holds a colon, every IPv4 one a dot: a plain name compiles neither pattern (~6 ms a run)
  return (name.includes('.') && IPV4.test(name)) || (name.includes(':') && IPV6.test(name));
}

/**
 * Splits `host:port` / `[v6]:port` as Ansible's parse_address does; returns undefined when the text
 * is not a recognisable host (Ansible then keeps the whole text as the name, with no port).
 */
export function parseAddress(address: string): { host: string; port: number | undefined } | undefined {
  let host = address;
  let port: number | undefined;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(host);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  if (ASCII_HOSTNAME.test(host) || IPV4.test(host) || IPV6.test(host) || HOSTNAME.test(host)) return { host, port };
  return undefined;
}

const ASCII_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Python's int() on a range bound: digits with optional sign, underscores and surrounding spaces. */
function toInt(text: string, what: string): number {
  if (!/^\s*[-+]?[0-9]+(?:_[0-9]+)*\s*$/.test(text)) {
    throw new Error(`${what} '${text}' is not a number or a single letter`);
  }
  return Number(text.replace(/_/g, '').trim());
}

/** Expands every `[begin:end(:step)]` in a host name, as Ansible's expand_hostname_range does. */
export function expandHostRange(line: string): string[] {
  const parts = line.replace('[', '|').replace(']', '|').split('|');
  if (parts.length !== 3) {
    throw new Error(`invalid host range in '${line}': expected one [begin:end] with closed brackets`);
  }
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    throw new Error(`invalid host range in '${line}': host range must be begin:end or begin:end:step`);
  }
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new Error(`invalid host range in '${line}': host range must specify end value`);
  let fill = (x: string | number) => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    const width = beg.length;
    if (width !== end.length) {
      throw new Error(`invalid host range in '${line}': host range must specify equal-length begin and end formats`);
    }
    fill = (x) => {
      const s = String(x);
      return s.startsWith('-') ? '-' + s.slice(1).padStart(width - 1, '0') : s.padStart(width, '0');
    };
  }
  let seq: (string | number)[];
  const iBeg = ASCII_LETTERS.indexOf(beg);
  const iEnd = ASCII_LETTERS.indexOf(end);
  const step = toInt(stepText, 'range step');
  if (step === 0) throw new Error(`invalid host range in '${line}': the step must not be zero`);
  if (iBeg >= 0 && iEnd >= 0) {
    if (iBeg > iEnd) throw new Error(`invalid host range in '${line}': host range must have begin <= end`);
    seq = [];
    // Python slice semantics, [i_beg:i_end+1:step]
    // a negative step over begin <= end is empty, as the Python slice is
    if (step > 0) for (let i = iBeg; i <= iEnd; i += step) seq.push(ASCII_LETTERS[i]!);
  } else {
    const b = toInt(beg, `range begin`);
    const e = toInt(end, `range end`) + 1;
    seq = [];
    if (step > 0) for (let i = b; i < e; i += step) seq.push(i);
    else for (let i = b; i > e; i += step) seq.push(i);
  }
  const hosts: string[] = [];
  for (const item of seq) {
    const name = head + fill(item) + tail;
    if (name.includes('[')) hosts.push(...expandHostRange(name));
    else hosts.push(name);
  }
  return hosts;
}

/** A host entry of an inventory: its names after range expansion, and the port it names, if any. */
export function expandHostPattern(pattern: string): { hostnames: string[]; port: number | undefined } {
  const parsed = parseAddress(pattern);
  const name = parsed ? parsed.host : pattern;
  const port = parsed?.port;
  return { hostnames: name.includes('[') ? expandHostRange(name) : [name], port };
}
