// Rotating RS256 token-signing keys: which key signs now, which keys are published, rollover.
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { configInvalid, serviceUnavailable } from '../errors.js';
import type { SigningKey, SigningKeyStatus } from '../model.js';
import type { Clock, Store } from '../ports.js';
import { createSelfSignedCertificate, thumbprintsOf } from './x509.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** When keys roll. Every value is in milliseconds. */
export interface SigningKeyPolicy {
  /** How long a key signs before the next one takes over. Default 30 days. */
  readonly rotationIntervalMs: number;
  /**
   * How long a new key is published before it signs: the JWKS cache period validators use
   * (ROLLOVER recommends caching keys 24 h). Default 24 h.
   */
  readonly publishLeadMs: number;
  /**
   * How long a retired key stays published: the longest token lifetime plus clock skew.
   * Default 86,700 s (PROTOCOL.md 5.2) + 5 min = 87,000,000 ms.
   */
  readonly maxTokenLifetimeMs: number;
}

/** The default {@link SigningKeyPolicy}. */
export const DEFAULT_SIGNING_KEY_POLICY: SigningKeyPolicy = {
  rotationIntervalMs: 30 * DAY_MS,
  publishLeadMs: DAY_MS,
  maxTokenLifetimeMs: 86_700_000 + 5 * MINUTE_MS,
};

/**
 * A published key, with exactly the members Azure's JWKS has (PROTOCOL.md 5.4) in its order,
 * less the v2 endpoint's per-tenant `issuer`, which the surface adds. No `alg`: Azure sends none.
 */
export interface PublicJwk {
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly kid: string;
  readonly x5t: string;
  readonly n: string;
  readonly e: string;
  readonly x5c: string[];
}

/** The key to sign with now. `kid` and `x5t` both go in the JWT header (PROTOCOL.md 5.1). */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly x5t: string;
  readonly privateKey: KeyObject;
}

/** Token-signing keys, as {@link createSigningKeyService} builds them. */
export interface SigningKeyService {
  /** Creates the first key, or schedules the next one when rotation is due. Call it periodically. */
  ensure(): Promise<void>;
  /** The key that signs now (see {@link selectSigningKey}). Creates the first key if none. */
  signingKey(): Promise<ActiveSigningKey>;
  /** Every published key (see {@link publishedKeys}), for the JWKS document. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** Rotates on demand, atomically across replicas; returns what the rotation committed. */
  rotate(opts?: { immediate?: boolean }): Promise<SigningKeyRotation>;
  /** Drops the cached keys, so the next use reads the store: they changed on another replica. */
  forget(): void;
}

/** What a rotation committed, read back inside its transaction. */
export interface SigningKeyRotation {
  /** The new key. */
  readonly key: SigningKey;
  /**
   * The key that signs at commit: the new key after an immediate rotation (or when no key
   * signed), otherwise the current key until the new one activates.
   */
  readonly signing: SigningKey;
  /**
   * The kids this rotation took out of the published set: every other key when immediate, else
   * a pending key that never signed.
   */
  readonly unpublished: readonly string[];
}

/**
 * The key that signs at `t`: among keys with `activatesAt <= t` whose `retiresAt` is null or
 * after `t` (and not expired), the one with the greatest `activatesAt`; ties go to the smallest
 * `kid`, so every replica picks the same key even if a race left duplicates.
 */
export function selectSigningKey(keys: readonly SigningKey[], t: number): SigningKey | undefined {
  let best: SigningKey | undefined;
  for (const key of keys) {
    if (key.activatesAt > t) continue;
    if (key.retiresAt !== null && key.retiresAt <= t) continue;
    if (key.expiresAt !== null && key.expiresAt <= t) continue;
    if (best === undefined || prefer(key, best)) best = key;
  }
  return best;
}

/** The keys published at `t`: created by then and not expired (`expiresAt` null or after `t`). */
export function publishedKeys(keys: readonly SigningKey[], t: number): SigningKey[] {
  return keys.filter((key) => key.createdAt <= t && (key.expiresAt === null || key.expiresAt > t));
}

/**
 * Builds the signing-key service. Replicas agree purely through the database: every decision is
 * made from stored timestamps inside `store.transaction`, which first takes the store's rotation
 * lock (`lockForRotation`) so that two rotations, or a rotation and a scheduled rollover, on any
 * replicas never both act on what they read before the other committed; the state is re-read
 * after writing, and selection is a pure function of those timestamps ({@link selectSigningKey}).
 *
 * Lifecycle of a key:
 * - first start (no usable key): a key is created that signs at once; nobody has cached anything.
 * - scheduled rollover (`ensure`, once `activatesAt + rotationIntervalMs - publishLeadMs` has
 *   passed and no later key exists): the next key is published now and signs from
 *   `max(now + publishLeadMs, current.activatesAt + rotationIntervalMs)`; the current key retires
 *   then and stays published `maxTokenLifetimeMs` longer, so every token it signed still verifies.
 * - `rotate()`: as above, with the next key signing `publishLeadMs` from now.
 * - `rotate({ immediate: true })` (key compromise): the new key signs now, and every other key
 *   stops signing and leaves the published set now. Tokens they signed stop verifying as soon as
 *   validators refresh their key cache; that is the point.
 *
 * Each key carries a self-signed certificate (CN "Tessera Token Signing") valid from 5 minutes
 * before creation for at least five years, covering its whole published life; `kid` = `x5t` = the
 * certificate's SHA-1 thumbprint, as Azure does. `signingKey()` and `jwks()` read the store at
 * most every `refreshMs` (default 5 s) and decide from the cached timestamps in between, so a
 * scheduled switch happens on time; a rotation made by another replica is seen within `refreshMs`,
 * or as soon as `forget()` is called (the server calls it when the store notifies a change).
 */
export function createSigningKeyService(options: {
  store: Store;
  clock: Clock;
  policy?: Partial<SigningKeyPolicy>;
  generateKeyPair?: () => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;
  refreshMs?: number;
}): SigningKeyService {
  const { store, clock } = options;
  const policy = checkedPolicy({ ...DEFAULT_SIGNING_KEY_POLICY, ...options.policy });
  const newKeyPair = options.generateKeyPair ?? generateRsaKeyPair;
  const refreshMs = options.refreshMs ?? 5_000;
  const certificateValidityMs = Math.max(
    5 * 365 * DAY_MS,
    4 * (policy.rotationIntervalMs + policy.publishLeadMs + policy.maxTokenLifetimeMs),
  );

  let cache: { loadedAt: number; keys: readonly SigningKey[] } | undefined;
  let loading: Promise<readonly SigningKey[]> | undefined;
  let ensuring: Promise<void> | undefined;
  let generation = 0;
  const privateKeys = new Map<string, KeyObject>();

  /** Key material made before the transaction: RSA generation is too slow to hold a lock for. */
  async function material(now: number): Promise<Omit<SigningKey, 'status' | 'activatesAt'>> {
    const { privateKey, publicKey } = await newKeyPair();
    const certificate = await createSelfSignedCertificate({
      privateKey,
      publicKey,
      commonName: 'Tessera Token Signing',
      notBefore: now - 5 * MINUTE_MS,
      notAfter: now + certificateValidityMs,
      isCa: false,
    });
    const kid = thumbprintsOf(certificate.der).sha1;
    const jwk = publicKey.export({ format: 'jwk' });
    if (jwk.kty !== 'RSA' || jwk.n === undefined || jwk.e === undefined) {
      throw configInvalid('Token-signing keys must be RSA keys.');
    }
    const publicJwk: PublicJwk = {
      kty: 'RSA',
      use: 'sig',
      kid,
      x5t: kid,
      n: jwk.n,
      e: jwk.e,
      x5c: [certificate.der.toString('base64')],
    };
    return {
      kid,
      algorithm: 'RS256',
      publicJwk: { ...publicJwk },
      privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      retiresAt: null,
      expiresAt: null,
      createdAt: now,
    };
  }

  /** What `ensure` must do at `now` given `keys`: nothing, the first key, or the next key. */
  function plan(keys: readonly SigningKey[], now: number): 'none' | 'first' | 'next' {
    const current = selectSigningKey(keys, now);
    if (current === undefined) return 'first';
    const due = current.activatesAt + policy.rotationIntervalMs - policy.publishLeadMs <= now;
    const later = keys.some((key) => prefer(key, current) && !discarded(key));
    return due && !later ? 'next' : 'none';
  }

  async function runEnsure(): Promise<void> {
    const checkedAt = clock.now();
    const before = await store.signingKeys.listPublished(checkedAt);
    const expected = plan(before, checkedAt);
    if (expected === 'none' && tidy(before, checkedAt).length === 0) return;
    const made = expected === 'none' ? undefined : await material(checkedAt);
    await store.transaction(async (tx) => {
      await tx.signingKeys.lockForRotation();
      const now = clock.now();
      const keys = await tx.signingKeys.listPublished(now);
      const current = selectSigningKey(keys, now);
      const step = plan(keys, now);
      // Another replica may have acted in between; then there is nothing left to add.
      if (made !== undefined && current === undefined) {
        await tx.signingKeys.add({ ...made, status: 'active', activatesAt: now });
      } else if (made !== undefined && current !== undefined && step === 'next') {
        const activatesAt = Math.max(
          now + policy.publishLeadMs,
          current.activatesAt + policy.rotationIntervalMs,
        );
        await tx.signingKeys.add({ ...made, status: 'next', activatesAt });
        await retire(tx, current, activatesAt, activatesAt + policy.maxTokenLifetimeMs, now);
      }
      await applyTidy(tx, now);
    });
    invalidate();
  }

  async function runRotate(immediate: boolean): Promise<SigningKeyRotation> {
    const made = await material(clock.now());
    const rotation = await store.transaction(async (tx) => {
      // Before reading: a rotation elsewhere has committed (and is read below) or waits for this
      // one, so an immediate rotation unpublishes every key that exists when it commits.
      await tx.signingKeys.lockForRotation();
      const now = clock.now();
      const keys = await tx.signingKeys.listPublished(now);
      const current = selectSigningKey(keys, now);
      const startsNow = immediate || current === undefined;
      const activatesAt = startsNow ? now : now + policy.publishLeadMs;
      const unpublished: string[] = [];
      for (const key of keys) {
        if (immediate || (key.activatesAt > now && !discarded(key))) {
          // Compromise, or a pending key that never signed: unpublish it now.
          await retire(tx, key, Math.min(now, key.retiresAt ?? now), now, now);
          unpublished.push(key.kid);
        }
      }
      await tx.signingKeys.add({ ...made, status: startsNow ? 'active' : 'next', activatesAt });
      if (!immediate && current !== undefined) {
        await retire(tx, current, activatesAt, activatesAt + policy.maxTokenLifetimeMs, now);
      }
      await applyTidy(tx, now);
      // Under the lock, what is read now is what the commit leaves.
      const after = await tx.signingKeys.listPublished(now);
      const key = after.find((k) => k.kid === made.kid);
      const signing = selectSigningKey(after, now);
      if (key === undefined || signing === undefined) {
        throw serviceUnavailable('The new signing key could not be read back.');
      }
      return { key, signing, unpublished };
    });
    invalidate();
    return rotation;
  }

  /** Status fixes and retirements of superseded keys that `keys` needs at `now`. */
  function tidy(
    keys: readonly SigningKey[],
    now: number,
  ): { key: SigningKey; status: SigningKeyStatus; retiresAt?: number; expiresAt?: number }[] {
    const changes = [];
    for (const key of keys) {
      // A key another key overtakes (a duplicate from a race) retires when that key activates.
      const successor = key.retiresAt === null ? successorOf(keys, key) : undefined;
      const retiresAt = successor?.activatesAt ?? key.retiresAt;
      const status = statusAt(key.activatesAt, retiresAt, now);
      if (successor !== undefined) {
        changes.push({
          key,
          status,
          retiresAt: successor.activatesAt,
          expiresAt: successor.activatesAt + policy.maxTokenLifetimeMs,
        });
      } else if (status !== key.status) {
        changes.push({ key, status });
      }
    }
    return changes;
  }

  async function applyTidy(tx: Store, now: number): Promise<void> {
    for (const change of tidy(await tx.signingKeys.listPublished(now), now)) {
      await tx.signingKeys.setStatus(change.key.kid, change.status, {
        ...(change.retiresAt === undefined ? {} : { retiresAt: change.retiresAt }),
        ...(change.expiresAt === undefined ? {} : { expiresAt: change.expiresAt }),
      });
    }
  }

  async function retire(
    tx: Store,
    key: SigningKey,
    retiresAt: number,
    expiresAt: number,
    now: number,
  ): Promise<void> {
    const status = statusAt(key.activatesAt, retiresAt, now);
    await tx.signingKeys.setStatus(key.kid, status, { retiresAt, expiresAt });
  }

  /** Forgets cached keys, including a read in flight that may predate a write. */
  function invalidate(): void {
    generation += 1;
    cache = undefined;
    loading = undefined;
  }

  async function load(): Promise<readonly SigningKey[]> {
    const now = clock.now();
    if (cache !== undefined && now - cache.loadedAt < refreshMs && now >= cache.loadedAt) {
      return cache.keys;
    }
    if (loading !== undefined) return loading;
    const started = generation;
    const read = store.signingKeys
      .listPublished(now)
      .then((keys) => {
        if (generation === started) {
          cache = { loadedAt: now, keys };
          for (const kid of privateKeys.keys()) {
            if (!keys.some((key) => key.kid === kid)) privateKeys.delete(kid);
          }
        }
        return keys;
      })
      .finally(() => {
        if (loading === read) loading = undefined;
      });
    loading = read;
    return read;
  }

  /** The cached keys, creating the first key if nothing signs now. */
  async function usableKeys(): Promise<{ keys: readonly SigningKey[]; current: SigningKey }> {
    let keys = await load();
    let current = selectSigningKey(keys, clock.now());
    if (current === undefined) {
      await service.ensure();
      invalidate();
      keys = await load();
      current = selectSigningKey(keys, clock.now());
    }
    if (current === undefined) throw serviceUnavailable('No token-signing key is available.');
    return { keys, current };
  }

  const service: SigningKeyService = {
    async ensure() {
      ensuring ??= runEnsure().finally(() => {
        ensuring = undefined;
      });
      await ensuring;
    },

    async signingKey() {
      const { current } = await usableKeys();
      let privateKey = privateKeys.get(current.kid);
      if (privateKey === undefined) {
        privateKey = createPrivateKey(current.privateKeyPem);
        privateKeys.set(current.kid, privateKey);
      }
      return { kid: current.kid, x5t: x5tOf(current), privateKey };
    },

    async jwks() {
      const { keys } = await usableKeys();
      return { keys: publishedKeys(keys, clock.now()).map(toPublicJwk) };
    },

    rotate(opts = {}) {
      return runRotate(opts.immediate === true);
    },

    forget: invalidate,
  };
  return service;
}

/** The status column's value at `now`: a convenience mirror of the timestamps. */
function statusAt(activatesAt: number, retiresAt: number | null, now: number): SigningKeyStatus {
  if (retiresAt !== null && (retiresAt <= now || retiresAt <= activatesAt)) return 'retired';
  return activatesAt > now ? 'next' : 'active';
}

/** True when `a` wins over `b` for signing: it activates later, or at once with a smaller kid. */
function prefer(a: SigningKey, b: SigningKey): boolean {
  return a.activatesAt > b.activatesAt || (a.activatesAt === b.activatesAt && a.kid < b.kid);
}

/** A key withdrawn before it ever signed (rotation replaced it while it was pending). */
function discarded(key: SigningKey): boolean {
  return key.retiresAt !== null && key.retiresAt <= key.activatesAt;
}

/** The earliest key that overtakes `key` and was not discarded, if any. */
function successorOf(keys: readonly SigningKey[], key: SigningKey): SigningKey | undefined {
  let next: SigningKey | undefined;
  for (const other of keys) {
    if (other === key || discarded(other) || !prefer(other, key)) continue;
    if (next === undefined || prefer(next, other)) next = other;
  }
  return next;
}

function x5tOf(key: SigningKey): string {
  const x5t = key.publicJwk['x5t'];
  return typeof x5t === 'string' ? x5t : key.kid;
}

function toPublicJwk(key: SigningKey): PublicJwk {
  const { n, e, x5c } = key.publicJwk;
  if (typeof n !== 'string' || typeof e !== 'string' || !Array.isArray(x5c)) {
    throw serviceUnavailable(`The stored signing key '${key.kid}' is malformed.`);
  }
  return {
    kty: 'RSA',
    use: 'sig',
    kid: key.kid,
    x5t: x5tOf(key),
    n,
    e,
    x5c: x5c.filter((c): c is string => typeof c === 'string'),
  };
}

const generateKeyPairAsync = promisify(generateKeyPair);

function generateRsaKeyPair(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
}

function checkedPolicy(policy: SigningKeyPolicy): SigningKeyPolicy {
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw configInvalid(`The signing-key policy's ${name} must be a positive number of ms.`);
    }
  }
  if (policy.publishLeadMs >= policy.rotationIntervalMs) {
    throw configInvalid('The signing-key publish lead must be shorter than the rotation interval.');
  }
  return policy;
}
