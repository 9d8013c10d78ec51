// Hears other replicas' writes: wakes agents' long-polls, and drops cached signing keys.
import type { Logger } from '../config/logger.js';
import type { SigningKeyService } from '../core/keys/signing-keys.js';
import type { Store } from '../core/ports.js';
import type { ChangeSubscription } from '../core/replicas.js';
import type { ChangeSignal } from './agent-api/change-signal.js';

/**
 * Listens to `store`'s change notifications, if it has any (PostgreSQL): a committed change-feed
 * entry fires `changeSignal` (its waiters read the feed again, which stays the source of truth),
 * a signing-key change makes `signingKeys` forget its cache. Resolves with the subscription to
 * close at shutdown, or `undefined` on a store without notifications (SQLite: one process, whose
 * ARM writes fire the signal themselves). While the subscription is not listening, the change
 * signal polls the feed (see `createChangeSignal`'s `notified`) and the signing keys are re-read
 * every `refreshMs`. Never rejects.
 */
export async function listenToReplicas(options: {
  readonly store: Store;
  readonly changeSignal: Pick<ChangeSignal, 'fire'>;
  readonly signingKeys: Pick<SigningKeyService, 'forget'>;
  readonly logger: Logger;
}): Promise<ChangeSubscription | undefined> {
  const { store, changeSignal, signingKeys, logger } = options;
  return store.replicas.notifications?.listen({
    onChange(topic) {
      switch (topic) {
        case 'compute':
          changeSignal.fire();
          break;
        case 'signing-keys':
          signingKeys.forget();
          break;
      }
    },
    onListening(listening, error) {
      if (listening) {
        logger.info('listening for changes made by other replicas');
      } else {
        logger.warn(
          { err: error },
          'not listening for changes made by other replicas (reconnecting); polling the change feed',
        );
      }
    },
  });
}
