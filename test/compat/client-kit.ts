// What the compatibility client scripts share: inputs, the credential, a request log, the report.
//
// A client script runs in its own process (see harness.ts); it reads its inputs from
// TESSERA_COMPAT_* variables and prints one JSON line, `ClientOutput` of harness.ts.
// The default import is node's own `dns` object, which `net` reads `lookup` from on each connect
// (a namespace import could not be patched).
import dns from 'node:dns';
import { readFile } from 'node:fs/promises';
import { ClientSecretCredential } from '@azure/identity';

/** The value of `TESSERA_COMPAT_{name}`; fails when it is unset or empty. */
export function input(name: string): string {
  const value = process.env[`TESSERA_COMPAT_${name}`];
  if (value === undefined || value === '') throw new Error(`TESSERA_COMPAT_${name} is not set`);
  return value;
}

/** The administrator's `ClientSecretCredential` against Tessera's login surface. */
export async function adminCredential(): Promise<ClientSecretCredential> {
  const secret = (await readFile(input('SECRET_FILE'), 'utf8')).trim();
  return new ClientSecretCredential(input('TENANT_ID'), input('CLIENT_ID'), secret, {
    // MSAL fetches `{authorityHost}/{tenant}/v2.0/.well-known/openid-configuration` from Tessera.
    authorityHost: input('URL'),
    // Otherwise MSAL asks login.microsoftonline.com about a host it does not know.
    disableInstanceDiscovery: true,
  });
}

/** What node's `dns.lookup` calls back with. */
type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * TEST ONLY: makes this process resolve `suffix` and every name under it (a vault's
 * `{name}.vault.localhost`) to the IPv4 `address` (127.0.0.1 unless given), as a hosts entry or a
 * private DNS zone would on a user's machine, so that the SDK connects to Tessera (or a front of
 * it) under the name the vault's URI gives (and checks the certificate and the challenge against
 * that name). Other names go to the real
 * `dns.lookup`. Node's `net` (under `https`, under the SDKs' HTTP client) looks hosts up through
 * `dns.lookup` when it connects, so this must run before the first request, not before imports.
 */
export function resolveToLoopback(suffix: string, address = '127.0.0.1'): void {
  const real = dns.lookup;
  const ours = (hostname: string): boolean => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return name === suffix || name.endsWith(`.${suffix}`);
  };
  const lookup = (...args: unknown[]): void => {
    const [hostname, options] = args;
    if (typeof hostname !== 'string' || !ours(hostname)) {
      Reflect.apply(real, dns, args);
      return;
    }
    const callback = args.at(-1) as LookupCallback;
    // `net` asks for every address (`all`) when it may try IPv4 and IPv6 in turn.
    const all = typeof options === 'object' && options !== null && 'all' in options && options.all;
    process.nextTick(() => {
      if (all === true) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    });
  };
  dns.lookup = lookup as typeof dns.lookup;
}

/** The parts of core-rest-pipeline's request, response and policy the log reads. */
interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
}
interface LoggedResponse {
  readonly status: number;
}
interface LogPolicy {
  readonly name: string;
  sendRequest<Req extends LoggedRequest, Res extends LoggedResponse>(
    request: Req,
    next: (request: Req) => Promise<Res>,
  ): Promise<Res>;
}

/** Requests the SDK sent, `METHOD path?query -> status`, in order. */
const requests: string[] = [];
/** The JSON bodies among them, by the request's line. */
const bodies: { request: string; body: unknown }[] = [];

/** `text` as JSON, or as is when it is not JSON. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A per-call pipeline policy (for a client's `additionalPolicies`) recording every request the
 * SDK sends, with the query as sent (so the api-version shows) and the status it got.
 */
export const requestLog: { readonly policy: LogPolicy; readonly position: 'perCall' } = {
  position: 'perCall',
  policy: {
    name: 'tesseraCompatRequestLog',
    async sendRequest(request, next) {
      const url = new URL(request.url);
      let line = `${request.method} ${url.pathname}${url.search}`;
      try {
        const response = await next(request);
        line = `${line} -> ${response.status}`;
        return response;
      } catch (error) {
        // core-client's deserialisation policy turns an unexpected status into a RestError.
        const { statusCode, name } = error as { statusCode?: number; name?: string };
        line = `${line} -> ${statusCode ?? name ?? 'error'}`;
        throw error;
      } finally {
        requests.push(line);
        // By the time a per-call policy runs, both kinds of SDK client have serialised the body.
        if (typeof request.body === 'string')
          bodies.push({ request: line, body: parsed(request.body) });
      }
    },
  },
};

/** An SDK error as the report shows it. */
export interface ReportedError {
  readonly name?: string | undefined;
  readonly message?: string | undefined;
  readonly code?: string | undefined;
  readonly statusCode?: number | undefined;
}

/** The fields of an SDK error (`RestError`) a test asserts on. */
export function reportError(error: unknown): ReportedError {
  const { name, message, code, statusCode } = error as ReportedError;
  return { name, message, code, statusCode };
}

/** Runs one named step; what it returns is reported under that name. */
export type Step = <T>(name: string, run: () => Promise<T>) => Promise<T>;

/**
 * Runs `steps`, then prints `{ok, step?, error?, results, requests, bodies}` as one JSON line:
 * `ok` when every step ran, otherwise the step that threw and its error (exit code 1).
 */
export async function report(steps: (step: Step) => Promise<void>): Promise<void> {
  const results: Record<string, unknown> = {};
  let current = 'start';
  const step: Step = async (name, run) => {
    current = name;
    const value = await run();
    results[name] = value;
    return value;
  };
  let outcome: { ok: boolean; step?: string; error?: ReportedError };
  try {
    await steps(step);
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, step: current, error: reportError(error) };
    process.exitCode = 1;
  }
  process.stdout.write(`${JSON.stringify({ ...outcome, results, requests, bodies })}\n`);
}

/** The items of an SDK pager, each mapped with `pick` (Node 20 has no `Array.fromAsync`). */
export async function collect<T, U>(items: AsyncIterable<T>, pick: (item: T) => U): Promise<U[]> {
  const picked: U[] = [];
  for await (const item of items) picked.push(pick(item));
  return picked;
}

/** What `run` returned, or its error as {@link reportError} shows it (for calls meant to fail). */
export async function outcomeOf<T>(
  run: () => Promise<T>,
): Promise<{ value: T } | { error: ReportedError }> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error: reportError(error) };
  }
}
