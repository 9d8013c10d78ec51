// Entra ID token-endpoint success bodies: v1 (numbers as strings, with `resource`) and v2 (numbers).

/** The v1 `/oauth2/token` success body, members in the order Azure sends them. */
export interface V1TokenResponseBody {
  readonly token_type: 'Bearer';
  readonly expires_in: string;
  readonly ext_expires_in: string;
  readonly expires_on: string;
  readonly not_before: string;
  readonly resource: string;
  readonly access_token: string;
}

/** The v2 `/oauth2/v2.0/token` success body, members in the order Azure sends them. */
export interface V2TokenResponseBody {
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly ext_expires_in: number;
  readonly access_token: string;
}

/** Inputs of {@link v1TokenResponse}; every time is in whole unix seconds. */
export interface V1TokenResponseInput {
  readonly accessToken: string;
  /** The request's `resource`, echoed verbatim (clients key their cache on it). */
  readonly resource: string;
  /** The token's `exp`. */
  readonly expiresOn: number;
  /** The token's `nbf`. */
  readonly notBefore: number;
  /** The time of the response, from the surface's clock. */
  readonly now: number;
  /** Seconds of extended lifetime; defaults to `expires_in` (Entra sends the two equal). */
  readonly extExpiresIn?: number | undefined;
}

/** Inputs of {@link v2TokenResponse}, in seconds. */
export interface V2TokenResponseInput {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly extExpiresIn: number;
}

function seconds(name: string, value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a whole number of seconds, got ${String(value)}`);
  }
  return value;
}

/**
 * The body of a v1 success response (PROTOCOL.md section 5.5), e.g.
 * `{"token_type":"Bearer","expires_in":"86399","ext_expires_in":"86399","expires_on":"1617389804",
 * "not_before":"1617303104","resource":"https://management.core.windows.net/","access_token":"…"}`.
 * Numbers are strings, as Azure sends them. `expires_in` is `expiresOn - now`, never negative.
 * `expires_on` is always present: clients of v1-shaped bodies read it and ignore `expires_in`
 * (CLIENTS.md section 1.5).
 * Throws a RangeError if a time is not a whole number.
 */
export function v1TokenResponse(input: V1TokenResponseInput): V1TokenResponseBody {
  const expiresOn = seconds('expiresOn', input.expiresOn);
  const notBefore = seconds('notBefore', input.notBefore);
  const expiresIn = Math.max(0, expiresOn - seconds('now', input.now));
  const extExpiresIn =
    input.extExpiresIn === undefined ? expiresIn : seconds('extExpiresIn', input.extExpiresIn);
  return {
    token_type: 'Bearer',
    expires_in: String(expiresIn),
    ext_expires_in: String(extExpiresIn),
    expires_on: String(expiresOn),
    not_before: String(notBefore),
    resource: input.resource,
    access_token: input.accessToken,
  };
}

/**
 * The body of a v2 success response (PROTOCOL.md section 5.5, entra-docs
 * v2-oauth2-client-creds-grant-flow): `{"token_type":"Bearer","expires_in":3599,
 * "ext_expires_in":3599,"access_token":"…"}` with JSON numbers, which msal-node adds to its
 * request time to get the expiry. Throws a RangeError if a duration is not a whole number.
 */
export function v2TokenResponse(input: V2TokenResponseInput): V2TokenResponseBody {
  return {
    token_type: 'Bearer',
    expires_in: seconds('expiresIn', input.expiresIn),
    ext_expires_in: seconds('extExpiresIn', input.extExpiresIn),
    access_token: input.accessToken,
  };
}
