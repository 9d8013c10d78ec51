// Fetches and caches foreign OIDC issuers' signing keys (discovery, then jwks_uri) for workload identity federation.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isRecord } from '../core/guards.js';
import {
  FederatedKeyError,
  type FederatedKeyHint,
  type FederatedKeySource,
} from '../core/tokens/federation-keys.js';
import { ClientError } from './errors.js';
import { createHttp, type Http, type HttpResponse, type SetTimer } from './http.js';
import {
  checkedUrl,
  createGuardedLookup,
  systemResolve,
  type AddressPolicy,
  type Resolve,
} from './issuer-address.js';

/** The bounds {@link createOidcIssuerKeys} applies unless told otherwise. */
export const OIDC_ISSUER_KEYS_DEFAULTS = {
  /** Longest one fetch (discovery or key set) may take, connecting included. */
  timeoutMs: 5_000,
  maxDiscoveryBytes: 64 * 1024,
  maxJwksBytes: 256 * 1024,
  /** Entra "stores only the first 100 signing keys": later entries are ignored. */
  maxKeys: 100,
  /** How long an issuer's keys are used before they are fetched again. */
  cacheTtlMs: 60 * 60_000,
  /** An unknown `kid` fetches the keys again only if the last fetch is at least this old. */
  refreshIntervalMs: 5 * 60_000,
  /** How long a failed fetch is answered from memory with the same error. */
  failureTtlMs: 10_000,
  /** Issuers kept; the least recently used is forgotten first. */
  maxIssuers: 1000,
} as const;

/** Options of {@link createOidcIssuerKeys}. */
export interface OidcIssuerKeysOptions {
  /** Development only: loopback addresses, and http:// to a loopback host, are allowed. */
  readonly allowLoopback: boolean;
  /** Private networks (RFC 1918, IPv6 unique-local, carrier-grade NAT) are allowed. */
  readonly allowPrivate: boolean;
  /** PEM CA certificates to trust over https besides the system's roots. */
  readonly caPem?: string | undefined;
  /** Epoch milliseconds, for cache ages; default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** DNS; default `dns.promises.lookup(name, {all: true})`. */
  readonly resolve?: Resolve | undefined;
  /** Where fetch deadlines are kept; default an unreferenced `setTimeout`. */
  readonly setTimer?: SetTimer | undefined;
  readonly timeoutMs?: number | undefined;
  readonly maxDiscoveryBytes?: number | undefined;
  readonly maxJwksBytes?: number | undefined;
  readonly maxKeys?: number | undefined;
  readonly cacheTtlMs?: number | undefined;
  readonly refreshIntervalMs?: number | undefined;
  readonly failureTtlMs?: number | undefined;
  readonly maxIssuers?: number | undefined;
}

/** A {@link FederatedKeySource} over the network, with its connections to close. */
export interface OidcIssuerKeys extends FederatedKeySource {
  /** Closes the kept-alive connections; a later fetch opens new ones. */
  close(): void;
}

/** The key types an algorithm takes: any RSA key of 2048 bits or more, or an EC key on P-256. */
type KeyFamily = 'RSA' | 'P-256';

/**
 * The algorithms a federated token may be signed with, and the key each needs. RS256 and ES256
 * are what Kubernetes, GitHub Actions and the other common issuers use; RS384, RS512 and PS256
 * take the same RSA keys and jose verifies them as it does RS256, so they cost nothing. A Map,
 * so an `alg` such as `constructor` finds nothing.
 */
const ALGORITHMS = new Map<string, KeyFamily>([
  ['RS256', 'RSA'],
  ['RS384', 'RSA'],
  ['RS512', 'RSA'],
  ['PS256', 'RSA'],
  ['ES256', 'P-256'],
]);

/** One usable key of a key set, imported once. */
interface PublishedKey {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly family: KeyFamily;
  readonly key: KeyObject;
}

/** An issuer's usable keys, and when they were fetched. */
interface KeySet {
  readonly keys: readonly PublishedKey[];
  readonly fetchedAt: number;
  /** Where they came from (origin and path), for error details. */
  readonly source: string;
}

/** What is known of one issuer: its keys, the last fetch, and the fetch under way. */
interface IssuerEntry {
  keySet: KeySet | undefined;
  /** When the last fetch started, successful or not. */
  attemptedAt: number;
  failure: { readonly error: FederatedKeyError; readonly at: number } | undefined;
  pending: Promise<KeySet> | undefined;
}

type Settings = { -readonly [K in keyof typeof OIDC_ISSUER_KEYS_DEFAULTS]: number };

/** Everything the named functions below share. */
interface State {
  readonly http: Http;
  readonly policy: AddressPolicy;
  readonly now: () => number;
  readonly settings: Settings;
  /** Issuer to entry, least recently used first (a Map keeps insertion order). */
  readonly issuers: Map<string, IssuerEntry>;
}

/**
 * Makes the key source for workload identity federation. For an issuer it fetches
 * `{issuer}/.well-known/openid-configuration` (OIDC Discovery 1.0 section 4; one trailing `/` of
 * the issuer removed), requires a 200 JSON object whose `issuer` equals the requested one byte for
 * byte (section 4.3), then fetches its `jwks_uri` (a 200 JSON object with a `keys` array). No
 * redirect is followed. Both URLs must pass {@link checkedUrl}, and every connection goes only to
 * an address the policy allows, checked as it is made (see `issuer-address.ts`).
 *
 * The keys are kept per issuer for `cacheTtlMs`; concurrent callers share one fetch. A `kid` not
 * in the set fetches it again when the last fetch is `refreshIntervalMs` old, otherwise fails at
 * once. A failed fetch is remembered for `failureTtlMs`. `keyFor` rejects with a
 * {@link FederatedKeyError}: `endpoint` for a refused URL or address or a failed fetch,
 * `key_not_found` for an algorithm not accepted or no key matching the header.
 */
export function createOidcIssuerKeys(options: OidcIssuerKeysOptions): OidcIssuerKeys {
  const policy: AddressPolicy = {
    allowLoopback: options.allowLoopback,
    allowPrivate: options.allowPrivate,
  };
  const settings: Settings = { ...OIDC_ISSUER_KEYS_DEFAULTS };
  for (const name of Object.keys(settings) as (keyof Settings)[]) {
    settings[name] = options[name] ?? settings[name];
  }
  const state: State = {
    http: createHttp({
      timeoutMs: settings.timeoutMs,
      caPem: options.caPem,
      setTimer: options.setTimer,
      lookup: createGuardedLookup(policy, options.resolve ?? systemResolve),
    }),
    policy,
    now: options.now ?? Date.now,
    settings,
    issuers: new Map(),
  };
  return {
    keyFor: (issuer, hint) => keyFor(state, issuer, hint),
    close: () => {
      state.http.close();
    },
  };
}

/** The key for a token of `issuer` with header `hint`, from the cache or the network. */
async function keyFor(state: State, issuer: string, hint: FederatedKeyHint): Promise<KeyObject> {
  const url = checkedUrl(issuer, state.policy);
  if (typeof url === 'string') {
    throw new FederatedKeyError('endpoint', `the issuer${shownUrl(issuer)} ${url}`);
  }
  // Discovery appends a path: a query would swallow it (OIDC Core 1.0 section 2: no query).
  if (url.search !== '') {
    throw new FederatedKeyError('endpoint', `the issuer ${whereOf(url)} has a query`);
  }
  const family = ALGORITHMS.get(hint.alg);
  if (family === undefined) {
    const algs = [...ALGORITHMS.keys()].join(', ');
    throw new FederatedKeyError('key_not_found', `alg ${quote(hint.alg)} is not one of ${algs}`);
  }
  const entry = entryOf(state, issuer);
  const cached = entry.keySet;
  const fresh = cached !== undefined && state.now() - cached.fetchedAt < state.settings.cacheTtlMs;
  let keySet = fresh ? cached : await refresh(state, issuer, entry);
  let found = select(keySet, hint, family);
  // A fetch under way may bring the key: wait for it rather than fail.
  const mayRefresh =
    entry.pending !== undefined ||
    state.now() - entry.attemptedAt >= state.settings.refreshIntervalMs;
  if (typeof found === 'string' && hint.kid !== undefined && mayRefresh) {
    keySet = await refresh(state, issuer, entry);
    found = select(keySet, hint, family);
  }
  if (typeof found === 'string') throw new FederatedKeyError('key_not_found', found);
  return found;
}

/** The entry of `issuer`, made if new, now the most recently used; evicts the least. */
function entryOf(state: State, issuer: string): IssuerEntry {
  const { issuers } = state;
  let entry = issuers.get(issuer);
  if (entry !== undefined) {
    issuers.delete(issuer);
    issuers.set(issuer, entry);
    return entry;
  }
  entry = { keySet: undefined, attemptedAt: -Infinity, failure: undefined, pending: undefined };
  issuers.set(issuer, entry);
  for (const oldest of issuers.keys()) {
    if (issuers.size <= state.settings.maxIssuers) break;
    issuers.delete(oldest);
  }
  return entry;
}

/**
 * The issuer's keys fetched anew: the fetch under way if there is one, the remembered failure if
 * the last fetch failed less than `failureTtlMs` ago, else a new fetch.
 */
function refresh(state: State, issuer: string, entry: IssuerEntry): Promise<KeySet> {
  if (entry.pending !== undefined) return entry.pending;
  const failure = entry.failure;
  if (failure !== undefined && state.now() - failure.at < state.settings.failureTtlMs) {
    return Promise.reject(failure.error);
  }
  entry.attemptedAt = state.now();
  const pending = fetchKeySet(state, issuer).then(
    (keySet) => {
      entry.keySet = keySet;
      entry.failure = undefined;
      return keySet;
    },
    (error: unknown) => {
      const failed =
        error instanceof FederatedKeyError
          ? error
          : new FederatedKeyError(
              'endpoint',
              `fetching the keys of ${issuer} failed: ${String(error)}`,
            );
      entry.failure = { error: failed, at: state.now() };
      throw failed;
    },
  );
  entry.pending = pending.finally(() => {
    entry.pending = undefined;
  });
  return entry.pending;
}

/** The discovery document, then the key set it names. */
async function fetchKeySet(state: State, issuer: string): Promise<KeySet> {
  const { settings, policy } = state;
  const discoveryUrl = new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const discovery = await fetchJson(state, discoveryUrl, settings.maxDiscoveryBytes);
  const where = whereOf(discoveryUrl);
  if (discovery.issuer !== issuer) {
    const named = typeof discovery.issuer === 'string' ? quote(discovery.issuer) : 'no issuer';
    throw new FederatedKeyError('endpoint', `${where}: issuer mismatch: the document has ${named}`);
  }
  if (typeof discovery.jwks_uri !== 'string') {
    throw new FederatedKeyError('endpoint', `${where}: no jwks_uri`);
  }
  const jwksUrl = checkedUrl(discovery.jwks_uri, policy);
  if (typeof jwksUrl === 'string') {
    const shown = shownUrl(discovery.jwks_uri);
    throw new FederatedKeyError('endpoint', `${where}: the jwks_uri${shown} ${jwksUrl}`);
  }
  const jwks = await fetchJson(state, jwksUrl, settings.maxJwksBytes);
  if (!Array.isArray(jwks.keys)) {
    throw new FederatedKeyError('endpoint', `${whereOf(jwksUrl)}: no keys array`);
  }
  const keys: PublishedKey[] = [];
  for (const entry of jwks.keys.slice(0, settings.maxKeys) as unknown[]) {
    const key = importKey(entry);
    if (key !== undefined) keys.push(key);
  }
  return { keys, fetchedAt: state.now(), source: whereOf(jwksUrl) };
}

/** GETs `url`: a 200 answer of at most `maxBytes` whose body is a JSON object, or an `endpoint` error. */
async function fetchJson(
  state: State,
  url: URL,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const where = whereOf(url);
  let response: HttpResponse;
  try {
    response = await state.http({ method: 'GET', url: url.href, maxBodyBytes: maxBytes });
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const why =
      error.code === 'ResponseTooLarge' ? `too large (over ${maxBytes} bytes)` : error.message;
    throw new FederatedKeyError('endpoint', `${where}: ${why}`);
  }
  if (response.status !== 200) {
    const redirect = response.status >= 300 && response.status < 400;
    const why = redirect ? ' (a redirect, not followed)' : '';
    throw new FederatedKeyError('endpoint', `${where}: HTTP ${response.status}${why}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    throw new FederatedKeyError('endpoint', `${where}: not JSON`);
  }
  if (!isRecord(body)) throw new FederatedKeyError('endpoint', `${where}: not a JSON object`);
  return body;
}

/**
 * One entry of a key set as a usable key, or undefined when it is not: not an object, `use` other
 * than `sig`, a `kid` or `alg` that is not a string, an `alg` we do not accept or that does not fit
 * its key type, not an RSA key (of 2048 bits or more, as jose requires to verify) or an EC P-256
 * key, or members that do not make a valid key. Only the public members are read.
 */
function importKey(entry: unknown): PublishedKey | undefined {
  if (!isRecord(entry)) return undefined;
  const { kty, kid, alg, use } = entry;
  if (use !== undefined && use !== 'sig') return undefined;
  if (kid !== undefined && typeof kid !== 'string') return undefined;
  if (alg !== undefined && typeof alg !== 'string') return undefined;
  let jwk: JsonWebKey;
  let family: KeyFamily;
  if (kty === 'RSA' && typeof entry.n === 'string' && typeof entry.e === 'string') {
    jwk = { kty, n: entry.n, e: entry.e };
    family = 'RSA';
  } else if (
    kty === 'EC' &&
    entry.crv === 'P-256' &&
    typeof entry.x === 'string' &&
    typeof entry.y === 'string'
  ) {
    jwk = { kty, crv: entry.crv, x: entry.x, y: entry.y };
    family = 'P-256';
  } else {
    return undefined;
  }
  if (alg !== undefined && ALGORITHMS.get(alg) !== family) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return undefined;
  }
  if (family === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
  return { kid, alg, family, key };
}

/**
 * The key for a header, or why there is none. With a `kid`: the first key with that `kid` whose
 * type fits the algorithm and whose `alg`, if any, is the header's. Without: the one key that
 * fits; none or several is no key.
 */
function select(keySet: KeySet, hint: FederatedKeyHint, family: KeyFamily): KeyObject | string {
  const fits = (k: PublishedKey): boolean =>
    k.family === family && (k.alg === undefined || k.alg === hint.alg);
  const { kid } = hint;
  if (kid !== undefined) {
    const key = keySet.keys.find((k) => k.kid === kid && fits(k))?.key;
    return key ?? `${keySet.source}: no ${hint.alg} key with kid ${quote(kid)}`;
  }
  const fitting = keySet.keys.filter(fits);
  const only = fitting.length === 1 ? fitting[0]?.key : undefined;
  if (only !== undefined) return only;
  const count = fitting.length === 0 ? 'no' : `${fitting.length}`;
  return `${keySet.source}: ${count} ${hint.alg} keys and the token names no kid`;
}

/**
 * A URL as error details show it: origin and path, never credentials, query or fragment (written
 * out, as `origin` is `null` for schemes such as `file:`).
 */
const whereOf = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`;

/** `text` as error details show it (with a leading space) when it is a URL at all. */
const shownUrl = (text: string): string => (URL.canParse(text) ? ` ${whereOf(new URL(text))}` : '');

/** A foreign string as error details show it: quoted, and cut at 100 characters. */
const quote = (text: string): string =>
  JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
