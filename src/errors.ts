// A small tree of error classes: each one is a user error with a message that can be printed without a stack.

/** Base class: errors that are the user's input or the environment, printed without a stack trace. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

/** Bad input: options, inventory, playbook or template that cannot be used (exit code 1). */
export class InputError extends ProvisionError {
  override name = 'InputError';
}

/** An inventory file that cannot be parsed; the message starts with `file:line:`. */
export class InventoryError extends InputError {
  override name = 'InventoryError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }
}

/** A playbook that cannot be loaded or does not export a playbook. */
export class PlaybookError extends InputError {
  override name = 'PlaybookError';
}

/** A template that cannot be rendered (missing variable, syntax error): names the template and line. */
export class TemplateError extends InputError {
  override name = 'TemplateError';
}

/** The transport failed: the host could not be reached or the connection dropped. */
export class ConnectionError extends ProvisionError {
  override name = 'ConnectionError';
}

/** Authentication or host key verification failed. */
export class AuthenticationError extends ConnectionError {
  override name = 'AuthenticationError';
}

const exitCodeMeanings: Record<number, string> = {
  126: 'command found but not executable',
  127: 'command not found',
  124: 'timed out',
};

/** A command that had to succeed exited non-zero; carries exit code, stdout, stderr. */
export class CommandError extends ProvisionError {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const meaning = exitCodeMeanings[code];
    const tail = stderr.trim() || stdout.trim();
    super(
      `command failed with exit code ${code}${meaning ? ` (${meaning})` : ''}: ${command}${tail ? `\n${tail}` : ''}`,
    );
  }
}

/** A task ran past its timeout. */
export class TimeoutError extends ProvisionError {
  override name = 'TimeoutError';
}

/**
 * A state a task needs is missing on the host (a file, a service, a project): in a real run this fails. In --check the
 * runner turns it into a predicted change only when an earlier task of the run planned a change that writes what is
 * missing (its footprint covers `needs`, or writes anything); otherwise it fails exactly as the real run would.
 */
export class MissingOnHostError extends ProvisionError {
  override name = 'MissingOnHostError';
  constructor(
    message: string,
    /** What is missing, as footprint paths (`/etc/app.conf`, `service:apache2`); `any-change` when any planned change may make it. */
    readonly needs: ReadonlyArray<{ path: string; tree?: boolean }> | 'any-change',
  ) {
    super(message);
  }
}
