// The IMDS token success body (PROTOCOL.md 1.4): every value a string, Azure's member order.

/** The token fields the body is made of (the agent's `ImdsToken`); times are unix seconds. */
export interface ImdsTokenFields {
  readonly accessToken: string;
  readonly clientId: string;
  readonly resource: string;
  readonly expiresOn: number;
  readonly notBefore: number;
}

/**
 * `ext_expires_in` seen in every captured IMDS response (`"86399"`, PROTOCOL.md 1.4). Tessera
 * sends this, or the token's whole lifetime when that is shorter.
 */
export const IMDS_EXT_EXPIRES_IN = 86_399;

/** The constant parts of one token's body, around `expires_in`. */
interface Rendered {
  readonly resource: string;
  /**
   * `{"access_token":` and the token as a JSON string, or undefined when that is `"` + the token
   * + `"` (a JWT never needs escaping): then the token's own string is used, so a cached token's
   * 1-2 KB are held once, by the token, not again in its rendered parts.
   */
  readonly head: string | undefined;
  readonly middle: string;
  readonly tail: string;
}

const ACCESS_TOKEN_OPEN = '{"access_token":"';
/** Characters a JSON string holds as they are (no quote, backslash or control character). */
const PLAIN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

// Cached tokens are the same object on every request: render their bytes once.
const rendered = new WeakMap<ImdsTokenFields, Rendered>();

function render(token: ImdsTokenFields, resource: string): Rendered {
  const expiresOn = Math.floor(token.expiresOn);
  const notBefore = Math.floor(token.notBefore);
  const ext = Math.max(0, Math.min(IMDS_EXT_EXPIRES_IN, expiresOn - notBefore));
  return {
    resource,
    head: PLAIN_JSON.test(token.accessToken)
      ? undefined
      : `{"access_token":${JSON.stringify(token.accessToken)}`,
    middle: `,"client_id":${JSON.stringify(token.clientId)},"expires_in":"`,
    tail:
      `","expires_on":"${String(expiresOn)}","ext_expires_in":"${String(ext)}"` +
      `,"not_before":"${String(notBefore)}","resource":${JSON.stringify(resource)}` +
      `,"token_type":"Bearer"}`,
  };
}

/**
 * The body of a successful `GET /metadata/identity/oauth2/token`, as captured from Azure:
 * `{"access_token","client_id","expires_in","expires_on","ext_expires_in","not_before",
 * "resource","token_type"}` in that order, every value a JSON string. `expires_in` is computed
 * from `nowSeconds`, so it counts down for a cached token and is never negative; `resource` is
 * the request's value verbatim, which clients use as their cache key (CLIENTS.md 0.5). The
 * constant parts are rendered once per token object.
 */
export function renderTokenBody(
  token: ImdsTokenFields,
  resource: string,
  nowSeconds: number,
): string {
  let parts = rendered.get(token);
  if (parts === undefined || parts.resource !== resource) {
    parts = render(token, resource);
    rendered.set(token, parts);
  }
  const expiresIn = tokenExpiresIn(token, nowSeconds);
  const head = parts.head ?? `${ACCESS_TOKEN_OPEN}${token.accessToken}"`;
  return head + parts.middle + String(expiresIn) + parts.tail;
}

/** `expires_in` of `token` at `nowSeconds`: whole seconds left, never negative. */
export function tokenExpiresIn(token: ImdsTokenFields, nowSeconds: number): number {
  return Math.max(0, Math.floor(token.expiresOn - nowSeconds));
}
