// The one interface every transport implements: run a command, read a file, write a file atomically.

/** A command: an argv array (each element quoted for the shell) or a shell script run by `sh -c`. */
export type Command = string | readonly string[];

export interface ExecOptions {
  /** Bytes written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Run through sudo (true: as the connection's become user). Defaults to the connection's setting. */
  become?: boolean;
  /** Kill the command after this many milliseconds (it then fails with a timeout). */
  timeoutMs?: number;
  /** Working directory (quoted, `cd` before the command). */
  cwd?: string;
  /** Extra environment variables (names must be valid identifiers). */
  env?: Record<string, string>;
  /** Cap on captured stdout/stderr in bytes each (default 1 MiB); past it the output is cut and `truncated` set. */
  maxOutput?: number;
  /**
   * The script is provision's own, written as the body of a shell function: it leaves with `return` (never `exit`),
   * declares its variables `local`, does not `cd` and resets any shell option or trap it sets. It then runs in the
   * host's shell itself, with no subshell of its own and no host-side `timeout` (the transport's own limit ends the
   * shell instead): one process or three fewer a command. Not with `cwd` or `env`; with `stdin` it gets a subshell.
   */
  inline?: boolean;
  /** stdout's bytes kept as they came, one character each (latin1): for output that holds binary content. */
  raw?: boolean;
  /**
   * An inline command of a group sent together (any name, the same for the group, new for each group): it does not
   * run (exit 125) once an earlier command of its group failed, and its own failure stops the later ones. Only on a
   * connection whose commands share one shell (`sharedShell`).
   */
  group?: string;
  /** Called once the command has been handed to the transport: a command asked for after that runs after this one. */
  onSent?: () => void;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was cut at `maxOutput`. */
  truncated?: boolean;
}

export interface WriteFileOptions {
  mode?: string;
  owner?: string;
  group?: string;
  /** A command with `%s` for the temporary file; it must exit 0 or nothing is replaced. */
  validate?: string;
  /** Create the file's missing parent directories first. */
  createParents?: boolean;
  /** Copy the file being replaced here (with its attributes) once the new one is validated. */
  backupTo?: string;
  become?: boolean;
}

export interface WriteResult {
  /** False when the file replaced had another owner or group, which the write could not keep (not root). */
  ownerKept: boolean;
}

export interface BecomeSettings {
  become: boolean;
  becomeUser?: string;
  becomePassword?: string;
  /** `su` instead of sudo: only from a root login, where su asks no password (see prepareCommand). */
  method?: 'sudo' | 'su';
  /** The user the connection logs in as (set by the connection): already the become user means no sudo. */
  loginUser?: string;
}

/** Counters a benchmark reads: round trips (waits for an answer, pipelined requests counted once), requests, channels. */
export interface ConnectionStats {
  /** Commands asked for (exec, readFile, writeFile), counted when asked: what was read before the last may be stale. */
  asked: number;
  roundTrips: number;
  requests: number;
  channels: number;
}

export interface Connection {
  /** The inventory name of the host this connection reaches. */
  readonly host: string;
  /** Whether commands run one after another in one long-lived shell (so a `group` of commands can stop at a failure). */
  readonly sharedShell?: boolean;
  readonly stats: ConnectionStats;
  /** Runs a command; never throws for a non-zero exit (see `code`). Throws ConnectionError if the transport fails. */
  exec(cmd: Command, opts?: ExecOptions): Promise<ExecResult>;
  /** Reads a whole file as bytes; null when it does not exist. */
  readFile(path: string, opts?: { become?: boolean }): Promise<Buffer | null>;
  /** Writes a file atomically: a temporary file beside it, mode/owner set, validated, then renamed. */
  writeFile(path: string, content: string | Buffer, opts?: WriteFileOptions): Promise<WriteResult>;
  close(): Promise<void>;
}

/** Where a command's output goes as it arrives. */
export interface Sink {
  stdout(d: Buffer): void;
  stderr(d: Buffer): void;
  /** Called once the command has been handed to the transport (see ExecOptions.onSent). */
  sent?(): void;
}
