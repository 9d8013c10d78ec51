// Compatibility: the real @azure/arm-resources and @azure/arm-resources-subscriptions clients with
// @azure/identity's ClientSecretCredential, run in a child process against a real `tessera server`
// over HTTPS from the server's local CA: generic resource lists, providers, subscriptions, tenants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportedError } from './client-kit.js';
import { type ClientOutput, killClients, runClient } from './harness.js';
import { closeStarted, startTesseraServer, type TesseraServer } from './processes.js';

const CLIENT_SCRIPT = new URL('./arm-resources-client.ts', import.meta.url);
const GROUP = 'resources-rg';
const OTHER = 'resources-other';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

interface SdkProvider {
  id: string;
  namespace: string;
  registrationState?: string;
  resourceTypes: { resourceType: string; apiVersions: string[]; defaultApiVersion?: string }[];
}

interface Results {
  all: string[];
  inGroupByType: string[];
  byTag: { name: string; tags?: Record<string, string> }[];
  byName: { name: string; createdTime?: string }[];
  paged: string[];
  badFilter: { error?: ReportedError };
  providers: string[];
  provider: SdkProvider;
  noProvider: { error?: ReportedError };
  subscriptions: { id: string; subscriptionId: string; tenantId: string; state: string }[];
  subscription: { id: string; displayName: string };
  tenants: string[];
}

describe('compatibility: @azure/arm-resources lists resources, providers and subscriptions', () => {
  let tessera: TesseraServer | undefined;
  let output: ClientOutput<Results>;

  beforeAll(async () => {
    tessera = await startTesseraServer();
    const server = tessera;
    const put = async (path: string, body: unknown): Promise<void> => {
      const reply = await server.arm('PUT', `${server.subscriptionPath}${path}`, body);
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    };
    for (const group of [GROUP, OTHER]) {
      await put(`/resourceGroups/${group}?api-version=2021-04-01`, { location: 'westeurope' });
    }
    const identity = (group: string, name: string): string =>
      `/resourceGroups/${group}/providers/${UAI}/${name}?api-version=2023-01-31`;
    await put(identity(GROUP, 'one'), { location: 'westeurope', tags: { env: 'prod' } });
    await put(identity(GROUP, 'two'), { location: 'westeurope', tags: { env: 'dev' } });
    await put(identity(OTHER, 'three-two'), { location: 'northeurope' });
    output = await runClient<Results>(CLIENT_SCRIPT, {
      ...tessera.clientEnv,
      TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
    });
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeStarted();
  }, 30_000);

  const started = (): TesseraServer => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };

  it('runs every call to the end', () => {
    expect(output.error).toBeUndefined();
    expect(output.ok).toBe(true);
  });

  it('lists the tracked resources of the subscription, not groups or subscriptions', () => {
    expect(output.results.all?.toSorted()).toEqual([
      `${UAI}:one`,
      `${UAI}:three-two`,
      `${UAI}:two`,
    ]);
  });

  it('filters by group and type, by tag, by a part of the name; pages with $top', () => {
    expect(output.results.inGroupByType?.toSorted()).toEqual(['one', 'two']);
    // With a tag filter ARM leaves tags out of the items.
    expect(output.results.byTag).toEqual([{ name: 'one' }]);
    expect(output.results.byName?.map((r) => r.name).toSorted()).toEqual(['three-two', 'two']);
    expect(output.results.byName?.[0]?.createdTime).toBeDefined();
    expect(output.results.paged?.toSorted()).toEqual(['one', 'two']);
  });

  it('refuses a filter ARM does not know with InvalidFilterInQueryString', () => {
    expect(output.results.badFilter?.error).toMatchObject({
      statusCode: 400,
      code: 'InvalidFilterInQueryString',
    });
  });

  it('lists the providers Tessera serves, and one with its types and api-versions newest first', () => {
    expect(output.results.providers).toEqual(
      expect.arrayContaining(['Microsoft.Resources', 'Microsoft.ManagedIdentity']),
    );
    const provider = output.results.provider!;
    expect(provider).toMatchObject({
      id: `${started().subscriptionPath}/providers/Microsoft.ManagedIdentity`,
      namespace: 'Microsoft.ManagedIdentity',
      registrationState: 'Registered',
    });
    const identities = provider.resourceTypes.find(
      (t) => t.resourceType === 'userAssignedIdentities',
    );
    expect(identities?.apiVersions).toContain('2024-11-30');
    expect(identities?.apiVersions).toEqual(identities?.apiVersions.toSorted().toReversed());
    expect(identities?.defaultApiVersion).not.toContain('preview');
    expect(output.results.noProvider?.error).toMatchObject({
      statusCode: 404,
      code: 'InvalidResourceNamespace',
    });
  });

  it('lists the subscription and the tenant the administrator may use', () => {
    const { subscriptionId, subscriptionPath, tenantId } = started();
    expect(output.results.subscriptions).toEqual([
      { id: subscriptionPath, subscriptionId, tenantId, state: 'Enabled' },
    ]);
    expect(output.results.subscription?.id).toBe(subscriptionPath);
    expect(output.results.tenants).toEqual([tenantId]);
  });
});
