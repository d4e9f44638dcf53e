// Runs commands on the controller itself (ansible_connection=local), through the same shell snippets as SSH.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { ConnectionError } from '../errors.js';
import { ShellConnection, type Sink } from './shell-connection.js';
import type { BecomeSettings } from './types.js';

export class LocalConnection extends ShellConnection {
  constructor(host: string, become: BecomeSettings = { become: false }) {
    super(host, { ...become, loginUser: userInfo().username });
  }

  protected run(script: string, stdin: Buffer | undefined, sink: Sink, timeoutMs?: number): Promise<{ code: number; timedOut: boolean }> {
    this.stats.begin();
    this.stats.channels++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => sink.stdout(d));
      child.stderr.on('data', (d: Buffer) => sink.stderr(d));
      let timedOut = false;
      let settled = false;
      const settle = () => {
        if (settled) return false;
        settled = true;
        this.stats.end();
        if (timer) clearTimeout(timer);
        return true;
      };
      const timer = timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, timeoutMs)
        : undefined;
      child.on('error', (err) => {
        if (settle()) reject(new ConnectionError(`${this.host}: cannot run /bin/sh: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        if (settle()) resolve({ code: code ?? (signal ? 128 + 9 : 1), timedOut });
      });
      child.stdin.on('error', () => {}); // the command may exit before reading all of stdin
      child.stdin.end(stdin ?? Buffer.alloc(0));
    });
  }

  async close(): Promise<void> {}
}
