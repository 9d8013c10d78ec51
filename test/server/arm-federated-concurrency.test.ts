// Federated identity credentials written at once on one identity, on each store: every write is
// either in the list afterwards (201) or refused with Azure's 409, never lost, never half-made.
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
