// Token requests against a running `tessera server` (compat/processes.ts), for the security suites.
import type { TesseraServer } from '../compat/processes.js';

/** A token request's answer. */
export interface TokenAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, unknown>;
}

/** POSTs `form` to the tenant's v1 or v2 token endpoint. */
export async function postTokenForm(
  server: { readonly url: string; readonly tenantId: string },
  version: 'v1' | 'v2',
  form: Record<string, string>,
): Promise<TokenAnswer> {
  const path = version === 'v1' ? 'oauth2/token' : 'oauth2/v2.0/token';
  const response = await fetch(`${server.url}/${server.tenantId}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** A management token for the administrator, from the v2 endpoint. */
export async function adminToken(server: TesseraServer): Promise<string> {
  const answer = await postTokenForm(server, 'v2', {
    grant_type: 'client_credentials',
    client_id: server.adminClientId,
    client_secret: server.adminSecret,
    scope: 'https://management.azure.com/.default',
  });
  const token = answer.body.access_token;
  if (typeof token !== 'string') throw new Error(`no admin token: ${JSON.stringify(answer)}`);
  return token;
}
