// The server's periodic jobs, each safe with N replicas on one database: who runs what, and why it is safe.
import type { Logger } from '../config/logger.js';
import { type AuditRetentionPolicy, sweepAuditRetention } from '../core/audit/retention.js';
import type { SigningKeyService } from '../core/keys/signing-keys.js';
import type { Clock, Store } from '../core/ports.js';

/** What the jobs work on. */
export interface MaintenanceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly signingKeys: Pick<SigningKeyService, 'ensure'>;
  /** `audit.retention`. */
  readonly retention: AuditRetentionPolicy;
  readonly logger: Logger;
}

/** A periodic job and what makes it safe when every replica schedules it. */
interface MaintenanceJob {
  readonly name: string;
  run(deps: MaintenanceDeps): Promise<unknown>;
}

/**
 * The jobs, in the order one sweep runs them. Every replica schedules every job; each runs under
 * `store.replicas.exclusive` (a `pg_try_advisory_xact_lock` per job on PostgreSQL), so while one
 * replica runs a job the others skip it that minute. The lock saves duplicate work and lock
 * contention; correctness never rests on it alone, as each job's own rule says:
 *
 * - `signing-key-rollover` (`signingKeys.ensure`): decides inside a transaction holding the
 *   rotation lock (`lockForRotation`, a blocking advisory lock) and re-reads the keys under it,
 *   so a replica that comes second finds the next key made and adds nothing. The job lock also
 *   spares the other replicas generating an RSA key they would throw away.
 * - `assertion-replay-purge`: `delete ... where expires_at < now`, idempotent.
 * - `vault-secret-purge`: `delete ... where scheduled_purge_at <= now`, idempotent; nothing else
 *   (no audit row) is written per purged secret, so running twice cannot double anything.
 * - `audit-retention` (audit and activity logs): batches of idempotent range deletes; the job lock
 *   keeps two replicas' batch deletes from contending for the same rows (and deadlocking).
 *
 * Not singletons, so not here: counted refusals (each replica writes its own in-memory counts,
 * see `TokenService.flushRefusals`), and the directory CA's renewal, which is made on demand when
 * a certificate is issued and arbitrated by the CA's generation-numbered primary key (see
 * `createCertificateAuthorityService`).
 */
export const MAINTENANCE_JOBS: readonly MaintenanceJob[] = [
  { name: 'signing-key-rollover', run: ({ signingKeys }) => signingKeys.ensure() },
  {
    name: 'assertion-replay-purge',
    run: ({ store, clock }) => store.assertionReplay.purgeExpired(clock.now()),
  },
  {
    name: 'vault-secret-purge',
    run: ({ store, clock }) => store.vaultSecrets.purgeDue(clock.now()),
  },
  {
    name: 'audit-retention',
    run: ({ store, clock, retention }) => sweepAuditRetention(store, clock.now(), retention),
  },
];

/** What one job did in one sweep. */
export type JobResult = 'ran' | 'skipped' | 'failed';

/**
 * Runs every job once, one after the other; a job another replica (or an earlier sweep still
 * running here) is running is skipped. A failure is logged and the next job still runs. Never
 * rejects; resolves with what each job did, by name.
 */
export async function runMaintenance(deps: MaintenanceDeps): Promise<Record<string, JobResult>> {
  const results: Record<string, JobResult> = {};
  for (const job of MAINTENANCE_JOBS) {
    try {
      const outcome = await deps.store.replicas.exclusive(job.name, () => job.run(deps));
      results[job.name] = outcome.ran ? 'ran' : 'skipped';
    } catch (error) {
      results[job.name] = 'failed';
      deps.logger.error({ err: error, job: job.name }, 'server maintenance job failed');
    }
  }
  return results;
}
