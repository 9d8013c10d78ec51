// The server process as the `tessera` command starts it: listening, with the installation's administrator made or found.
import type { TesseraConfig } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import { systemClock } from '../core/clock.js';
import type { Principal } from '../core/model.js';
import type { Store } from '../core/ports.js';
import { ensureAdministrator } from './bootstrap.js';
import { type RunningServer, startServer } from './runtime.js';

/** A running server and the installation's administrator application. */
export interface LaunchedServer extends RunningServer {
  readonly administrator: Principal;
}

/**
 * {@link startServer}, then {@link ensureAdministrator} in `config.dataDir`: what `tessera up` and
 * `tessera server` run. The server is closed again when the administrator cannot be made.
 */
export async function launchServer(options: {
  readonly config: TesseraConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly localTls: boolean;
}): Promise<LaunchedServer> {
  const { config, store } = options;
  const server = await startServer({ ...options, clock: systemClock });
  try {
    const admin = await ensureAdministrator({
      store,
      services: server.services,
      tenant: server.tenant,
      dataDir: config.dataDir,
      clock: systemClock,
    });
    return { ...server, administrator: admin.principal };
  } catch (error) {
    await server.close();
    throw error;
  }
}
