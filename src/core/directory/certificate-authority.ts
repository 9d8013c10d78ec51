// The directory's certificate authority: loaded from the store, created once, shared by replicas.
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { internalError, isAppError } from '../errors.js';
import type { CertificateAuthority } from '../model.js';
import type { Clock, Store } from '../ports.js';
import { createSelfSignedCertificate } from '../keys/x509.js';

const DAY_MS = 86_400_000;
/** Ten years, the default CA lifetime. */
export const DEFAULT_CA_LIFETIME_MS = 3_652 * DAY_MS;
/** The CA's notBefore is set this far back, so replicas whose clocks lag a little accept it. */
const BACKDATE_MS = 5 * 60_000;
const COMMON_NAME = 'Tessera Directory CA';
const ID_PREFIX = 'directory-ca-';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The CA in use: its id, certificate and private key. */
export interface LoadedCertificateAuthority {
  readonly id: string;
  readonly certificateDer: Buffer;
  readonly privateKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The directory's CA, as {@link createCertificateAuthorityService} provides it. */
export interface CertificateAuthorityService {
  /**
   * The CA that signs new certificates: the store's current CA, created (EC P-256, CN "Tessera
   * Directory CA") when there is none or when the current one has less than a tenth of its
   * lifetime left. Cached in memory until then.
   */
  current(): Promise<LoadedCertificateAuthority>;
  /** The DER certificate of every stored CA valid now: older CAs stay trusted until they expire. */
  trustAnchors(): Promise<Buffer[]>;
}

/**
 * Builds the CA service over `store`. Replicas converge on one CA through the database alone:
 * CA ids are generation numbers (`directory-ca-1`, `-2`, ...), so when two replicas race to
 * create the same generation the second insert fails with a Conflict, and each then re-reads
 * `store.certificateAuthorities.current` and uses what it returns.
 */
export function createCertificateAuthorityService(options: {
  store: Store;
  clock: Clock;
  caLifetimeMs?: number;
}): CertificateAuthorityService {
  const { store, clock } = options;
  const lifetimeMs = options.caLifetimeMs ?? DEFAULT_CA_LIFETIME_MS;
  const renewBeforeMs = Math.floor(lifetimeMs / 10);
  let cached: LoadedCertificateAuthority | undefined;
  let loading: Promise<LoadedCertificateAuthority> | undefined;

  const usable = (ca: { notBefore: number; notAfter: number }, now: number): boolean =>
    ca.notBefore <= now && ca.notAfter - renewBeforeMs > now;

  async function load(): Promise<LoadedCertificateAuthority> {
    const now = clock.now();
    const stored = await store.certificateAuthorities.current(now);
    if (stored !== undefined && usable(stored, now)) return toLoaded(stored);
    try {
      await store.transaction(async (tx) => {
        const again = await tx.certificateAuthorities.current(now);
        if (again !== undefined && usable(again, now)) return;
        const generation = nextGeneration(await tx.certificateAuthorities.list());
        await tx.certificateAuthorities.add(await newAuthority(`${ID_PREFIX}${generation}`, now));
      });
    } catch (error) {
      // Another replica created this generation first: use theirs.
      if (!isAppError(error) || error.code !== 'Conflict') throw error;
    }
    const created = await store.certificateAuthorities.current(now);
    if (created === undefined) throw internalError(new Error('no CA after creating one'));
    return toLoaded(created);
  }

  async function newAuthority(id: string, now: number): Promise<CertificateAuthority> {
    const keys = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const notBefore = now - BACKDATE_MS;
    const notAfter = now + lifetimeMs;
    const certificate = await createSelfSignedCertificate({
      ...keys,
      commonName: COMMON_NAME,
      notBefore,
      notAfter,
      isCa: true,
    });
    return {
      id,
      certificate: certificate.der.toString('base64'),
      privateKeyPem: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      // The encoding keeps whole seconds; store what the certificate says.
      notBefore: Math.floor(notBefore / 1000) * 1000,
      notAfter: Math.floor(notAfter / 1000) * 1000,
      createdAt: now,
    };
  }

  return {
    async current() {
      if (cached !== undefined && usable(cached, clock.now())) return cached;
      // One load at a time per process, so a burst of callers does not create several CAs.
      loading ??= load().finally(() => {
        loading = undefined;
      });
      cached = await loading;
      return cached;
    },

    async trustAnchors() {
      const now = clock.now();
      const all = await store.certificateAuthorities.list();
      return all
        .filter((ca) => ca.notBefore <= now && ca.notAfter > now)
        .map((ca) => Buffer.from(ca.certificate, 'base64'));
    },
  };
}

/** One more than the highest generation stored, so racing replicas compute the same id. */
function nextGeneration(all: readonly CertificateAuthority[]): number {
  let highest = 0;
  for (const ca of all) {
    if (!ca.id.startsWith(ID_PREFIX)) continue;
    const generation = Number(ca.id.slice(ID_PREFIX.length));
    if (Number.isSafeInteger(generation)) highest = Math.max(highest, generation);
  }
  return highest + 1;
}

function toLoaded(ca: CertificateAuthority): LoadedCertificateAuthority {
  return {
    id: ca.id,
    certificateDer: Buffer.from(ca.certificate, 'base64'),
    privateKey: createPrivateKey(ca.privateKeyPem),
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
  };
}
