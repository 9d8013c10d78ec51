// Builds the cloud-side HTTP server: one fastify plugin per surface, each with its own error dialect.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../config/logger.js';
import type { Clock, Store } from '../core/ports.js';
import { AGENT_API_PREFIX } from '../wire/agent-api.js';
import { agentApiPlugin, type AgentApiPluginOptions } from './agent-api/plugin.js';
import { armPlugin, type ArmPluginOptions } from './arm/plugin.js';
import { addFormParser } from './form-body.js';
import { loginPlugin, type LoginServices } from './login/plugin.js';

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
  /** TLS material; plain HTTP when absent. */
  readonly https?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
}

/** Builds the server with every surface registered; the caller listens (or injects, in tests). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    // ARM takes `//subscriptions/…`: @azure/arm-authorization builds `/{scope}/providers/…` and
    // its documented scopes start with '/'.
    routerOptions: { ignoreDuplicateSlashes: true },
    ...(deps.https === undefined ? {} : { https: deps.https }),
  }) as unknown as FastifyInstance;
  addFormParser(app);
  const signal = deps.agent?.services.changeSignal;
  if (signal !== undefined) {
    // A successful ARM write has committed, change-feed entries included: wake agents' long-polls.
    app.addHook('onResponse', (request, reply, done) => {
      const write = request.method !== 'GET' && request.method !== 'HEAD';
      if (write && reply.statusCode < 400 && ARM_PATH.test(request.url)) signal.fire();
      done();
    });
  }
  await app.register(loginPlugin, { services: deps.login, publicUrl: deps.publicUrl });
  if (deps.arm !== undefined) await app.register(armPlugin, deps.arm);
  if (deps.agent !== undefined) {
    await app.register(agentApiPlugin, { ...deps.agent, prefix: AGENT_API_PREFIX });
  }
  return app;
}
