// Change notifications on PostgreSQL: one dedicated LISTEN connection per listener, reconnected with back-off.

import pg from 'pg';
import {
  CHANGE_TOPICS,
  type ChangeListener,
  type ChangeNotifications,
  type ChangeSubscription,
  type ChangeTopic,
} from '../core/replicas.js';
import { CHANGE_CHANNEL, changePayload } from './replicas.js';

/** How long to wait before reconnecting: doubling from `initialMs` up to `maxMs`. */
export interface ReconnectBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The default {@link ReconnectBackoff}: 100 ms, doubling, at most 5 s. */
export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoff = { initialMs: 100, maxMs: 5_000 };

/** The `application_name` of the listening connection of the store in `schema`. */
export const listenerApplicationName = (schema: string): string => `tessera listen ${schema}`;

/** Where to listen, and how soon to try again after a failure. */
export interface PgListenOptions {
  readonly url: string;
  readonly schema: string;
  readonly backoff?: ReconnectBackoff;
}

/**
 * Notifications for the store in `schema` of the database at `url`. Each
 * {@link ChangeNotifications.listen} opens its own connection (not one of the pool's: a pooled
 * connection is handed to queries and a LISTEN there would be lost), runs `LISTEN` on
 * {@link CHANGE_CHANNEL} and passes on the notifications whose payload names `schema`. When the
 * connection fails or ends it is replaced after `backoff` (with jitter), until closed.
 */
export function createPgChangeNotifications(options: PgListenOptions): ChangeNotifications {
  const topics = new Map(CHANGE_TOPICS.map((t) => [changePayload(t, options.schema), t]));
  return {
    async listen(listener) {
      const subscription = new PgSubscription(options, topics, listener);
      await subscription.connect();
      return subscription;
    },
  };
}

class PgSubscription implements ChangeSubscription {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private live = false;

  constructor(
    private readonly options: PgListenOptions,
    private readonly topics: ReadonlyMap<string, ChangeTopic>,
    private readonly listener: ChangeListener,
  ) {}

  get listening(): boolean {
    return this.live;
  }

  /** One attempt to connect and listen; on failure the next is scheduled. Never rejects. */
  async connect(): Promise<void> {
    this.retry = undefined;
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: listenerApplicationName(this.options.schema),
      // A dead peer (a cut network, not a closed socket) is noticed by TCP keepalive.
      keepAlive: true,
    });
    this.client = client;
    // Registered first and never removed: pg emits 'error' on a lost idle connection, and an
    // unhandled 'error' would end the process.
    client.on('error', (error) => {
      this.lost(client, error);
    });
    client.on('end', () => {
      this.lost(client, undefined);
    });
    client.on('notification', (message) => {
      const topic =
        message.channel === CHANGE_CHANNEL ? this.topics.get(message.payload ?? '') : undefined;
      if (topic !== undefined && this.client === client) this.listener.onChange(topic);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return;
    this.failures = 0;
    this.live = true;
    this.listener.onListening?.(true);
    // Whatever committed while nobody listened went unannounced: every topic may have changed.
    for (const topic of CHANGE_TOPICS) this.listener.onChange(topic);
  }

  /** `client` failed or ended: forget it and, unless closed, try again after the back-off. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    const was = this.live;
    this.live = false;
    client.end().catch(() => {});
    if (this.closed) return;
    // A lost connection, or the first failed attempt of a run: not one report per retry.
    if (was || this.failures === 0) this.listener.onListening?.(false, error);
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_RECONNECT_BACKOFF;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    // Jitter: replicas that lost the database together do not come back in step.
    this.retry = setTimeout(() => void this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.live = false;
    await client?.end().catch(() => {});
  }
}
