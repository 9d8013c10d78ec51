// What every client command (`tessera group|identity|vm|role|keyvault|...`) shares: the server, credentials, flags, output and errors.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { type ArmClient, createArmClient } from '../client/arm.js';
import {
  type ClientCredentials,
  createTokenProvider,
  loadCredentials,
  type LoginProfile,
  readLoginProfile,
  type TokenProvider,
} from '../client/credentials.js';
import { ClientError, isClientError } from '../client/errors.js';
import { createHttp, type HttpSend } from '../client/http.js';
import { loadConfigOrExit, type TesseraConfig } from '../config/index.js';
import { isSetExplicitly } from '../config/load.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { OUTPUT_FORMATS, type OutputFormat, QueryError, renderOutput } from './output.js';
import { createCachingTokenProvider, renewingRejectedTokens } from './token-cache.js';
import { readRunningUp } from './up-file.js';

/** The options every client command takes besides the configuration flags. */
export interface ClientFlagOptions extends ConfigFlagOptions {
  readonly server?: string;
  readonly ca?: string;
  readonly output: OutputFormat;
  readonly query?: string;
  readonly subscription?: string;
}

/** A client command's way to the server. */
export interface Connection {
  readonly config: TesseraConfig;
  readonly serverUrl: string;
  readonly send: HttpSend;
  readonly tokens: TokenProvider;
  readonly arm: ArmClient;
}

/** A command-line mistake: commander prints it and main exits 2. */
export const usage = (command: Command, message: string): never =>
  command.error(`error: ${message}`, { exitCode: 2, code: 'tessera.usage' });

/**
 * The server the configuration describes: `publicUrl` when set, else `server.host` and
 * `server.port` (a wildcard host is reached on loopback), https when `server.tls` is set.
 * Undefined when the port is 0 (chosen at start: only `--server` can say which).
 */
export function serverUrlFrom(config: TesseraConfig): string | undefined {
  if (config.publicUrl !== undefined) return config.publicUrl.replace(/\/+$/, '');
  const { host, port, tls } = config.server;
  if (port === 0) return undefined;
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const named = isIP(reachable) === 6 ? `[${reachable}]` : reachable;
  return `${tls.certFile === undefined ? 'http' : 'https'}://${named}:${port}`;
}

/** The PEM text of a CA file; a missing file is fine unless `required`. */
export async function readCa(file: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClientError(
      'InvalidArgument',
      `cannot read the CA file ${file}: ${String((error as NodeJS.ErrnoException).code)}`,
    );
  }
}

/** `given` as a server base URL (origin and path, no trailing slash), or a usage error. */
export function parseServerUrl(given: string, command: Command): URL {
  let url: URL | undefined;
  try {
    url = new URL(given);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) {
    return usage(command, `--server must be an http or https URL, got '${given}'`);
  }
  return url;
}

/** Where a client command's server came from, which decides its CA and what `login` records. */
export type ServerSource = 'flag' | 'login' | 'config' | 'up' | 'default';

/** The server a client command talks to, and the CA it trusts for it. */
export interface ServerChoice {
  /** Base URL: origin and path, no trailing slash. */
  readonly serverUrl: string;
  readonly source: ServerSource;
  /** PEM CA certificates to trust besides the system's (https only). */
  readonly caPem: string | undefined;
}

/** Keys that say where the server is: set by a flag, the environment or a file, they win over up.json. */
const SERVER_KEYS = ['publicUrl', 'server.host', 'server.port', 'server.tls'] as const;

/**
 * Chooses the server, first found: `--server`; the one `tessera login` recorded (`profile`); the
 * configuration's address when a flag, `TESSERA_*` variable or config file sets it; the `tessera
 * up` running on the data directory (its `up.json`); the configuration's defaults. For https the
 * CA is `--ca`, else the one recorded with that server (login's, up.json's), else
 * `<dataDir>/tls/ca.pem` when it exists. A server.port of 0 with no other answer is a usage error.
 */
export async function chooseServer(
  options: Pick<ClientFlagOptions, 'server' | 'ca'>,
  config: TesseraConfig,
  command: Command,
  profile: LoginProfile | undefined,
): Promise<ServerChoice> {
  const explicit = SERVER_KEYS.some((key) => isSetExplicitly(config, key));
  const up =
    options.server === undefined && !explicit ? await readRunningUp(config.dataDir) : undefined;
  const [given, source, recordedCa]: [string | undefined, ServerSource, string | undefined] =
    options.server !== undefined
      ? [options.server, 'flag', undefined]
      : profile?.server !== undefined
        ? [profile.server, 'login', profile.ca]
        : explicit
          ? [serverUrlFrom(config), 'config', undefined]
          : up !== undefined
            ? [up.server, 'up', up.ca]
            : [serverUrlFrom(config), 'default', undefined];
  if (given === undefined) {
    return usage(command, 'server.port is 0 (chosen when the server starts): pass --server URL');
  }
  const url = parseServerUrl(given, command);
  const serverUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  const caFile = options.ca ?? recordedCa;
  // `tessera up`'s local CA is trusted by default, so its HTTPS address works as printed.
  const caPem =
    url.protocol !== 'https:'
      ? undefined
      : caFile === undefined
        ? await readCa(join(config.dataDir, 'tls', 'ca.pem'), false)
        : await readCa(caFile, true);
  return { serverUrl, source, caPem };
}

/**
 * The token provider and request function for `credentials` at `serverUrl`. The administrator's
 * and a signed-in application's tokens are cached in `<dataDir>/token-cache.json` (see
 * {@link createCachingTokenProvider}); credentials from the environment are not.
 */
export function tokensFor(options: {
  readonly dataDir: string;
  readonly serverUrl: string;
  readonly credentials: ClientCredentials;
  readonly send: HttpSend;
  /** What asks the server for tokens; made from the above when absent. */
  readonly minted?: TokenProvider;
}): { readonly tokens: TokenProvider; readonly send: HttpSend } {
  const { dataDir, serverUrl, credentials, send } = options;
  const minted = options.minted ?? createTokenProvider({ serverUrl, credentials, send });
  if (credentials.source === 'environment') return { tokens: minted, send };
  const tokens = createCachingTokenProvider({
    dataDir,
    owner: { authority: `${serverUrl}/${credentials.tenantId}`, clientId: credentials.clientId },
    tokens: minted,
  });
  return { tokens, send: renewingRejectedTokens(send, tokens) };
}

/**
 * Loads the configuration and credentials and makes the HTTP, token and ARM clients for the
 * server {@link chooseServer} picks.
 */
export async function connect(options: ClientFlagOptions, command: Command): Promise<Connection> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  const profile = await readLoginProfile(config.dataDir);
  const { serverUrl, caPem } = await chooseServer(options, config, command, profile);
  const credentials = await loadCredentials({ dataDir: config.dataDir, env: process.env });
  const { tokens, send } = tokensFor({
    dataDir: config.dataDir,
    serverUrl,
    credentials,
    send: createHttp({ caPem }),
  });
  return { config, serverUrl, send, tokens, arm: createArmClient({ serverUrl, send, tokens }) };
}

/** Prints a command's result with `--query` and `--output` applied. */
export function print(value: unknown, options: Pick<ClientFlagOptions, 'output' | 'query'>): void {
  process.stdout.write(renderOutput(value, options.output, options.query));
}

/**
 * Runs `work`; a client error is one line on stderr (`tessera: Code: message`) and exit
 * status 1, a bad `--query` exit status 2, as `az`.
 */
export async function reporting(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof QueryError) {
      process.stderr.write(`tessera: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (!isClientError(error)) throw error;
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(
      String((error.cause as NodeJS.ErrnoException | undefined)?.code),
    );
    const hint = tls ? " (trust the server's CA with --ca FILE)" : '';
    process.stderr.write(`tessera: ${error.code}: ${error.message}${hint}\n`);
    process.exitCode = 1;
  }
}

/** `--subscription`, else the first subscription the caller sees (as `az`'s default account). */
export async function subscriptionOf(
  arm: ArmClient,
  options: Pick<ClientFlagOptions, 'subscription'>,
): Promise<string> {
  if (options.subscription !== undefined) return options.subscription;
  const [first] = await arm.listSubscriptions();
  const id = first?.subscriptionId;
  if (typeof id !== 'string') {
    throw new ClientError(
      'SubscriptionNotFound',
      'the caller sees no subscription: pass --subscription',
    );
  }
  return id;
}

/** Adds `-o/--output` and `--query`: all a command that needs no server takes. */
export function addOutputFlags(command: Command): Command {
  return command
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices([...OUTPUT_FORMATS])
        .default('json'),
    )
    .option(
      '--query <jmespath>',
      'JMESPath query string, applied before --output (see jmespath.org)',
    );
}

/** Adds `--server`, `--ca`, `--subscription`, `--output` and `--query` to a command. */
export function addClientFlags(command: Command): Command {
  return addOutputFlags(command)
    .option(
      '--server <url>',
      "the server's URL (default: from `tessera login`, else the configured address when set, else the running `tessera up`'s <dataDir>/up.json)",
    )
    .option(
      '--ca <file>',
      'PEM CA certificates to trust for an https server (default: the one recorded with the server, else <dataDir>/tls/ca.pem when present)',
    )
    .option('--subscription <id>', 'the subscription (default: the first the caller sees)');
}

/** Adds an example to a command's `--help`. */
export function withExample(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/**
 * How a client command is declared: the configuration flags, then the client flags, then its
 * `--help` example lines when given. Each command module makes one from `addConfigFlags`.
 */
export function clientFlags(
  addConfigFlags: (command: Command) => Command,
): (command: Command, ...example: string[]) => Command {
  return (command, ...example) => {
    const flagged = addClientFlags(addConfigFlags(command));
    return example.length === 0 ? flagged : withExample(flagged, ...example);
  };
}
