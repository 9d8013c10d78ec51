// How server replicas sharing one database hear of each other's writes and run singleton jobs.

/** What changed: the agents' change feed, or the token-signing keys. */
export type ChangeTopic = 'compute' | 'signing-keys';

/** Every {@link ChangeTopic}. */
export const CHANGE_TOPICS: readonly ChangeTopic[] = ['compute', 'signing-keys'];

/** Told of changes committed by any replica (this one included). */
export interface ChangeListener {
  /**
   * A transaction that changed `topic` has committed, so a read now sees it. Also called for
   * every topic each time listening (re)starts: what committed while nobody listened is unknown.
   */
  onChange(topic: ChangeTopic): void;
  /**
   * Listening started (true), or stopped or failed to start (false, with the error; it retries by
   * itself). Told of a change of state, and of the first failure of each run of retries.
   */
  onListening?(listening: boolean, error?: unknown): void;
}

/** A running {@link ChangeNotifications.listen}. */
export interface ChangeSubscription {
  /** True while notifications arrive; while false, a change may go unheard (poll instead). */
  readonly listening: boolean;
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
}

/**
 * Notifications of committed changes across processes (PostgreSQL `LISTEN/NOTIFY`). They only
 * say "look again": the stored data stays the source of truth.
 */
export interface ChangeNotifications {
  /**
   * Starts listening; resolves once the first connection attempt has ended, listening or not
   * (it keeps retrying with back-off, see {@link ChangeSubscription.listening}). Never rejects.
   */
  listen(listener: ChangeListener): Promise<ChangeSubscription>;
}

/** Whether a singleton job ran here, and what it returned. */
export type JobOutcome<T> = { readonly ran: true; readonly value: T } | { readonly ran: false };

/** What replicas sharing a store coordinate through it. */
export interface ReplicaCoordination {
  /** Change notifications; `undefined` where one process serves the store (SQLite). */
  readonly notifications: ChangeNotifications | undefined;
  /**
   * Runs `work` unless job `name` is already running, here or on another replica sharing the
   * database, in which case it resolves `{ ran: false }` at once. On PostgreSQL the job holds a
   * transaction-scoped advisory lock (`pg_try_advisory_xact_lock`, per schema) while `work`
   * runs in transactions of its own, so its batches stay short. Rejects with `work`'s error.
   */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<JobOutcome<T>>;
}
