// The portal surface: the built single-page app under /portal/ and the one file it reads to sign in.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where the portal is served. */
export const PORTAL_PREFIX = '/portal';
/** The scope the portal asks tokens for: ARM's, as the CLI does. */
const ARM_SCOPE = 'https://management.azure.com/.default';

export interface PortalOptions {
  /** The tenant users sign in to. */
  readonly tenantId: string;
  /** The built app (`vite build` output); default `<package root>/dist/portal`. */
  readonly root?: string | undefined;
}

/** What `/portal/config.json` tells the app: where to sign in and which scope to ask for. */
export interface PortalConfig {
  readonly tenantId: string;
  readonly tokenEndpoint: string;
  readonly armScope: string;
}

/**
 * Every portal response: no framing (the sign-in form takes a secret), scripts and styles from
 * this origin only, nothing sent on to other sites, nothing cached that holds data.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** The package root: the nearest directory above this module holding `package.json`. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('tessera: no package.json above the portal module');
    dir = parent;
  }
  return dir;
}

/** The default location of the built portal. */
export function defaultPortalRoot(): string {
  return join(packageRoot(), 'dist', 'portal');
}

function notBuilt(reply: FastifyReply): FastifyReply {
  return reply
    .status(503)
    .type('text/plain; charset=utf-8')
    .send('The portal is not built. Run `npm run build:portal` (npm ci runs it) and reload.\n');
}

/**
 * Serves the portal: `/portal` redirects to `/portal/`, `/portal/config.json` says where to sign
 * in, and everything else under `/portal/` is a file of the built app (the app routes in the
 * fragment, so no path needs a fallback). A server whose app was never built answers 503 and
 * says how to build it.
 */
export async function portalPlugin(app: FastifyInstance, options: PortalOptions): Promise<void> {
  const root = options.root ?? defaultPortalRoot();
  const config: PortalConfig = {
    tenantId: options.tenantId,
    tokenEndpoint: `/${options.tenantId}/oauth2/v2.0/token`,
    armScope: ARM_SCOPE,
  };
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url === PORTAL_PREFIX || request.url.startsWith(`${PORTAL_PREFIX}/`)) {
      void reply.headers(SECURITY_HEADERS);
    }
    done(null, payload);
  });
  app.get(PORTAL_PREFIX, (_request, reply) => reply.redirect(`${PORTAL_PREFIX}/`, 301));
  app.get(`${PORTAL_PREFIX}/config.json`, (_request, reply) =>
    reply.header('cache-control', 'no-store').send(config),
  );
  if (!existsSync(join(root, 'index.html'))) {
    app.get(`${PORTAL_PREFIX}/*`, (_request, reply) => notBuilt(reply));
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: `${PORTAL_PREFIX}/`,
    index: ['index.html'],
    cacheControl: false,
    // Hashed assets never change; the page that names them must be fetched fresh.
    setHeaders: (res, path) => {
      res.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
