// One EC P-256 key per identity used on this host: certified by the server, renewed, dropped, optionally sealed.
import type { KeyObject } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import type { Logger } from '../config/logger.js';
import { isAppError } from '../core/errors.js';
import { isRecord } from '../core/guards.js';
import { type CertificateResponse, MAX_CERTIFICATE_BATCH } from '../wire/agent-api.js';
import { type AgentClock, type Backoff, backoffDelay, type CancelTimer } from './clock.js';
import { assertCertifies, newKeyAndCsr, privatePemOf, sealedCredential } from './host-identity.js';
import { createCoalescedWriter } from './coalesced-writer.js';
import { readSealed, writeSealed } from './sealed-file.js';
import type { ServerClient } from './server-client.js';
import type { CertificateOutcome } from './server-replies.js';

/** An identity's key and the certificate the server issued for it on this host. */
export interface IdentityCredential {
  readonly principalId: string;
  readonly privateKey: KeyObject;
  /** base64url SHA-256 of the certificate's DER: the `x5t#S256` of client assertions. */
  readonly x5tS256: string;
  readonly certificatePem: string;
  /** Epoch ms. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The identity keys of this host. */
export interface IdentityKeys {
  /**
   * The identity's current credential; the first use makes a key and has it certified
   * (concurrent first uses share one CSR). Fails with the server's AppError, or
   * `ServiceUnavailable` when it cannot be reached and no current credential is held.
   */
  get(principalId: string): Promise<IdentityCredential>;
  /** The current credential, if one is held and valid now. */
  current(principalId: string): IdentityCredential | undefined;
  /** Certifies keys for these identities in the background (a few at a time) if none are held. */
  provision(principalIds: Iterable<string>): void;
  /** Forgets the keys of these identities (and stops their renewals). */
  drop(principalIds: Iterable<string>): void;
  /** Forgets every key whose identity is not in `inUse`. */
  retain(inUse: ReadonlySet<string>): void;
  /** The identities a key is held for. */
  held(): string[];
  /** `notAfter` (epoch ms) of every held certificate. */
  expiries(): { principalId: string; notAfter: number }[];
  /** Loads sealed keys (when sealing); returns how many were usable. Without sealing, removes any sealed file. */
  load(): Promise<number>;
  /** Writes the sealed file again (under the current host key, after a host key renewal). */
  reseal(): void;
  /** Waits for pending writes of the sealed file. */
  flush(): Promise<void>;
  /** Stops renewals and provisioning; keys stay in memory until dropped. */
  stop(): Promise<void>;
}

/** Where and under what the keys are sealed. */
export interface KeySealing {
  /** `<stateDir>/keys.json`. */
  readonly file: string;
  readonly hostId: string;
  /** The host's private key now (it changes when the host certificate is renewed). */
  readonly hostKey: () => KeyObject;
  /** False: keep keys in memory only and remove `file` if present. */
  readonly enabled: boolean;
}

/** Options of {@link createIdentityKeys}. */
export interface IdentityKeysOptions {
  readonly client: ServerClient;
  readonly clock: AgentClock;
  readonly logger: Logger;
  readonly sealing?: KeySealing | undefined;
  /** In [0, 1): jitter for retries. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /**
   * Background batches of certifications at once. Default 2: the agent makes the next batch's
   * keys while the server certifies one (1000 identities attached at once are ready about 10%
   * sooner than one batch at a time), and no more: a host's first sync may bring 10,000
   * identities, and IMDS's own requests must not queue behind them at the server.
   */
  readonly provisionConcurrency?: number | undefined;
  /** Identities certified by one background request (at most the server's 100). Default 50. */
  readonly provisionBatchSize?: number | undefined;
  /** Told when an identity's certificate changes (`notAfter`, epoch ms) or its key is dropped (undefined). */
  readonly onCertificate?:
    ((principalId: string, notAfter: number | undefined) => void) | undefined;
}

/** A credential is not used this close to its `notAfter`: an assertion must verify at the server. */
const EXPIRY_MARGIN_MS = 30_000;
const RENEW_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 5 * 60_000 };

interface Entry {
  credential: IdentityCredential | undefined;
  inflight: Promise<IdentityCredential> | undefined;
  timer: CancelTimer | undefined;
  attempt: number;
}

/** Makes a key and has the server certify it. */
type Issue = () => Promise<{ privateKey: KeyObject; issued: CertificateResponse }>;

/** When a certificate valid from `notBefore` to `notAfter` is renewed: at two thirds of its lifetime. */
export function renewalTime(notBefore: number, notAfter: number): number {
  return notBefore + Math.floor(((notAfter - notBefore) * 2) / 3);
}

/**
 * Makes the key holder. Keys are made on the host and never leave it (the server sees CSRs). A
 * certificate is renewed, with a new key, at two thirds of its lifetime; failures are retried
 * with jittered backoff while the old certificate stays in use until it expires.
 */
export function createIdentityKeys(options: IdentityKeysOptions): IdentityKeys {
  const { client, clock, logger, sealing } = options;
  const random = options.random ?? Math.random;
  const concurrency = options.provisionConcurrency ?? 2;
  const batchSize = Math.min(options.provisionBatchSize ?? 50, MAX_CERTIFICATE_BATCH);
  // Set when the server has no batch route (an older version): one request per identity then.
  let batchUnsupported = false;
  const entries = new Map<string, Entry>();
  const queue = new Set<string>();
  let active = 0;
  let stopped = false;

  const valid = (credential: IdentityCredential | undefined): credential is IdentityCredential =>
    credential !== undefined && clock.now() < credential.notAfter - EXPIRY_MARGIN_MS;

  const writer = createCoalescedWriter(
    async () => {
      if (sealing === undefined) return;
      const context = { hostId: sealing.hostId, hostKey: sealing.hostKey(), purpose: PURPOSE };
      await writeSealed(sealing.file, snapshot(), context);
    },
    (error) => {
      logger.error({ err: error }, 'could not write the sealed identity keys');
    },
  );
  const persist = (): void => {
    if (sealing?.enabled === true) writer.request();
  };

  const snapshot = (): SealedEntry[] => {
    const out: SealedEntry[] = [];
    for (const [principalId, entry] of entries) {
      const c = entry.credential;
      if (c === undefined) continue;
      out.push({
        principalId,
        privateKey: privatePemOf(c),
        certificate: c.certificatePem,
      });
    }
    return out;
  };

  const schedule = (principalId: string, entry: Entry, delayMs: number): void => {
    entry.timer?.();
    if (stopped) return;
    entry.timer = clock.setTimer(() => {
      entry.timer = undefined;
      if (entries.get(principalId) !== entry) return;
      refresh(principalId, entry).catch(() => undefined);
    }, delayMs);
  };

  const install = (principalId: string, entry: Entry, credential: IdentityCredential): void => {
    entry.credential = credential;
    options.onCertificate?.(principalId, credential.notAfter);
    entry.attempt = 0;
    schedule(
      principalId,
      entry,
      renewalTime(credential.notBefore, credential.notAfter) - clock.now(),
    );
  };

  /** Makes the key and has it certified through `issue`; shared by concurrent uses (`inflight`). */
  const certify = (
    principalId: string,
    entry: Entry,
    issue: Issue,
  ): Promise<IdentityCredential> => {
    entry.inflight ??= (async () => {
      try {
        const { privateKey, issued } = await issue();
        const parsed = assertCertifies(issued.certificate, privateKey);
        const credential: IdentityCredential = {
          principalId,
          privateKey,
          x5tS256: parsed.sha256,
          certificatePem: issued.certificate,
          notBefore: issued.notBefore,
          notAfter: issued.notAfter,
        };
        if (entries.get(principalId) === entry) {
          install(principalId, entry, credential);
          persist();
          logger.debug(
            { principalId, notAfter: new Date(credential.notAfter).toISOString() },
            'identity certificate issued',
          );
        }
        return credential;
      } catch (error) {
        if (entries.get(principalId) === entry && entry.credential !== undefined) {
          const delay = backoffDelay(entry.attempt, RENEW_BACKOFF, random);
          entry.attempt += 1;
          logger.warn(
            { err: error, principalId, retryInMs: delay },
            'could not renew an identity certificate; retrying',
          );
          schedule(principalId, entry, delay);
        }
        throw error;
      } finally {
        entry.inflight = undefined;
      }
    })();
    return entry.inflight;
  };

  const refresh = (principalId: string, entry: Entry): Promise<IdentityCredential> =>
    certify(principalId, entry, async () => {
      const { privateKey, csr } = await newKeyAndCsr(principalId);
      return { privateKey, issued: await client.certificate(principalId, { csr }) };
    });
  /** The certificates for `made`'s CSRs: one batch request, or one request each (older servers). */
  const issueAll = async (
    made: readonly { principalId: string; csr: string }[],
  ): Promise<CertificateOutcome[]> => {
    if (!batchUnsupported) {
      try {
        return await client.certificates(made);
      } catch (error) {
        if (!isAppError(error) || error.status !== 404) throw error;
        batchUnsupported = true;
        logger.info('the server certifies one identity per request (no batch route)');
      }
    }
    const one = async (principalId: string, csr: string): Promise<CertificateOutcome> => {
      try {
        return { principalId, certificate: await client.certificate(principalId, { csr }) };
      } catch (error) {
        if (!isAppError(error)) throw error;
        return { principalId, error };
      }
    };
    return Promise.all(made.map(({ principalId, csr }) => one(principalId, csr)));
  };

  /** Certifies new keys for `batch` in one request; each identity settles on its own. */
  const certifyBatch = (batch: readonly (readonly [string, Entry])[]): Promise<unknown> => {
    const made = Promise.all(
      batch.map(async ([principalId]) => ({ principalId, ...(await newKeyAndCsr(principalId)) })),
    );
    const outcomes = made.then(issueAll);
    return Promise.all(
      batch.map(([principalId, entry], i) =>
        certify(principalId, entry, async () => {
          const [keys, answers] = await Promise.all([made, outcomes]);
          const [key, outcome] = [keys[i], answers[i]];
          if (key === undefined || outcome === undefined) throw new Error('batch mismatch');
          if ('error' in outcome) throw outcome.error;
          return { privateKey: key.privateKey, issued: outcome.certificate };
        }).catch((error: unknown) => {
          forgetFailedFirstUse(principalId, entry);
          logger.warn({ err: error, principalId }, 'could not certify an identity key in advance');
        }),
      ),
    );
  };

  // A failed first use leaves no entry behind: the next use tries again from scratch.
  const forgetFailedFirstUse = (principalId: string, entry: Entry): void => {
    if (entries.get(principalId) === entry && entry.credential === undefined) {
      entries.delete(principalId);
    }
  };

  const entryFor = (principalId: string): Entry => {
    let entry = entries.get(principalId);
    if (entry === undefined) {
      entry = { credential: undefined, inflight: undefined, timer: undefined, attempt: 0 };
      entries.set(principalId, entry);
    }
    return entry;
  };

  const get = (principalId: string): Promise<IdentityCredential> => {
    const entry = entryFor(principalId);
    if (valid(entry.credential)) return Promise.resolve(entry.credential);
    const pending = refresh(principalId, entry);
    pending.catch(() => {
      forgetFailedFirstUse(principalId, entry);
    });
    return pending;
  };

  // Background certification: the queue in batches, `concurrency` batches at a time. An identity
  // already being certified (a first use came first) is left to that.
  const pump = (): void => {
    while (!stopped && active < concurrency && queue.size > 0) {
      const batch: (readonly [string, Entry])[] = [];
      for (const principalId of queue) {
        if (batch.length >= batchSize) break;
        queue.delete(principalId);
        const entry = entryFor(principalId);
        if (!valid(entry.credential) && entry.inflight === undefined) {
          batch.push([principalId, entry]);
        }
      }
      if (batch.length === 0) continue;
      active += 1;
      void certifyBatch(batch).finally(() => {
        active -= 1;
        pump();
      });
    }
  };

  const drop = (principalIds: Iterable<string>): void => {
    let changed = false;
    for (const principalId of principalIds) {
      queue.delete(principalId);
      const entry = entries.get(principalId);
      if (entry === undefined) continue;
      entry.timer?.();
      entries.delete(principalId);
      if (entry.credential !== undefined) options.onCertificate?.(principalId, undefined);
      changed ||= entry.credential !== undefined;
      logger.debug({ principalId }, 'identity key dropped');
    }
    if (changed) persist();
  };

  return {
    get,
    current(principalId) {
      const credential = entries.get(principalId)?.credential;
      return valid(credential) ? credential : undefined;
    },
    provision(principalIds) {
      for (const principalId of principalIds) {
        if (!valid(entries.get(principalId)?.credential)) queue.add(principalId);
      }
      pump();
    },
    drop,
    retain(inUse) {
      drop([...entries.keys()].filter((p) => !inUse.has(p)));
    },
    held: () =>
      [...entries.entries()].filter(([, e]) => e.credential !== undefined).map(([p]) => p),
    expiries() {
      const out: { principalId: string; notAfter: number }[] = [];
      for (const [principalId, entry] of entries) {
        if (entry.credential !== undefined)
          out.push({ principalId, notAfter: entry.credential.notAfter });
      }
      return out;
    },
    async load() {
      if (sealing === undefined) return 0;
      if (!sealing.enabled) {
        await unlink(sealing.file).catch(() => undefined);
        return 0;
      }
      let loaded: SealedEntry[];
      try {
        const sealed = await readSealed(sealing.file, {
          hostId: sealing.hostId,
          hostKey: sealing.hostKey(),
          purpose: PURPOSE,
        });
        if (sealed === undefined) return 0;
        loaded = unseal(sealed);
      } catch (error) {
        if (isAppError(error)) throw error;
        logger.warn(
          { err: error },
          'the sealed identity keys cannot be opened; starting without them',
        );
        return 0;
      }
      let usable = 0;
      for (const item of loaded) {
        try {
          const credential = sealedCredential(item.principalId, item.privateKey, item.certificate);
          if (credential.notAfter - EXPIRY_MARGIN_MS <= clock.now()) continue;
          install(item.principalId, entryFor(item.principalId), credential);
          usable += 1;
        } catch (error) {
          logger.warn(
            { err: error, principalId: item.principalId },
            'a sealed identity key is unusable',
          );
        }
      }
      logger.info({ keys: usable }, 'loaded sealed identity keys');
      return usable;
    },
    reseal: persist,
    flush: () => writer.flush(),
    async stop() {
      stopped = true;
      queue.clear();
      for (const entry of entries.values()) {
        entry.timer?.();
        entry.timer = undefined;
      }
      await writer.flush();
    },
  };
}

interface SealedEntry {
  readonly principalId: string;
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** PEM. */
  readonly certificate: string;
}

const PURPOSE = 'identity-keys';

function unseal(value: unknown): SealedEntry[] {
  if (!Array.isArray(value)) throw new Error('the sealed keys are not a list');
  return value.filter(
    (i): i is SealedEntry =>
      isRecord(i) &&
      typeof i.principalId === 'string' &&
      typeof i.privateKey === 'string' &&
      typeof i.certificate === 'string',
  );
}
