// Reading a service's state under systemd or SysV init, and the commands that change it; pure where it can be.
import { quote, sh } from '../../../connection/quote.js';

export type InitSystem = 'systemd' | 'sysv';
/** How boot-time enabling is managed on a SysV host; 'none' when no tool for it exists. */
export type EnableTool = 'systemctl' | 'update-rc.d' | 'chkconfig' | 'rc-update' | 'none';

export interface ServiceState {
  exists: boolean;
  running: boolean;
  /** null when it cannot be told (no tool to manage it). */
  enabled: boolean | null;
  enableTool: EnableTool;
  /** systemd: the unit is masked (linked to /dev/null): it cannot be started or enabled. */
  masked?: boolean;
  /** systemd: its unit file changed on disk since systemd loaded it (`systemctl daemon-reload` wanted). */
  needsDaemonReload?: boolean;
}

/** One command printing the service's state as key=value lines. */
export function stateScript(init: InitSystem, name: string): string {
  if (init === 'systemd') return sh`systemctl show --property=LoadState --property=ActiveState --property=UnitFileState --property=NeedDaemonReload -- ${name}`;
  return [
    'local n e f',
    `n=${quote(name)}`,
    'if [ -f "/etc/init.d/$n" ]; then',
    '  if command -v service >/dev/null 2>&1; then service "$n" status >/dev/null 2>&1 </dev/null; else "/etc/init.d/$n" status >/dev/null 2>&1 </dev/null; fi',
    '  echo "status=$?"',
    'else echo status=missing; fi',
    'if command -v update-rc.d >/dev/null 2>&1; then',
    '  e=no; for f in /etc/rc[2345].d/S[0-9][0-9]"$n"; do [ -e "$f" ] && e=yes; done; echo "enabled=$e tool=update-rc.d"',
    'elif command -v chkconfig >/dev/null 2>&1; then',
    '  if chkconfig "$n" >/dev/null 2>&1; then echo "enabled=yes tool=chkconfig"; else echo "enabled=no tool=chkconfig"; fi',
    'elif command -v rc-update >/dev/null 2>&1; then',
    '  if rc-update show default 2>/dev/null | grep -q "^ *$n |"; then echo "enabled=yes tool=rc-update"; else echo "enabled=no tool=rc-update"; fi',
    'else echo "tool=none"; fi',
  ].join('\n');
}

function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([A-Za-z]+)=(\S*)/g)) out.set(m[1]!, m[2]!);
  return out;
}

// `systemctl is-enabled` exits 0 for these UnitFileState values
const systemdEnabled = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient']);

/** Reads `systemctl show -p LoadState -p ActiveState -p UnitFileState`. */
export function parseSystemdShow(stdout: string): ServiceState {
  const kv = keyValues(stdout);
  const load = kv.get('LoadState') ?? '';
  const active = kv.get('ActiveState') ?? '';
  const file = kv.get('UnitFileState') ?? '';
  return {
    exists: load !== '' && load !== 'not-found',
    running: active === 'active' || active === 'reloading' || active === 'activating',
    enabled: systemdEnabled.has(file),
    enableTool: 'systemctl',
    ...(load === 'masked' || file === 'masked' || file === 'masked-runtime' ? { masked: true } : {}),
    ...(kv.get('NeedDaemonReload') === 'yes' ? { needsDaemonReload: true } : {}),
  };
}

/** Reads the SysV probe: the LSB status code (0 running; 1–4 dead, stopped or unknown) and the enable links. */
export function parseSysvState(stdout: string): ServiceState {
  const kv = keyValues(stdout);
  const status = kv.get('status') ?? 'missing';
  const tool = (kv.get('tool') ?? 'none') as EnableTool;
  return {
    exists: status !== 'missing',
    running: status === '0',
    enabled: tool === 'none' ? null : kv.get('enabled') === 'yes',
    enableTool: tool,
  };
}

export type ServiceAction = 'start' | 'stop' | 'restart' | 'reload';

/** The command that starts/stops/restarts/reloads a service; SysV output goes through a file, not our pipe. */
export function actionScript(init: InitSystem, name: string, action: ServiceAction): string {
  if (init === 'systemd') return sh`systemctl ${action} -- ${name}`;
  // a daemon that keeps its inherited stdout would hold the connection's pipe open forever: give it a file instead
  return [
    `n=${quote(name)}`,
    'o=$(mktemp)',
    `if command -v service >/dev/null 2>&1; then service "$n" ${action} >"$o" 2>&1 </dev/null; else "/etc/init.d/$n" ${action} >"$o" 2>&1 </dev/null; fi`,
    'rc=$?; cat "$o" >&2; rm -f "$o"; [ $rc -eq 0 ] || exit $rc',
  ].join('\n');
}

/** The command that enables or disables a service at boot. */
export function enableScript(tool: EnableTool, name: string, enable: boolean): string {
  switch (tool) {
    case 'systemctl':
      return sh`systemctl ${enable ? 'enable' : 'disable'} -- ${name}`;
    case 'update-rc.d':
      // `defaults` makes the links when there are none; `enable` turns existing K links into S links
      return enable ? sh`update-rc.d ${name} defaults >/dev/null && update-rc.d ${name} enable` : sh`update-rc.d ${name} disable`;
    case 'chkconfig':
      return sh`chkconfig ${name} ${enable ? 'on' : 'off'}`;
    case 'rc-update':
      return enable ? sh`rc-update add ${name} default` : sh`rc-update del ${name} default`;
    case 'none':
      return 'true';
  }
}
