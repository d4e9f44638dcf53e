// What a connection does, step by step, for -vvv (connection steps, commands sent) and -vvvv (the SSH protocol's
// own debug lines): one listener for the run, which redacts secrets; nothing is traced without one.

/** Receives a traced line: `level` 3 for steps and commands, 4 for the SSH protocol's debug output. */
export type TraceListener = (level: 3 | 4, host: string, line: string) => void;

let listener: TraceListener | undefined;

/** Sets (or, with undefined, removes) the one listener of connection traces. */
export function setTraceListener(l: TraceListener | undefined): void {
  listener = l;
}

/** Traces a line of a host's connection, when someone listens. */
export function trace(level: 3 | 4, host: string, line: string): void {
  listener?.(level, host, line);
}

/** Whether level-4 traces are listened to (ssh2's debug output costs a callback a packet). */
export const tracingProtocol = (): boolean => listener !== undefined && protocolLevel;

let protocolLevel = false;

/** Turns the SSH protocol's debug lines on or off (-vvvv). */
export function traceProtocol(on: boolean): void {
  protocolLevel = on;
}
