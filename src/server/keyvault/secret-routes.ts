// The secrets operations of the Key Vault data plane (PROTOCOL.md section 7), each behind its RBAC data action.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertReadable } from '../../core/keyvault/secrets.js';
import type { VaultSecretVersion } from '../../core/model.js';
import type { Page } from '../../core/ports.js';
import { badParameter } from '../../wire/keyvault/errors.js';
import {
  checkSecretName,
  MAX_PAGE_SIZE,
  parseSetSecretBody,
  parseUpdateSecretBody,
  type RenderVault,
  renderDeletedSecret,
  renderDeletedSecretItem,
  renderSecretBundle,
  renderSecretItem,
} from '../../wire/keyvault/secrets.js';
import { authorizeData, SECRET_ACTIONS } from './access.js';
import { type KeyVaultServices, vaultContext, type VaultRequestContext } from './plugin.js';

type Params = { name?: string; version?: string };
type SecretRequest = FastifyRequest<{ Params: Params; Querystring: Record<string, unknown> }>;

const send = (reply: FastifyReply, status: number, body: unknown): void => {
  void reply
    .status(status)
    .headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' })
    .send(JSON.stringify(body));
};

/** `maxresults`: 1-25, default 25; else `BadParameter`. */
function pageSize(query: Record<string, unknown>): number {
  const raw = query.maxresults;
  if (raw === undefined) return MAX_PAGE_SIZE;
  const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_SIZE)) {
    throw badParameter(
      `Invalid value for parameter maxresults: ${typeof raw === 'string' ? raw : ''}. It must be between 1 and ${MAX_PAGE_SIZE}.`,
    );
  }
  return n;
}

function skipToken(query: Record<string, unknown>): string | undefined {
  const raw = query.$skiptoken;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '' || raw.length > 1024) {
    throw badParameter('Invalid value for parameter $skiptoken.');
  }
  return raw;
}

/** `{"value":[...],"nextLink":...}` with a `nextLink` that repeats the query with the next token. */
function listBody<T>(
  request: SecretRequest,
  ctx: VaultRequestContext,
  page: Page<T>,
  limit: number,
  render: (item: T) => unknown,
): unknown {
  const path = request.url.split('?')[0] ?? '';
  const version = String(request.query['api-version']);
  const nextLink =
    page.nextCursor === undefined
      ? null
      : `${ctx.origin}${path}?api-version=${encodeURIComponent(version)}&$skiptoken=${page.nextCursor}&maxresults=${limit}`;
  return { value: page.items.map(render), nextLink };
}

/** Registers the secrets routes on the data-plane app. */
export function registerSecretRoutes(app: FastifyInstance, services: KeyVaultServices): void {
  const { secrets, rbac } = services;

  /** The request's context with the secret name checked and the caller authorized for `action`. */
  const authorized = async (request: SecretRequest, reply: FastifyReply, action: string) => {
    const ctx = vaultContext(request);
    const name =
      request.params.name === undefined ? undefined : checkSecretName(request.params.name);
    const scope = name === undefined ? ctx.vault.id : `${ctx.vault.id}/secrets/${name}`;
    const assignment = await authorizeData(rbac, ctx.caller, ctx.vault, action, scope);
    if (assignment !== undefined) {
      void reply.header('x-ms-keyvault-rbac-assignment-id', assignment.split('/').at(-1));
    }
    const vault: RenderVault = { origin: ctx.origin, recoverableDays: services.recoverableDays };
    return { ctx, name: name ?? '', vault };
  };

  const list = async (
    request: SecretRequest,
    reply: FastifyReply,
    load: (
      vaultId: string,
      limit: number,
      cursor: string | undefined,
    ) => Promise<Page<VaultSecretVersion>>,
    render: (vault: RenderVault, secret: VaultSecretVersion) => unknown,
  ) => {
    const { ctx, vault } = await authorized(request, reply, SECRET_ACTIONS.readMetadata);
    const limit = pageSize(request.query);
    const page = await load(ctx.vault.id, limit, skipToken(request.query));
    send(
      reply,
      200,
      listBody(request, ctx, page, limit, (s) => render(vault, s)),
    );
  };

  app.put('/secrets/:name', async (request: SecretRequest, reply) => {
    const { ctx, name, vault } = await authorized(request, reply, SECRET_ACTIONS.set);
    const body = parseSetSecretBody(request.body as string | undefined);
    const secret = await secrets.set(ctx.vault.id, name, body);
    send(reply, 200, renderSecretBundle(vault, secret, true));
  });

  const getSecret = async (request: SecretRequest, reply: FastifyReply) => {
    const { ctx, name, vault } = await authorized(request, reply, SECRET_ACTIONS.get);
    const secret = await secrets.get(ctx.vault.id, name, request.params.version ?? '');
    assertReadable(secret);
    send(reply, 200, renderSecretBundle(vault, secret, true));
  };
  app.get('/secrets/:name', getSecret);
  app.get('/secrets/:name/:version', getSecret);

  const updateSecret = async (request: SecretRequest, reply: FastifyReply) => {
    const { ctx, name, vault } = await authorized(request, reply, SECRET_ACTIONS.update);
    const body = parseUpdateSecretBody(request.body as string | undefined);
    const secret = await secrets.update(ctx.vault.id, name, request.params.version ?? '', body);
    send(reply, 200, renderSecretBundle(vault, secret, false));
  };
  app.patch('/secrets/:name', updateSecret);
  app.patch('/secrets/:name/:version', updateSecret);

  app.delete('/secrets/:name', async (request: SecretRequest, reply) => {
    const { ctx, name, vault } = await authorized(request, reply, SECRET_ACTIONS.delete);
    send(reply, 200, renderDeletedSecret(vault, await secrets.delete(ctx.vault.id, name)));
  });

  app.get('/secrets', (request: SecretRequest, reply) =>
    list(
      request,
      reply,
      (id, limit, cursor) => secrets.list(id, { limit, cursor }),
      (vault, s) => renderSecretItem(vault, s, false),
    ),
  );

  app.get('/secrets/:name/versions', (request: SecretRequest, reply) =>
    list(
      request,
      reply,
      (id, limit, cursor) =>
        secrets.listVersions(id, checkSecretName(request.params.name ?? ''), { limit, cursor }),
      (vault, s) => renderSecretItem(vault, s, true),
    ),
  );

  app.get('/deletedsecrets', (request: SecretRequest, reply) =>
    list(
      request,
      reply,
      (id, limit, cursor) => secrets.listDeleted(id, { limit, cursor }),
      renderDeletedSecretItem,
    ),
  );

  app.get('/deletedsecrets/:name', async (request: SecretRequest, reply) => {
    const { ctx, name, vault } = await authorized(request, reply, SECRET_ACTIONS.readMetadata);
    send(reply, 200, renderDeletedSecret(vault, await secrets.getDeleted(ctx.vault.id, name)));
  });

  app.post('/deletedsecrets/:name/recover', async (request: SecretRequest, reply) => {
    const { ctx, name, vault } = await authorized(request, reply, SECRET_ACTIONS.recover);
    send(reply, 200, renderSecretBundle(vault, await secrets.recover(ctx.vault.id, name), false));
  });

  app.delete('/deletedsecrets/:name', async (request: SecretRequest, reply) => {
    const { ctx, name } = await authorized(request, reply, SECRET_ACTIONS.purge);
    await secrets.purge(ctx.vault.id, name);
    void reply.status(204).header('cache-control', 'no-cache').send();
  });
}
