// One-time join tokens for agent hosts: `{hostId}.{secret}`, of which only a slow hash is kept.
import { randomBytes, randomUUID } from 'node:crypto';
import { hashClientSecret, verifyClientSecret } from '../directory/client-secret.js';
import { type AppError, authenticationRequired, isAppError } from '../errors.js';
import type { Host } from '../model.js';
import type { Clock, Store } from '../ports.js';
import { checkHostName } from './hosts.js';

/** Random bytes in a join token's secret part (base64url: 43 characters). */
const JOIN_SECRET_BYTES = 32;
const JOIN_TOKEN_PATTERN = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43,128})$/;

/** A join token just issued: shown once, never stored. */
export interface IssuedJoinToken {
  /** Whether the host was created by this call (else it existed and its token was replaced). */
  readonly created: boolean;
  readonly host: Host;
  readonly joinToken: string;
}

/** A join token that matched its host, and the hash it matched (to consume it exactly once). */
export interface VerifiedJoinToken {
  readonly host: Host;
  readonly hash: string;
}

/**
 * Gives host `name` a new one-time join token `{hostId}.{secret}` (32 random bytes, base64url),
 * creating the host (random GUID id) when there is none. Only a scrypt hash of the secret is
 * stored; a new token replaces the previous one, which stops working. The host's certificate is
 * untouched: it keeps working until the new token is used to register. Fails with
 * `InvalidParameter` (400) for an invalid name.
 */
export async function issueJoinToken(
  deps: { readonly store: Store; readonly clock: Clock; readonly newId?: () => string },
  name: string,
): Promise<IssuedJoinToken> {
  checkHostName(name);
  const { store, clock } = deps;
  const secret = randomBytes(JOIN_SECRET_BYTES).toString('base64url');
  const joinTokenHash = await hashClientSecret(secret);
  const issued = (host: Host, created: boolean): IssuedJoinToken => ({
    created,
    host,
    joinToken: `${host.id}.${secret}`,
  });
  const existing = await store.hosts.getByName(name);
  if (existing !== undefined) {
    await store.hosts.update(existing.id, { joinTokenHash });
    return issued(existing, false);
  }
  const host: Host = {
    id: (deps.newId ?? randomUUID)(),
    name,
    joinTokenHash,
    certificateThumbprint: null,
    registeredAt: null,
    lastSeenAt: null,
    createdAt: clock.now(),
  };
  try {
    await store.hosts.create(host);
    return issued(host, true);
  } catch (error) {
    // Created concurrently by another caller: give that host the token instead.
    const raced = isAppError(error) && error.code === 'Conflict';
    const winner = raced ? await store.hosts.getByName(name) : undefined;
    if (winner === undefined) throw error;
    await store.hosts.update(winner.id, { joinTokenHash });
    return issued(winner, false);
  }
}

/**
 * The host whose join token `joinToken` is, checked in constant time. The hash is checked even
 * when there is none to check, so timing does not tell an unknown host from a wrong secret.
 * Fails with {@link joinTokenRefused} (401) for a token that is malformed, unknown, wrong or
 * already used: one message for all.
 */
export async function verifyJoinToken(store: Store, joinToken: string): Promise<VerifiedJoinToken> {
  const match = JOIN_TOKEN_PATTERN.exec(joinToken);
  const host = match?.[1] === undefined ? undefined : await store.hosts.get(match[1]);
  const hash = host?.joinTokenHash ?? (await placeholderHash());
  const valid = (await verifyClientSecret(match?.[2] ?? '', hash)) && host?.joinTokenHash === hash;
  if (host === undefined || !valid) throw joinTokenRefused();
  return { host, hash };
}

/** 401: the join token is not (or no longer) good; the same words whatever the reason. */
export function joinTokenRefused(): AppError {
  return authenticationRequired('The join token is not valid or has already been used.');
}

let placeholder: Promise<string> | undefined;

/** A hash of a secret nobody knows: what an unknown host's token is checked against. */
function placeholderHash(): Promise<string> {
  placeholder ??= hashClientSecret(randomBytes(JOIN_SECRET_BYTES).toString('base64url'));
  return placeholder;
}
