// Signing in: the client-credentials grant against the directory, the token kept in sessionStorage.
import { type Session, sessionOf } from './claims.js';
import { errorOf } from './http.js';

export type { Session } from './claims.js';

/** What `/portal/config.json` says. */
export interface PortalConfig {
  readonly tenantId: string;
  readonly tokenEndpoint: string;
  readonly armScope: string;
}

// sessionStorage only: the token dies with the tab, never outlives it in localStorage.
const KEY = 'tessera.portal.session';

/** Reads the portal's configuration from the server. */
export async function loadConfig(): Promise<PortalConfig> {
  const response = await fetch('config.json');
  if (!response.ok) throw new Error(`config.json: the server answered ${response.status}`);
  return (await response.json()) as PortalConfig;
}

/**
 * Asks the token endpoint for an ARM token with an application's id and secret. Fails with the
 * endpoint's `error_description` (a wrong secret, an unknown client).
 */
export async function signIn(
  config: PortalConfig,
  clientId: string,
  clientSecret: string,
): Promise<Session> {
  const response = await fetch(config.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope: config.armScope,
    }).toString(),
  });
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) throw errorOf(response.status, body);
  const { access_token: token, expires_in: expiresIn } = body as {
    access_token: string;
    expires_in: number;
  };
  const session = sessionOf(token, expiresIn, Date.now());
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/** The stored session, unless there is none or it has expired. */
export function storedSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (raw === null) return undefined;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.token !== 'string' || session.expiresAt <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return undefined;
    }
    return session;
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

/** Forgets the session. */
export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
