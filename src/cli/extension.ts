// `tessera extension`: runs inside a VM and serves the deprecated extension endpoint (localhost:50342) from IMDS.
import { type Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../config/logger.js';
import { configInvalid } from '../core/errors.js';
import { LEGACY_EXTENSION_DEFAULT_PORT } from '../core/resources/legacy-extension.js';
import { createExtensionShim, type ExtensionShim } from '../agent/extension/shim.js';
import { untilSignal } from './signals.js';

/** The options of `tessera extension`, as commander hands them over. */
export interface ExtensionCommandOptions {
  readonly imdsUrl: string;
  readonly port: number;
  readonly host: string;
  readonly localAddress?: string | undefined;
}

/** A `--port` value: an integer from 0 (any free port) to 65535. */
function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError('expected an integer from 0 to 65535');
  }
  return port;
}

/**
 * Starts the shim on `host:port`, prints where it listens and where it forwards, and runs until
 * SIGINT or SIGTERM. An address that cannot be bound, or an `--imds-url` that is not plain
 * http, throws `ConfigInvalid` (one line on stderr, exit status 2).
 */
export async function runExtension(options: ExtensionCommandOptions): Promise<void> {
  const logger = createLogger({ level: 'info', name: 'tessera-extension' });
  let shim: ExtensionShim;
  try {
    shim = await createExtensionShim({
      imdsUrl: options.imdsUrl,
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
      logger,
    });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      throw configInvalid(`cannot listen on ${options.host}:${String(options.port)} (${code})`, e);
    }
    throw e;
  }
  process.stdout.write(
    [
      `tessera extension: ${shim.url}/oauth2/token -> ${options.imdsUrl}/metadata/identity/oauth2/token`,
      `tessera extension: deprecated endpoint; move callers to IMDS (docs/migrating-from-the-extension.md)`,
      `tessera extension: ready (Ctrl-C to stop)`,
      '',
    ].join('\n'),
  );
  await untilSignal();
  await shim.close();
  process.stdout.write('tessera extension: stopped\n');
}

/** Adds `tessera extension` and its options to `program`. */
export function registerExtensionCommand(program: Command): void {
  program
    .command('extension')
    .description(
      'run inside a VM: serve the deprecated extension endpoint (localhost:50342/oauth2/token) by forwarding to IMDS',
    )
    .option('--imds-url <url>', 'the IMDS to forward to', 'http://169.254.169.254')
    .option(
      '--port <n>',
      "the port to listen on (the extension's settings.port)",
      parsePort,
      LEGACY_EXTENSION_DEFAULT_PORT,
    )
    .option('--host <address>', 'the address to listen on (callers must be loopback)', '127.0.0.1')
    .option(
      '--local-address <address>',
      "the source address of requests to IMDS (development: the VM's loopback address)",
    )
    .action(async (options: ExtensionCommandOptions) => {
      await runExtension(options);
    });
}
