// The server process as `tessera up` and `tessera server` start it: a dependency the composition root (src/main.ts) gives the CLI.
//
// The CLI never imports src/server (STYLE.md, dependency direction): what it needs of a running
// server is described here, and src/main.ts hands it the server's own launcher.
import type { TesseraConfig } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import type { Principal, Tenant } from '../core/model.js';
import type { Store } from '../core/ports.js';

/** A server that answers, with the installation's administrator made (first start) or found. */
export interface LaunchedServer {
  /** The URL the server answers at, no trailing slash. */
  readonly url: string;
  /** The HTTPS listener's URL, when there is one besides (or as) `url`. */
  readonly httpsUrl: string | undefined;
  /** The local CA clients must trust for `httpsUrl` (with `localTls`). */
  readonly caFile: string | undefined;
  readonly tenant: Tenant;
  /** The first subscription (created on first start). */
  readonly subscriptionId: string;
  /** The administrator application; its login and secret files are in the data directory. */
  readonly administrator: Principal;
  /** Stops listening and writes what is pending; the store stays open. */
  close(): Promise<void>;
}

/** What a server is started on. */
export interface ServerLaunchOptions {
  readonly config: TesseraConfig;
  /** Opened and migrated. */
  readonly store: Store;
  readonly logger: Logger;
  /** Also serve HTTPS with a certificate from a local CA made in the data directory. */
  readonly localTls: boolean;
}

/** Starts a server and resolves once it answers; rejects when it cannot listen. */
export type ServerLauncher = (options: ServerLaunchOptions) => Promise<LaunchedServer>;

/** What the `tessera` program is built with: the parts of other layers its commands start. */
export interface CliDependencies {
  readonly launchServer: ServerLauncher;
}
