// What every client command (`tessera group|identity|vm|role|keyvault|...`) shares: the server, credentials, flags, output and errors.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { type ArmClient, createArmClient } from '../client/arm.js';
import {
  createTokenProvider,
  loadCredentials,
  readLoginProfile,
  type TokenProvider,
} from '../client/credentials.js';
import { ClientError, isClientError } from '../client/errors.js';
import { createHttp, type HttpSend } from '../client/http.js';
import { loadConfigOrExit, type TesseraConfig } from '../config/index.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { OUTPUT_FORMATS, type OutputFormat, QueryError, renderOutput } from './output.js';

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

/**
 * Loads the configuration and credentials and makes the HTTP, token and ARM clients. The
 * server is `--server`, else the one `tessera login` recorded, else the configuration's.
 */
export async function connect(options: ClientFlagOptions, command: Command): Promise<Connection> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  const profile = await readLoginProfile(config.dataDir);
  const given = options.server ?? profile?.server ?? serverUrlFrom(config);
  if (given === undefined) {
    return usage(command, 'server.port is 0 (chosen when the server starts): pass --server URL');
  }
  const url = parseServerUrl(given, command);
  const serverUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  // `tessera up`'s local CA is trusted by default, so its HTTPS address works as printed.
  const caFile = options.ca ?? profile?.ca;
  const caPem =
    url.protocol !== 'https:'
      ? undefined
      : caFile === undefined
        ? await readCa(join(config.dataDir, 'tls', 'ca.pem'), false)
        : await readCa(caFile, true);
  const send = createHttp({ caPem });
  const credentials = await loadCredentials({ dataDir: config.dataDir, env: process.env });
  const tokens = createTokenProvider({ serverUrl, credentials, send });
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
      "the server's URL (default: from `tessera login`, else from the configuration)",
    )
    .option(
      '--ca <file>',
      'PEM CA certificates to trust for an https server (default <dataDir>/tls/ca.pem when present)',
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
