// Counts what a benchmark reads off a connection: requests, round trips (waits), channels opened.
import type { ConnectionStats } from './types.js';

/**
 * A round trip is counted when a request starts while none is in flight: requests sent together (pipelined
 * over one connection) cost the network's latency once, and are counted once.
 */
export class RequestStats implements ConnectionStats {
  asked = 0;
  roundTrips = 0;
  requests = 0;
  channels = 0;
  private inFlight = 0;

  begin(): void {
    this.requests++;
    if (this.inFlight++ === 0) this.roundTrips++;
  }

  end(): void {
    this.inFlight--;
  }
}
