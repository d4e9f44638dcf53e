// Mode, owner and group: compare what a path has with what a task wants, and the commands that fix the difference.
import { quote } from '../../connection/quote.js';
import { chmodArg, formatMode, resolveMode, type FileMode } from './mode.js';
import { sameIdentity, type PathStat } from './stat.js';

export interface WantedAttrs {
  mode?: FileMode;
  owner?: string;
  group?: string;
}

export interface AttrChanges {
  /** Human lines: `mode 0644 → 0600`, `owner root → www-data`. */
  changes: string[];
  /** Argument for chmod (exact bits), when the mode differs. */
  chmod?: string;
  /** Argument for chown (`owner`, `:group` or `owner:group`), when either differs. */
  chown?: string;
}

/** What must change on an existing path (`st`) to get `want`; nothing when it already matches. */
export function planAttrs(st: PathStat, want: WantedAttrs): AttrChanges {
  const out: AttrChanges = { changes: [] };
  if (want.mode !== undefined && st.type !== 'link') {
    const bits = resolveMode(want.mode, st.mode, st.type === 'directory');
    if (bits !== (st.mode & 0o7777)) {
      out.changes.push(`mode ${formatMode(st.mode)} → ${formatMode(bits)}`);
      out.chmod = chmodArg(bits);
    }
  }
  const owner = want.owner !== undefined && !sameIdentity(want.owner, st.owner, st.uid) ? want.owner : undefined;
  const group = want.group !== undefined && !sameIdentity(want.group, st.group, st.gid) ? want.group : undefined;
  if (owner !== undefined) out.changes.push(`owner ${st.owner} → ${owner}`);
  if (group !== undefined) out.changes.push(`group ${st.group} → ${group}`);
  if (owner !== undefined || group !== undefined) out.chown = `${owner ?? ''}${group !== undefined ? `:${group}` : ''}`;
  return out;
}

/** Attributes a new path gets, as plan lines: `mode 0770`, `group www-data`. */
export function describeNewAttrs(want: WantedAttrs): string[] {
  const out: string[] = [];
  if (want.mode !== undefined) out.push(`mode ${want.mode}`);
  if (want.owner !== undefined) out.push(`owner ${want.owner}`);
  if (want.group !== undefined) out.push(`group ${want.group}`);
  return out;
}

/** The step (see inlineSteps) that refuses to go on when `$p` has become a link since the check. */
export const notLinkNow = '{ [ ! -L "$p" ] || { echo "$p is a symbolic link now; its mode is not changed" >&2; false; }; }';

/**
 * Steps (see inlineSteps) that apply `attrs` to the path held in shell variable `$p`. Ownership never follows a link (`chown -h`):
 * a link planted at `$p` cannot hand its target to someone. noDereference: `$p` is a link, so no chmod (it would follow).
 */
export function attrsScript(attrs: Pick<AttrChanges, 'chmod' | 'chown'>, opts: { noDereference?: boolean } = {}): string[] {
  const lines: string[] = [];
  if (attrs.chown) lines.push(`chown -h ${quote(attrs.chown)} -- "$p"`);
  if (attrs.chmod && !opts.noDereference) {
    // chmod always follows a link: refuse one planted at `$p` since the check.
    lines.push(notLinkNow, `chmod ${quote(attrs.chmod)} -- "$p"`);
  }
  return lines;
}

/** Builds the chown argument for an owner and/or group. */
export function chownArg(owner?: string, group?: string): string | undefined {
  if (owner === undefined && group === undefined) return undefined;
  return `${owner ?? ''}${group !== undefined ? `:${group}` : ''}`;
}
