// Builds the cloud-side HTTP server: one fastify plugin per surface, each with its own error dialect.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../config/logger.js';
import type { Clock, Store } from '../core/ports.js';
import { AGENT_API_PREFIX } from '../wire/agent-api.js';
import { agentApiPlugin, type AgentApiPluginOptions } from './agent-api/plugin.js';
import { armPlugin, type ArmPluginOptions } from './arm/plugin.js';
import { addFormParser } from './form-body.js';
import { buildKeyVaultApp, isVaultHost, type KeyVaultServices } from './keyvault/plugin.js';
import { limitListener, listenerServerOptions } from './listener-limits.js';
import { loginPlugin, type LoginServices } from './login/plugin.js';
import { portalPlugin, type PortalOptions } from './portal/plugin.js';

/** The ARM surface's paths (`//subscriptions` too, see below). */
const ARM_PATH = /^\/+(subscriptions|providers)([/?]|$)/i;

/** Everything the server's surfaces are built from. */
export interface ServerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The URL clients reach this server at, without a trailing slash (`https://login.example`). */
  readonly publicUrl: string;
  readonly login: LoginServices;
  /** The ARM surface; absent in servers that serve only the login surface. */
  readonly arm?: ArmPluginOptions | undefined;
  /** The agent API; absent in servers without one. */
  readonly agent?: AgentApiPluginOptions | undefined;
  /** The Key Vault data plane, for requests whose Host is `{vault}.{dnsSuffix}`; absent: none. */
  readonly keyVault?: KeyVaultServices | undefined;
  /** The browser portal at `/portal/`; absent: none. */
  readonly portal?: PortalOptions | undefined;
  /** TLS material; plain HTTP when absent. */
  readonly https?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
}

/**
 * Builds the server with every surface registered; the caller listens (or injects, in tests). A
 * request whose `Host` names a vault under the Key Vault DNS suffix goes to the data-plane app
 * (its own routes and error dialect) before the other surfaces' router sees it; `inject` reaches
 * only the other surfaces. The listener gets the caps and timeouts of `limitListener`.
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const vault =
    deps.keyVault === undefined
      ? undefined
      : {
          app: await buildKeyVaultApp({
            services: deps.keyVault,
            logger: deps.logger,
            scheme: deps.https === undefined ? 'http' : 'https',
          }),
          dnsSuffix: deps.keyVault.dnsSuffix,
        };
  const app = Fastify({
    loggerInstance: deps.logger,
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    // ARM takes `//subscriptions/…`: @azure/arm-authorization builds `/{scope}/providers/…` and
    // its documented scopes start with '/'.
    routerOptions: { ignoreDuplicateSlashes: true },
    serverFactory: (handler) => {
      const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
        if (vault !== undefined && isVaultHost(req.headers.host, vault.dnsSuffix)) {
          vault.app.routing(req, res);
        } else {
          handler(req, res);
        }
      };
      const server =
        deps.https === undefined
          ? createHttpServer(listenerServerOptions(false), dispatch)
          : createHttpsServer({ ...listenerServerOptions(true), ...deps.https }, dispatch);
      limitListener(server, { clock: deps.clock, logger: deps.logger });
      return server;
    },
  }) as unknown as FastifyInstance;
  if (vault !== undefined) {
    app.addHook('onClose', async () => {
      await vault.app.close();
    });
  }
  addFormParser(app);
  const signal = deps.agent?.services.changeSignal;
  const vaults = deps.keyVault?.vaults;
  if (signal !== undefined || vaults !== undefined) {
    // A successful ARM write has committed, change-feed entries included: wake agents' long-polls,
    // and let the data plane see a vault made or deleted by it.
    app.addHook('onResponse', (request, reply, done) => {
      const write = request.method !== 'GET' && request.method !== 'HEAD';
      if (write && reply.statusCode < 400 && ARM_PATH.test(request.url)) {
        signal?.fire();
        vaults?.invalidate();
      }
      done();
    });
  }
  await app.register(loginPlugin, { services: deps.login, publicUrl: deps.publicUrl });
  if (deps.arm !== undefined) await app.register(armPlugin, deps.arm);
  if (deps.agent !== undefined) {
    await app.register(agentApiPlugin, { ...deps.agent, prefix: AGENT_API_PREFIX });
  }
  if (deps.portal !== undefined) await app.register(portalPlugin, deps.portal);
  return app;
}
