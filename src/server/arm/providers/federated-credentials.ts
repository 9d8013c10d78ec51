// Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials: who may exchange a foreign token for the identity's.
import { getTyped } from '../../../core/compute/index.js';
import { isAppError } from '../../../core/errors.js';
import type { Resource } from '../../../core/model.js';
import type { Store } from '../../../core/ports.js';
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import {
  federatedConflict,
  MAX_FEDERATED_CREDENTIALS,
} from '../../../core/resources/federated-credentials.js';
import {
  checkPreconditions,
  concurrentFederatedWrites,
  federatedCredentialOf,
  issuerSubjectTaken,
  listPage,
  parentIdentityNotFound,
  parseFederatedCredential,
  parseListQuery,
  renderFederatedCredential,
  tooManyFederatedCredentials,
  validateFederatedCredentialName,
  versionsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { notFoundOf, storedIdOf } from '../tracked-operations.js';

const FIC = RESOURCE_TYPES.federatedCredentials;
const IDENTITY = RESOURCE_TYPES.userAssignedIdentities;
/** More than an identity may hold: one read sees all of them. */
const READ_ALL = 100;

/** The identity the path names, read in `store`, or the MSI provider's 404. */
async function requireIdentity(context: OperationContext, store: Store): Promise<Resource> {
  const identity = await getTyped(store, storedIdOf(context, IDENTITY, 1), IDENTITY);
  if (identity === undefined) throw parentIdentityNotFound();
  return identity;
}

const credentialsOf = async (store: Store, identity: Resource): Promise<Resource[]> =>
  (await store.resources.listUnder(identity.id, { limit: READ_ALL })).items.filter(
    (resource) => resource.type === FIC,
  );

const credentialIn = (credentials: readonly Resource[], name: string): Resource | undefined =>
  credentials.find((credential) => credential.name.toLowerCase() === name.toLowerCase());

/**
 * PUT: creates (201) or replaces (200) the credential, in one transaction that also writes the
 * identity again under its etag. Writers on one identity are so serialised: a concurrent one
 * that loses gets Azure's 409 `ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity`.
 */
async function put(context: OperationContext): Promise<ArmResponse> {
  const { services, request, where, name } = context;
  const credential = parseFederatedCredential(context.body());
  try {
    return await services.store.transaction(async (tx) => {
      const identity = await requireIdentity(context, tx);
      const credentials = await credentialsOf(tx, identity);
      const existing = credentialIn(credentials, name);
      checkPreconditions(request.headers, existing);
      const keys = credentials.map((stored) => ({
        name: stored.name,
        ...federatedCredentialOf(stored),
      }));
      const conflict = federatedConflict(keys, { name, ...credential });
      if (conflict === 'duplicate') throw issuerSubjectTaken();
      if (conflict === 'limit') throw tooManyFederatedCredentials(MAX_FEDERATED_CREDENTIALS);
      const now = services.clock.now();
      const written: Resource = {
        id: existing?.id ?? `${identity.id}/federatedIdentityCredentials/${name}`,
        type: FIC,
        name: existing?.name ?? name,
        subscriptionId: where.subscriptionId,
        resourceGroup: identity.resourceGroup,
        location: null,
        tags: {},
        properties: { ...credential },
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      await tx.resources.put({ ...identity, updatedAt: now }, { ifMatch: identity.etag ?? null });
      const { created } = await tx.resources.put(written, { ifMatch: existing?.etag ?? null });
      return { status: created ? 201 : 200, body: renderFederatedCredential(written) };
    });
  } catch (error) {
    const lostRace =
      isAppError(error) && error.code === 'PreconditionFailed' && error.target === undefined;
    if (lostRace) throw concurrentFederatedWrites(storedIdOf(context, IDENTITY, 1));
    throw error;
  }
}

/** DELETE: 200 when the credential was there, 204 when not; the identity must exist. */
async function remove(context: OperationContext): Promise<ArmResponse> {
  const { services, request } = context;
  return services.store.transaction(async (tx) => {
    const identity = await requireIdentity(context, tx);
    const existing = credentialIn(await credentialsOf(tx, identity), context.name);
    checkPreconditions(request.headers, existing);
    if (existing === undefined) return { status: 204 };
    await tx.resources.delete(existing.id);
    return { status: 200 };
  });
}

/**
 * `…/userAssignedIdentities/{identity}/federatedIdentityCredentials[/{name}]` (PROTOCOL-TOOLS.md
 * B.1): GET, PUT, DELETE (no PATCH), and the identity's list, paged with `$top` and
 * `$skipToken`; they go with their identity. The list is read with `…/read` at the identity.
 */
export const federatedCredentials: ResourceTypeDeclaration = {
  type: FIC,
  apiVersions: versionsOf(FIC),
  placement: ['resourceGroup'],
  validateName: validateFederatedCredentialName,
  operations: {
    read: {
      run: async (context) => {
        const { store } = context.services;
        const identity = await requireIdentity(context, store);
        const found = credentialIn(await credentialsOf(store, identity), context.name);
        if (found === undefined) throw notFoundOf(context, FIC);
        return { status: 200, body: renderFederatedCredential(found) };
      },
    },
    list: {
      authorizeAt: 'container',
      run: async (context) => {
        const { store } = context.services;
        const identity = await requireIdentity(context, store);
        const { top, skipToken } = parseListQuery(context.request.query);
        const page = await store.resources.listUnder(identity.id, {
          limit: top ?? READ_ALL,
          ...(skipToken === undefined ? {} : { cursor: skipToken }),
        });
        const value = page.items
          .filter((resource) => resource.type === FIC)
          .map(renderFederatedCredential);
        return {
          status: 200,
          body: listPage(value, {
            requestUrl: context.request.url,
            ...(page.nextCursor === undefined ? {} : { skipToken: page.nextCursor }),
          }),
        };
      },
    },
    put: { run: put },
    delete: { run: remove },
  },
};
