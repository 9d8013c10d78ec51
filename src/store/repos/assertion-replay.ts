// Client-assertion ids seen by the token endpoint, shared by every replica through the database.

import type { AssertionReplayStore } from '../../core/ports.js';
import { affected, type Executor } from './shared.js';
import { prepared } from '../prepared.js';

/**
 * One statement, so the primary key arbitrates races: a new id inserts; an id whose earlier
 * assertion has expired (it can no longer be presented) is taken over; a live one is a replay.
 */
const claimStatement = prepared(
  (db, clientId: string, jti: string, expiresAt: number, at: number) =>
    db
      .insertInto('assertion_replay')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .columns(['client_id', 'jti'])
          .doUpdateSet({ expires_at: expiresAt })
          .where('assertion_replay.expires_at', '<=', at),
      ),
);

export class SqlAssertionReplayStore implements AssertionReplayStore {
  constructor(private readonly db: Executor) {}

  async claim(clientId: string, jti: string, expiresAt: number, at: number): Promise<boolean> {
    const result = await claimStatement(this.db, clientId, jti, expiresAt, at);
    return Number(result.numAffectedRows ?? 0n) > 0;
  }

  async purgeExpired(before: number): Promise<number> {
    return affected(
      await this.db
        .deleteFrom('assertion_replay')
        .where('expires_at', '<', before)
        .executeTakeFirst(),
    );
  }
}
