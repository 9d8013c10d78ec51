// Reading a token's claims for display (the server verifies them; the portal only shows them).

/**
 * The longest a portal session lasts: an hour after sign-in, though the server's tokens live
 * longer (`server.tokens.lifetimeSeconds`, 86,700 s by default, as Azure's managed-identity
 * tokens). A tab left open forgets an administrator's token after an hour, not a day.
 */
export const SESSION_MAX_MS = 3_600_000;

/** A signed-in session: the token, when the portal stops using it, and who it names. */
export interface Session {
  readonly token: string;
  /** When the session ends (ms since the epoch): the token's expiry or the hour's end, sooner. */
  readonly expiresAt: number;
  readonly appId: string;
  readonly objectId: string;
}

/** The claims of a JWT, decoded without verification (the server verifies; this only shows). */
export function decodeClaims(token: string): Record<string, unknown> {
  const [, payload = ''] = token.split('.');
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * A session for `token` signed in at `now`: it ends at the token's `exp` (else `expires_in`
 * seconds after `now`) or {@link SESSION_MAX_MS} after `now`, whichever is sooner.
 */
export function sessionOf(token: string, expiresIn: number, now: number): Session {
  const claims = decodeClaims(token);
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : now + expiresIn * 1000;
  return {
    token,
    expiresAt: Math.min(exp, now + SESSION_MAX_MS),
    appId: text(claims.appid),
    objectId: text(claims.oid),
  };
}
