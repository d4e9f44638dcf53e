// The ssh command-line arguments Ansible users put in ansible_ssh_args / _common_args / _extra_args, read as OpenSSH
// reads them: `-o Key=Value`, `-J`, `-i`, `-l`, `-p` become options; what provision cannot do is refused by name.
import { InputError } from '../errors.js';

/** One `Key Value` option, as `-o` gives it; keys keep the case the user wrote. */
export type SshOption = [key: string, value: string];

/**
 * What provision does with each ssh option (lower-case name). `honoured` ones change the connection as they do in
 * ssh; `ignored` ones change nothing provision does (why is given); `unsupported` ones would change behaviour in a way
 * provision cannot follow, so they are refused unless set to one of the values listed as harmless.
 */
const honoured = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'stricthostkeychecking',
  'passwordauthentication',
  'pubkeyauthentication',
  'connecttimeout',
]);

const ignored: Record<string, string> = {
  controlmaster: 'provision keeps one connection per host itself',
  controlpath: 'provision keeps one connection per host itself',
  controlpersist: 'provision keeps one connection per host itself',
  compression: 'a transport detail',
  serveraliveinterval: 'provision sends its own keepalives',
  serveralivecountmax: 'provision sends its own keepalives',
  tcpkeepalive: 'provision sends its own keepalives',
  loglevel: 'ssh logging',
  batchmode: 'provision never prompts during a connection',
  hashknownhosts: 'provision records accepted keys unhashed',
  checkhostip: 'only the host name is checked',
  addkeystoagent: 'provision never adds keys to the agent',
  updatehostkeys: 'provision never rewrites known_hosts entries',
  visualhostkey: 'terminal output',
  preferredauthentications: 'provision tries keys, then the password, then the agent',
  kbdinteractiveauthentication: 'used only to send the inventory password',
  challengeresponseauthentication: 'used only to send the inventory password',
  numberofpasswordprompts: 'provision never prompts during a connection',
  connectionattempts: 'one attempt; an unreachable host is reported as such',
  escapechar: 'no interactive session',
  addressfamily: 'the address is used as resolved',
  exitonforwardfailure: 'no forwardings',
  clearallforwardings: 'no forwardings',
};

/** Options provision cannot honour, with the values that are harmless (the option off). */
const unsupported: Record<string, string[]> = {
  gssapiauthentication: ['no'],
  gssapidelegatecredentials: ['no'],
  gssapikeyexchange: ['no'],
  forwardagent: ['no'],
  forwardx11: ['no'],
  forwardx11trusted: ['no'],
  requesttty: ['no', 'auto'],
  remotecommand: ['none'],
  permitlocalcommand: ['no'],
  localcommand: [],
  localforward: [],
  remoteforward: [],
  dynamicforward: [],
  certificatefile: [],
  pkcs11provider: ['none'],
  securitykeyprovider: ['internal'],
  hostkeyalias: [],
  canonicalizehostname: ['no'],
  bindaddress: [],
  bindinterface: [],
  knownhostscommand: ['none'],
  // provision reads no global known_hosts file: turning it off changes nothing
  globalknownhostsfile: ['/dev/null', 'none'],
  sendenv: [],
  setenv: [],
  tunnel: ['no'],
  proxyusefdpass: ['no'],
  hostkeyalgorithms: [],
  ciphers: [],
  macs: [],
  kexalgorithms: [],
  pubkeyacceptedalgorithms: [],
  pubkeyacceptedkeytypes: [],
  hostbasedauthentication: ['no'],
  enablesshkeysign: ['no'],
  revokedhostkeys: [],
  verifyhostkeydns: ['no'],
  streamlocalbindunlink: ['no'],
};

/** How ssh_config(5) spells the options refused, for messages (a config file may spell them in any case). */
const spelled = new Map(
  [
    'GSSAPIAuthentication', 'GSSAPIDelegateCredentials', 'GSSAPIKeyExchange', 'ForwardAgent', 'ForwardX11', 'ForwardX11Trusted',
    'RequestTTY', 'RemoteCommand', 'PermitLocalCommand', 'LocalCommand', 'LocalForward', 'RemoteForward', 'DynamicForward',
    'CertificateFile', 'PKCS11Provider', 'SecurityKeyProvider', 'HostKeyAlias', 'CanonicalizeHostname', 'BindAddress',
    'BindInterface', 'KnownHostsCommand', 'GlobalKnownHostsFile', 'SendEnv', 'SetEnv', 'Tunnel', 'ProxyUseFdpass',
    'HostKeyAlgorithms', 'Ciphers', 'MACs', 'KexAlgorithms', 'PubkeyAcceptedAlgorithms', 'PubkeyAcceptedKeyTypes',
    'HostbasedAuthentication', 'EnableSSHKeysign', 'RevokedHostKeys', 'VerifyHostKeyDNS', 'StreamLocalBindUnlink',
  ].map((k) => [k.toLowerCase(), k]),
);

/**
 * Whether provision can connect as ssh would with this option set: undefined when it can, else why not. `fromArgs`:
 * an option provision does not know is refused in the ssh args (the user typed it for this run) and ignored in an
 * ssh config file (where options for other programs and other platforms are common).
 */
export function unsupportedOption(key: string, value: string, fromArgs: boolean): string | undefined {
  const k = key.toLowerCase();
  if (honoured.has(k) || k in ignored) return undefined;
  const harmless = unsupported[k];
  if (harmless) {
    return harmless.includes(value.trim().toLowerCase()) ? undefined : `${spelled.get(k) ?? key} ${value} is not supported by provision`;
  }
  return fromArgs ? `${key} is an ssh option provision does not know` : undefined;
}

const optionWithArgument: Record<string, string | undefined> = {
  o: undefined,
  J: 'ProxyJump',
  i: 'IdentityFile',
  l: 'User',
  p: 'Port',
};
/** Flags that take no argument and change nothing provision does. */
const harmlessFlags = new Set(['C', 'q', 'v', 'T', 'n', 'x', 'a', 'k', '4', '6']);
/** Flags that ssh understands and provision cannot follow (named in the error). */
const flagMeaning: Record<string, string> = {
  A: 'agent forwarding',
  X: 'X11 forwarding',
  Y: 'trusted X11 forwarding',
  t: 'a terminal',
  K: 'GSSAPI authentication',
  L: 'local port forwarding',
  R: 'remote port forwarding',
  D: 'dynamic port forwarding',
  W: 'stdio forwarding',
  F: 'another ssh config file',
  c: 'a cipher choice',
  m: 'a MAC choice',
  b: 'a bind address',
  B: 'a bind interface',
  E: 'a log file',
  S: 'a control socket',
  M: 'a control master',
  N: 'no remote command',
  f: 'going to the background',
  s: 'a subsystem',
  G: 'printing the configuration',
  I: 'a PKCS#11 library',
  Q: 'a query',
  e: 'an escape character',
  w: 'tunnel forwarding',
  O: 'a control command',
  P: 'a tag',
  g: 'remote hosts connecting to forwarded ports',
  V: 'printing the version',
};
const flagsWithArgument = new Set(['L', 'R', 'D', 'W', 'F', 'c', 'm', 'b', 'B', 'E', 'S', 'I', 'Q', 'e', 'w', 'O', 'P']);

/** Splits `Key=Value` or `Key Value` (as `-o` takes it). */
function splitOption(text: string, where: string): SshOption {
  const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/s.exec(text);
  if (!m || m[2]!.trim() === '') throw new InputError(`${where}: -o ${text}: expected -o Key=Value`);
  return [m[1]!, m[2]!.trim()];
}

/**
 * Reads ssh command-line arguments (already split as a shell would) into `-o`-style options in order; `-F file` goes
 * to `onConfigFile` (refused without one). `where` names the host and variable in errors. Throws InputError on what provision cannot follow, naming the flag or option.
 */
export function parseSshArgs(args: readonly string[], where: string, onConfigFile?: (path: string) => void): SshOption[] {
  const out: SshOption[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      throw new InputError(`${where}: unexpected argument '${arg}' (only options such as -o Key=Value, -J, -i, -l, -p are read)`);
    }
    // Flags may be grouped (-Cq) and the last may take its argument attached (-oKey=Value) or as the next word.
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j]!;
      if (flag in optionWithArgument || flagsWithArgument.has(flag)) {
        let value = arg.slice(j + 1);
        if (value === '') {
          if (i + 1 >= args.length) throw new InputError(`${where}: -${flag} needs an argument`);
          value = args[++i]!;
        }
        if (flag === 'F' && onConfigFile) {
          onConfigFile(value); // the last -F wins, as in ssh
        } else if (flag in optionWithArgument) {
          const key = optionWithArgument[flag];
          out.push(key === undefined ? splitOption(value, where) : [key, value]);
        } else {
          throw new InputError(`${where}: -${flag} (${flagMeaning[flag]}) is not supported by provision`);
        }
        break;
      }
      if (harmlessFlags.has(flag)) continue;
      if (flag in flagMeaning) throw new InputError(`${where}: -${flag} (${flagMeaning[flag]}) is not supported by provision`);
      throw new InputError(`${where}: -${flag} is an ssh flag provision does not know`);
    }
  }
  for (const [key, value] of out) {
    const problem = unsupportedOption(key, value, true);
    if (problem) throw new InputError(`${where}: ${problem}`);
  }
  return out;
}
