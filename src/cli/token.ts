// `tessera token get`: a managed-identity token from IMDS, asked from inside a VM exactly as the documented curl does.
import { type Command, Option } from 'commander';
import { ClientError, errorFromAnswer } from '../client/errors.js';
import { createHttp, type HttpSend } from '../client/http.js';
import { addOutputFlags, print, reporting, usage, withExample } from './client-kit.js';
import type { OutputFormat } from './output.js';

/** Where IMDS answers inside an Azure VM (PROTOCOL.md 1.1). */
export const DEFAULT_IMDS = 'http://169.254.169.254';

/** The audience asked for when `--resource` is not given: ARM, as the docs' example. */
export const DEFAULT_RESOURCE = 'https://management.azure.com/';

/** The identity category's api-version every SDK sends (PROTOCOL.md 1.1). */
const IMDS_API_VERSION = '2018-02-01';

/** Options of `tessera token get`. */
export interface TokenGetOptions {
  readonly resource: string;
  readonly clientId?: string;
  readonly objectId?: string;
  readonly msiResId?: string;
  readonly imds: string;
  readonly output: OutputFormat;
  readonly query?: string;
}

/**
 * The IMDS token URL for `options`: `/metadata/identity/oauth2/token` under the endpoint, with
 * `api-version`, `resource` and at most one of `client_id`, `object_id`, `msi_res_id`.
 */
export function tokenUrl(options: Omit<TokenGetOptions, 'output'>): string {
  const query = new URLSearchParams({
    'api-version': IMDS_API_VERSION,
    resource: options.resource,
  });
  if (options.clientId !== undefined) query.set('client_id', options.clientId);
  if (options.objectId !== undefined) query.set('object_id', options.objectId);
  if (options.msiResId !== undefined) query.set('msi_res_id', options.msiResId);
  return `${options.imds.replace(/\/+$/, '')}/metadata/identity/oauth2/token?${query.toString()}`;
}

/**
 * Asks IMDS for a token and returns its JSON answer. An IMDS error body
 * (`{"error","error_description"}`, whatever the status: clients look only at the body) is a
 * {@link ClientError} with the IMDS code; an answer that is no JSON object is `UnexpectedResponse`.
 */
export async function getImdsToken(
  send: HttpSend,
  options: Omit<TokenGetOptions, 'output'>,
): Promise<Record<string, unknown>> {
  const url = tokenUrl(options);
  const answer = await send({ method: 'GET', url, headers: { metadata: 'true' } });
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    body = undefined;
  }
  const object =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  if (answer.status >= 400 || object?.error !== undefined) {
    throw errorFromAnswer(answer.status >= 400 ? answer.status : 400, answer.text, `GET ${url}`);
  }
  if (object === undefined) {
    throw new ClientError('UnexpectedResponse', `not a JSON object from IMDS at ${url}`, {
      status: answer.status,
    });
  }
  return object;
}

/** Adds `tessera token get`. */
export function registerTokenCommand(program: Command): void {
  const token = program
    .command('token')
    .description('managed-identity tokens from IMDS, for use inside a VM');
  withExample(
    addOutputFlags(
      token
        .command('get')
        .description(
          "get a token for the VM's managed identity from IMDS (no credentials, no server: run it on the VM)",
        )
        .option('--resource <uri>', 'the audience (App ID URI) of the token', DEFAULT_RESOURCE)
        .addOption(
          new Option('--client-id <id>', 'a user-assigned identity by client id').conflicts([
            'objectId',
            'msiResId',
          ]),
        )
        .addOption(
          new Option('--object-id <id>', 'a user-assigned identity by object id').conflicts(
            'msiResId',
          ),
        )
        .option('--msi-res-id <id>', 'a user-assigned identity by ARM resource id')
        .option('--imds <url>', "IMDS's base URL", DEFAULT_IMDS),
    ),
    'tessera token get --resource https://vault.azure.net --query access_token -o tsv',
  ).action((options: TokenGetOptions, command: Command) =>
    reporting(async () => {
      let imds: URL | undefined;
      try {
        imds = new URL(options.imds);
      } catch {
        imds = undefined;
      }
      if (imds?.protocol !== 'http:' && imds?.protocol !== 'https:') {
        usage(command, `--imds must be an http or https URL, got '${options.imds}'`);
        return;
      }
      print(await getImdsToken(createHttp({ timeoutMs: 10_000 }), options), options);
    }),
  );
}
