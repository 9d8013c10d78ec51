// Client-assertion ids seen by the token endpoint, shared by every replica through the database.

import type { AssertionReplayStore } from '../../core/ports.js';
import { affected, type Executor } from './shared.js';

export class SqlAssertionReplayStore implements AssertionReplayStore {
  constructor(private readonly db: Executor) {}

  async claim(clientId: string, jti: string, expiresAt: number, at: number): Promise<boolean> {
    // An expired row for the same id may be reused: its assertion can no longer be presented.
    await this.db
      .deleteFrom('assertion_replay')
      .where('client_id', '=', clientId)
      .where('jti', '=', jti)
      .where('expires_at', '<=', at)
      .execute();
    // The primary key makes the insert the arbiter: of two racing claims one inserts a row.
    const result = await this.db
      .insertInto('assertion_replay')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
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
