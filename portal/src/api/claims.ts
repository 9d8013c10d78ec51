// Reading a token's claims for display (the server verifies them; the portal only shows them).

/** A signed-in session: the token, when it expires, and who it names. */
export interface Session {
  readonly token: string;
  /** Milliseconds since the epoch. */
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

/** A session for `token`, its expiry from `exp` (else `expires_in` seconds after `now`). */
export function sessionOf(token: string, expiresIn: number, now: number): Session {
  const claims = decodeClaims(token);
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : now + expiresIn * 1000;
  return { token, expiresAt: exp, appId: text(claims.appid), objectId: text(claims.oid) };
}
