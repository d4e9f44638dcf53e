// A user-space delaying TCP proxy in front of an sshd: the kernel here has no netem, and users' networks are not loopback.
// With no delay it counts the bytes each tool sends a host, and receives.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export interface LatencyProxy {
  /** The port to connect to instead of the target's. */
  port: number;
  /** Bytes passed so far, over all connections: to the target (sent by the tool) and back from it. */
  bytes: { sent: number; received: number };
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<port> (listenPort, or a free one) to 127.0.0.1:targetPort, delaying every chunk by `oneWayMs` in each direction. */
export async function startLatencyProxy(targetPort: number, oneWayMs: number, listenPort = 0): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  const bytes = { sent: 0, received: 0 };
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => (bytes.sent += d.length));
    upstream.on('data', (d: Buffer) => (bytes.received += d.length));
    pipeDelayed(client, upstream, oneWayMs);
    pipeDelayed(upstream, client, oneWayMs);
  });
  server.listen(listenPort, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const closed = once(server, 'close');
  let closing = false;
  return {
    port,
    bytes,
    async close() {
      if (!closing) {
        closing = true;
        for (const s of sockets) s.destroy();
        server.close();
      }
      await closed;
    },
  };
}

/**
 * Copies `from` to `to`, each chunk `ms` later. Timers of the same duration fire in the order they were set, so the
 * byte order holds; an end or an error travels with the same delay, after the data before it.
 */
function pipeDelayed(from: Socket, to: Socket, ms: number): void {
  const later = (fn: () => void) => (ms > 0 ? setTimeout(fn, ms) : setImmediate(fn));
  from.on('data', (chunk: Buffer) => {
    later(() => {
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on('end', () => later(() => to.end()));
  // An abrupt close (reset, error) is passed on as one; a clean one already passed its end.
  from.on('error', () => later(() => to.destroy()));
  from.on('close', (hadError: boolean) => {
    if (hadError) later(() => to.destroy());
  });
}
