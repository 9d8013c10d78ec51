// Plain HTTP from a chosen loopback address for the compatibility suites: what a VM sends the
// agent's IMDS, and waiting until IMDS serves an identity.
import { request } from 'node:http';

/** One HTTP answer, body as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The source address: the VM a request to IMDS comes from (127.0.0.1 by default). */
  readonly from?: string;
}

/** One plain-HTTP request on its own connection, from a chosen loopback address. */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.from === undefined ? {} : { localAddress: options.from }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Calls `probe` every 50 ms until it resolves to a value other than undefined; fails naming
 * `what` after `ms` (agents learn of ARM's changes a moment after ARM answers).
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** IMDS's token body, as far as the suites read it (PROTOCOL.md 1.4). */
export interface ImdsToken {
  readonly access_token: string;
  readonly client_id: string;
}

/**
 * Asks the agent's IMDS at `imdsUrl`, from the VM at `from`, for a token for `resource` with
 * the identity `selector` (`{ client_id }`, `{ msi_res_id }`; none: the system-assigned identity)
 * until it answers 200: the way to know the agent serves a VM's identity. Fails with IMDS's last
 * answer.
 */
export async function imdsToken(
  imdsUrl: string,
  options: {
    readonly from: string;
    readonly resource: string;
    readonly selector?: Readonly<Record<string, string>>;
  },
): Promise<ImdsToken> {
  const query = new URLSearchParams({
    'api-version': '2018-02-01',
    resource: options.resource,
    ...options.selector,
  });
  const url = `${imdsUrl}/metadata/identity/oauth2/token?${query.toString()}`;
  let last = '';
  try {
    return await until(`IMDS to serve ${options.from} ${query.toString()}`, async () => {
      const answer = await httpRequest(url, { from: options.from, headers: { Metadata: 'true' } });
      last = `${String(answer.status)} ${answer.text}`;
      return answer.status === 200 ? (JSON.parse(answer.text) as ImdsToken) : undefined;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${last}`, { cause: error });
  }
}
