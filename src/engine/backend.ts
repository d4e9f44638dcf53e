// The one module that imports BullMQ: the engine a URL names, Redis (redis://, rediss://) or PostgreSQL
// (postgres://, postgresql://), with the same classes over either. Loaded only by --engine and `provision worker`.
import * as bullmq from 'bullmq';
import { InputError } from '../errors.js';

export type Classes = Pick<typeof bullmq, 'Queue' | 'Worker' | 'FlowProducer' | 'QueueEvents' | 'QueueEventsProducer'>;

export interface Backend {
  kind: 'redis' | 'postgres';
  classes: Classes;
  /** A connection option for one more queue object (each Redis one gets its own client, closed with it). */
  connection(): bullmq.ConnectionOptions;
  /** The URL with any password left out, to name in messages. */
  shown: string;
  close(): Promise<void>;
}

/** Queue names: shards per region, one barrier queue a run, and the control events (halts). */
export const queueNames = {
  shards: (region: string) => `provision.shards.${region}`,
  barriers: (runId: string) => `provision.barriers.${runId}`,
  control: 'provision.control',
  /** The runs' records (see run-record.ts): jobs no worker takes, one a run, named by its id. */
  runs: 'provision.runs',
};

export async function openBackend(url: string): Promise<Backend> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`--engine ${JSON.stringify(url)}: not a URL (redis://host:port or postgres://user@host:port/db)`);
  }
  const shownUrl = new URL(url);
  if (shownUrl.password) shownUrl.password = '***';
  const shown = shownUrl.toString();
  if (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') {
    const { Redis } = await import('ioredis');
    const clients: InstanceType<typeof Redis>[] = [];
    return {
      kind: 'redis',
      shown,
      classes: bullmq,
      connection: () => {
        // BullMQ's blocking commands need no retry limit per request
        const c = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
        c.on('error', () => undefined); // reported by the queue objects that use it
        clients.push(c);
        return c as unknown as bullmq.ConnectionOptions;
      },
      close: async () => {
        await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      },
    };
  }
  if (parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:') {
    const classes = bullmq.withBackend(bullmq.createPostgresBackend) as unknown as Classes;
    // migrate: the first coordinator or worker on a new database makes BullMQ's tables (idempotent, under a lock)
    return { kind: 'postgres', shown, classes, connection: () => ({ connectionString: url, migrate: true }) as unknown as bullmq.ConnectionOptions, close: async () => undefined };
  }
  throw new InputError(`--engine ${shown}: the scheme ${parsed.protocol} is not an engine (redis://, rediss://, postgres://, postgresql://)`);
}
