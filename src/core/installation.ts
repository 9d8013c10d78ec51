// What every server replica of one installation must agree on, recorded once in the store and checked at each start.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { configInvalid } from './errors.js';
import type { EpochMs } from './model.js';

/** The label whose HMAC under the master key is the key's check value (never change it). */
const MASTER_KEY_CHECK_LABEL = 'tessera installation master-key check v1';

/**
 * The master key's check value: HMAC-SHA256 of a fixed label under the key, as hex. It tells
 * whether two replicas hold the same key without storing or showing the key.
 */
export function masterKeyCheckOf(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update(MASTER_KEY_CHECK_LABEL).digest('hex');
}

/** The installation's one record: what its first server recorded (or an operator changed). */
export interface InstallationRecord {
  /** The URL the installation answers at, no trailing slash: the base of the token issuer. */
  readonly publicUrl: string;
  /** `server.tokens.issuer`, the issuer template, when one is configured; else null. */
  readonly issuer: string | null;
  /** {@link masterKeyCheckOf} the master key secrets are sealed with. */
  readonly masterKeyCheck: string;
  /** When these values were recorded. */
  readonly recordedAt: EpochMs;
}

/** The installation record in the store: one row, written by the first server to start. */
export interface InstallationStore {
  /** {@link masterKeyCheckOf} the master key this store was opened with. */
  readonly masterKeyCheck: string;
  get(): Promise<InstallationRecord | undefined>;
  /**
   * Records `record` unless a record exists, and returns the stored one: of servers starting at
   * once, exactly one records its values and all of them get those back.
   */
  claim(record: InstallationRecord): Promise<InstallationRecord>;
  /**
   * Replaces the public URL and issuer template of the record (its check value stays), with
   * `recordedAt` `at`. Resolves the new record, or undefined when there is none yet.
   */
  update(
    values: Pick<InstallationRecord, 'publicUrl' | 'issuer'>,
    at: EpochMs,
  ): Promise<InstallationRecord | undefined>;
}

/** What one server is configured with, to compare with the record. */
export interface InstallationSettings {
  /** The URL this server answers at: `publicUrl`, else its first listener's URL. */
  readonly publicUrl: string;
  /** Whether `publicUrl` is `publicUrl` (true) or the listener's URL (false). */
  readonly publicUrlConfigured: boolean;
  readonly issuer: string | null;
  readonly masterKeyCheck: string;
}

/** A setting that differs from the record, with both values (none for the master key). */
export type InstallationDisagreement =
  | { readonly setting: 'publicUrl'; readonly configured: string; readonly recorded: string }
  | {
      readonly setting: 'server.tokens.issuer';
      readonly configured: string | null;
      readonly recorded: string | null;
    }
  | { readonly setting: 'masterKey' };

/** Constant-time equality of two check values (hex); unequal lengths differ. */
function sameCheck(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The settings of `settings` that differ from `stored`, master key first; empty when all agree. */
export function installationDisagreements(
  settings: InstallationSettings,
  stored: InstallationRecord,
): InstallationDisagreement[] {
  const found: InstallationDisagreement[] = [];
  if (!sameCheck(settings.masterKeyCheck, stored.masterKeyCheck))
    found.push({ setting: 'masterKey' });
  if (settings.publicUrl !== stored.publicUrl) {
    found.push({
      setting: 'publicUrl',
      configured: settings.publicUrl,
      recorded: stored.publicUrl,
    });
  }
  if (settings.issuer !== stored.issuer) {
    found.push({
      setting: 'server.tokens.issuer',
      configured: settings.issuer,
      recorded: stored.issuer,
    });
  }
  return found;
}

const CHANGE_HINT = 'or change it for every replica with `tessera installation update`';

/** One sentence saying what differs, both values (never the key), and what to do. */
function describe(
  d: InstallationDisagreement,
  settings: InstallationSettings,
  recorded: string,
): string {
  switch (d.setting) {
    case 'masterKey':
      return `masterKey is not the key this installation's secrets are sealed with (its check value was ${recorded}); give every replica the same masterKey (TESSERA_MASTER_KEY)`;
    case 'publicUrl': {
      const ours = settings.publicUrlConfigured
        ? `publicUrl is ${d.configured}`
        : `publicUrl is not set (so this server's URL is its listener's, ${d.configured})`;
      return `${ours} but this installation's is ${d.recorded} (${recorded}); set publicUrl=${d.recorded} on every replica, ${CHANGE_HINT}`;
    }
    case 'server.tokens.issuer': {
      const fix =
        d.recorded === null
          ? 'unset server.tokens.issuer'
          : `set server.tokens.issuer=${d.recorded}`;
      return `server.tokens.issuer is ${d.configured ?? 'not set'} but this installation's is ${d.recorded ?? 'not set (tokens carry {publicUrl}/{tenantId}/)'} (${recorded}); ${fix} on every replica, ${CHANGE_HINT}`;
    }
  }
}

/** The one-line `ConfigInvalid` message for `disagreements` (at least one). */
export function installationMismatchMessage(
  disagreements: readonly InstallationDisagreement[],
  settings: InstallationSettings,
  stored: InstallationRecord,
): string {
  const recorded = `recorded in the database on ${new Date(stored.recordedAt).toISOString().slice(0, 10)}`;
  const sentences = disagreements.map((d) => describe(d, settings, recorded));
  return `invalid configuration: ${sentences.join('; also ')}`;
}

/**
 * Records `configured` (and the store's master-key check) as the installation's on its first
 * start, else checks them against the record. With `followUrls` (a store only one server can
 * serve: SQLite) the public URL and issuer follow the configuration: the record is updated to
 * them. Fails with one `ConfigInvalid` line naming each setting that differs, its value and the
 * installation's (never the master key), having written nothing.
 */
export async function agreeOnInstallation(
  installation: InstallationStore,
  configured: Omit<InstallationSettings, 'masterKeyCheck'>,
  options: { readonly followUrls: boolean; readonly now: EpochMs },
): Promise<InstallationRecord> {
  const { masterKeyCheck } = installation;
  const settings = { ...configured, masterKeyCheck };
  const { publicUrl, issuer } = settings;
  const stored = await installation.claim({
    publicUrl,
    issuer,
    masterKeyCheck,
    recordedAt: options.now,
  });
  const disagreements = installationDisagreements(settings, stored);
  const refused = options.followUrls
    ? disagreements.filter((d) => d.setting === 'masterKey')
    : disagreements;
  if (refused.length > 0) {
    throw configInvalid(installationMismatchMessage(refused, settings, stored));
  }
  if (disagreements.length === 0) return stored;
  return (await installation.update({ publicUrl, issuer }, options.now)) ?? stored;
}
