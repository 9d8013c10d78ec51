// `tessera token get`: a managed-identity token from IMDS, asked from inside a VM exactly as the documented curl does.
import { type Command, Option } from 'commander';
import { ClientError, errorFromAnswer } from '../client/errors.js';
import { createHttp, type HttpSend } from '../client/http.js';
import { loadConfigOrExit } from '../config/index.js';
import { isRecord } from '../core/guards.js';
import { addOutputFlags, print, reporting, usage, withExample } from './client-kit.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import type { OutputFormat } from './output.js';
import { readRunningUp } from './up-file.js';

/** Where IMDS answers inside an Azure VM (PROTOCOL.md 1.1). */
export const DEFAULT_IMDS = 'http://169.254.169.254';

/** The audience asked for when `--resource` is not given: ARM, as the docs' example. */
export const DEFAULT_RESOURCE = 'https://management.azure.com/';

/** The variable the Azure SDKs read IMDS's address from (`tessera up` prints it). */
export const IMDS_ENDPOINT_ENV = 'AZURE_POD_IDENTITY_AUTHORITY_HOST';

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
  const object = isRecord(body) ? body : undefined;
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

/**
 * The IMDS to ask, first found: `--imds`, `AZURE_POD_IDENTITY_AUTHORITY_HOST` (as the Azure SDKs),
 * the IMDS of the `tessera up` running on the data directory (its `up.json`), Azure's
 * 169.254.169.254.
 */
async function imdsOf(options: TokenGetFlags): Promise<string> {
  const env = process.env[IMDS_ENDPOINT_ENV];
  if (options.imds !== undefined) return options.imds;
  if (env !== undefined && env !== '') return env;
  const { dataDir } = loadConfigOrExit(loadOptionsFrom(options));
  return (await readRunningUp(dataDir))?.imds ?? DEFAULT_IMDS;
}

/** What `tessera token get` is given: {@link TokenGetOptions} with `--imds` optional. */
type TokenGetFlags = Omit<TokenGetOptions, 'imds'> & ConfigFlagOptions & { readonly imds?: string };

/** Adds `tessera token get`; `addConfigFlags` gives it `--data-dir` (where up.json is). */
export function registerTokenCommand(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const token = program
    .command('token')
    .description('managed-identity tokens from IMDS, for use inside a VM');
  withExample(
    addOutputFlags(
      addConfigFlags(token.command('get'))
        .description(
          "get a token for the VM's managed identity from IMDS (no credentials, no server: run it on the VM, or next to `tessera up`)",
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
        .option(
          '--imds <url>',
          `IMDS's base URL (default: ${IMDS_ENDPOINT_ENV}, else the IMDS of the running \`tessera up\`'s <dataDir>/up.json, else ${DEFAULT_IMDS})`,
        ),
    ),
    'tessera token get --resource https://vault.azure.net --query access_token -o tsv',
  ).action((options: TokenGetFlags, command: Command) =>
    reporting(async () => {
      const given = await imdsOf(options);
      let imds: URL | undefined;
      try {
        imds = new URL(given);
      } catch {
        imds = undefined;
      }
      if (imds?.protocol !== 'http:' && imds?.protocol !== 'https:') {
        usage(command, `IMDS's URL (--imds) must be http or https, got '${given}'`);
        return;
      }
      const send = createHttp({ timeoutMs: 10_000 });
      print(await getImdsToken(send, { ...options, imds: given }), options);
    }),
  );
}
