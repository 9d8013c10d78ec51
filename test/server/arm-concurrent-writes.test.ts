// Writes that race on each store: federated identity credentials on one identity, and custom roles
// of one name. Every write is either there afterwards (201) or refused with Azure's 409, never
// lost, never doubled.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeTargets } from '../store/targets.js';
import { type AgentHarness, errorCode, startAgentServer } from './agent-harness.js';

const V = 'api-version=2023-01-31';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

describe.each(storeTargets())('concurrent credential writes on $name', (target) => {
  let h: AgentHarness;
  const identity = (): string =>
    `/subscriptions/${h.sub}/resourceGroups/race-rg/providers/${UAI}/racer`;

  beforeAll(async () => {
    h = await startAgentServer(target);
    const rg = await h.arm(
      'PUT',
      `/subscriptions/${h.sub}/resourceGroups/race-rg?api-version=2021-04-01`,
      {
        location: 'westeurope',
      },
    );
    expect(rg.status).toBe(201);
    expect((await h.arm('PUT', `${identity()}?${V}`, { location: 'westeurope' })).status).toBe(201);
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates one custom role of a name however many are asked for at once', async () => {
    const definitions = `/subscriptions/${h.sub}/providers/Microsoft.Authorization/roleDefinitions`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.arm('PUT', `${definitions}/${randomUUID()}?api-version=2022-04-01`, {
          properties: {
            roleName: i % 2 === 0 ? 'Race Reader' : 'race reader',
            type: 'CustomRole',
            permissions: [{ actions: ['Microsoft.Resources/subscriptions/resourceGroups/read'] }],
            assignableScopes: [`/subscriptions/${h.sub}`],
          },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201)) {
      expect([answer.status, errorCode(answer)]).toEqual([409, 'RoleDefinitionWithSameNameExists']);
    }
    const filter = encodeURIComponent("roleName eq 'Race Reader'");
    const listed = await h.arm('GET', `${definitions}?api-version=2022-04-01&$filter=${filter}`);
    expect(listed.body?.value).toHaveLength(1);
  });

  it('keeps exactly the writes it acknowledged, and names the identity to the losers', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `ns-sa-${i}`);
    const answers = await Promise.all(
      names.map((name) =>
        h.arm('PUT', `${identity()}/federatedIdentityCredentials/${name}?${V}`, {
          properties: {
            issuer: 'https://oidc.example/cluster/',
            subject: `system:serviceaccount:ns:${name}`,
            audiences: ['api://AzureADTokenExchange'],
          },
        }),
      ),
    );
    const acknowledged = names.filter((_, i) => answers[i]?.status === 201);
    for (const answer of answers.filter((a) => a.status !== 201)) {
      expect([answer.status, errorCode(answer)]).toEqual([
        409,
        'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
      ]);
      expect((answer.body?.error as { message: string }).message).toContain(
        `'${identity().toLowerCase()}'`,
      );
    }
    // SQLite queues writers, so all land; PostgreSQL may refuse some, never all.
    if (target.name === 'sqlite') expect(acknowledged).toEqual(names);
    expect(acknowledged.length).toBeGreaterThan(0);
    const listed = await h.arm('GET', `${identity()}/federatedIdentityCredentials?${V}`);
    const stored = (listed.body?.value as { name: string }[]).map((c) => c.name).sort();
    expect(stored).toEqual([...acknowledged].sort());
  });
});
