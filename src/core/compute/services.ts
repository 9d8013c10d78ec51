// What compute's writes run with: the store, the time and new ids (ARM's services are one).
import type { Clock, Store } from '../ports.js';

/** The ports a compute write takes. */
export interface ComputeServices {
  readonly store: Store;
  readonly clock: Clock;
  /** Makes resource GUIDs (`vmId`, `uniqueId`), principals' ids and audit ids. */
  readonly newId: () => string;
}

/** What a step inside a write's transaction takes besides the transaction's store. */
export type ComputeSources = Pick<ComputeServices, 'clock' | 'newId'>;
