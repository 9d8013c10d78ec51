// Compatibility: the real @azure/identity ManagedIdentityCredential and DefaultAzureCredential,
// in child processes, get tokens from a `tessera agent` process's IMDS
// (AZURE_POD_IDENTITY_AUTHORITY_HOST, through a recording proxy) for a VM with a system-assigned
// and two user-assigned identities; the tokens verify against the `tessera server` process's JWKS
// and name the right identity.
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientOutput, FOREIGN_IDENTITY_ENV, killClients, runClient } from './harness.js';
import { imdsToken } from './imds-probe.js';
import {
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from './processes.js';
import {
  type ReceivedRequest,
  type RecordingProxy,
  startRecordingProxy,
} from './recording-proxy.js';
import { closeAll } from './tessera-cli.js';

const CLIENT_SCRIPT = new URL('./managed-identity-client.ts', import.meta.url);
const GROUP = 'mi-rg';
const VM_NAME = 'vm-mi';
const VM_V = 'api-version=2024-07-01';
const UAI_V = 'api-version=2023-01-31';
/** What the SDK sends as `resource` for `<resource>/.default` (CLIENTS.md section 1.1). */
const MANAGEMENT = 'https://management.azure.com';
const VAULT = 'https://vault.azure.net';

/** `AccessToken` of @azure/core-auth, as the child printed it. */
interface SdkToken {
  token: string;
  expiresOnTimestamp: number;
  refreshAfterTimestamp?: number;
  tokenType?: string;
}
interface TokenPair {
  management: SdkToken;
  vault: SdkToken;
}
interface Results {
  system: TokenPair;
  systemAgain: SdkToken;
  clientId: TokenPair;
  resourceId: TokenPair;
  objectId: TokenPair;
  default: TokenPair;
  defaultClientId: TokenPair;
}
type Step = Exclude<keyof Results, 'systemAgain'>;

/** An identity of the VM as ARM and the directory know it. */
interface Identity {
  /** ARM id: the VM's for the system-assigned identity. */
  id: string;
  principalId: string;
  clientId: string;
}
type IdentityName = 'system' | 'uai1' | 'uai2';

/** Which identity each step's credential must have got, and from which child. */
const CASES: readonly {
  step: Step;
  child: 'mi' | 'dac';
  identity: IdentityName;
  credential: string;
}[] = [
  { step: 'system', child: 'mi', identity: 'system', credential: 'ManagedIdentityCredential()' },
  {
    step: 'clientId',
    child: 'mi',
    identity: 'uai1',
    credential: 'ManagedIdentityCredential({clientId})',
  },
  {
    step: 'resourceId',
    child: 'mi',
    identity: 'uai2',
    credential: 'ManagedIdentityCredential({resourceId})',
  },
  {
    step: 'objectId',
    child: 'mi',
    identity: 'uai1',
    credential: 'ManagedIdentityCredential({objectId})',
  },
  { step: 'default', child: 'dac', identity: 'system', credential: 'DefaultAzureCredential()' },
  {
    step: 'defaultClientId',
    child: 'dac',
    identity: 'uai2',
    credential: 'DefaultAzureCredential({managedIdentityClientId})',
  },
];

/** The agent's `tessera_agent_imds_requests_total`, `{route} {status}` to the count. */
async function imdsRequestCounts(metricsUrl: string): Promise<Map<string, number>> {
  const metrics = await (await fetch(metricsUrl)).text();
  return new Map(
    [
      ...metrics.matchAll(
        /^tessera_agent_imds_requests_total\{route="(\w+)",status="(\d+)"\} (\d+)$/gm,
      ),
    ].map(([, route, status, n]) => [`${route!} ${status!}`, Number(n)]),
  );
}

/** `name=value` of the identity selector of a token request, or `default` without one. */
function selectorOf(query: URLSearchParams): string {
  for (const name of ['client_id', 'object_id', 'msi_res_id', 'mi_res_id']) {
    const value = query.get(name);
    if (value !== null) return `${name}=${value}`;
  }
  return 'default';
}

describe('compatibility: @azure/identity managed identities through the agent IMDS', () => {
  let tessera: TesseraServer | undefined;
  let agent: TesseraAgent | undefined;
  let proxy: RecordingProxy | undefined;
  let vmId: string;
  /** The v1 discovery document's issuer: what every token's `iss` must be. */
  let issuer: string;
  /** The agent's IMDS request counts before the children ran. */
  let countsBefore: Map<string, number>;
  const identities = {} as Record<IdentityName, Identity>;
  const outputs = {} as Record<'mi' | 'dac', ClientOutput<Results>>;

  beforeAll(async () => {
    const t = await startTesseraServer();
    tessera = t;
    const { subscriptionPath, arm } = t;
    const groupPath = `${subscriptionPath}/resourceGroups/${GROUP}`;
    expect(
      (await arm('PUT', `${groupPath}?api-version=2021-04-01`, { location: 'westeurope' })).status,
    ).toBe(201);

    // A host, and its agent joining with the host's one-time token.
    agent = await startTesseraAgent(t, 'compat-host');
    const { imdsUrl, hostId } = agent;

    for (const name of ['uai1', 'uai2'] as const) {
      const uai = await arm(
        'PUT',
        `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?${UAI_V}`,
        { location: 'westeurope' },
      );
      expect(uai.status).toBe(201);
      const body = uai.body as {
        id: string;
        properties: { principalId: string; clientId: string };
      };
      identities[name] = { id: body.id, ...body.properties };
    }
    const vm = await arm(
      'PUT',
      `${groupPath}/providers/Microsoft.Compute/virtualMachines/${VM_NAME}?${VM_V}`,
      {
        location: 'westeurope',
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [identities.uai1.id]: {}, [identities.uai2.id]: {} },
        },
        properties: { tessera: { hostId, privateIpAddresses: ['127.0.0.1'] } },
      },
    );
    expect(vm.status).toBe(201);
    const vmBody = vm.body as { id: string; identity: { principalId: string } };
    vmId = vmBody.id;

    // The agent learns of the VM from the server: wait until IMDS serves its three identities.
    // ARM does not show a system-assigned identity's client id; IMDS's token body does.
    const ask = (selector?: Record<string, string>) =>
      imdsToken(imdsUrl, {
        from: '127.0.0.1',
        resource: MANAGEMENT,
        ...(selector === undefined ? {} : { selector }),
      });
    const [system] = await Promise.all([
      ask(),
      ask({ client_id: identities.uai1.clientId }),
      ask({ client_id: identities.uai2.clientId }),
    ]);
    identities.system = {
      id: vmId,
      principalId: vmBody.identity.principalId,
      clientId: system.client_id,
    };

    issuer = (
      (await (await fetch(`${t.url}/${t.tenantId}/.well-known/openid-configuration`)).json()) as {
        issuer: string;
      }
    ).issuer;
    countsBefore = await imdsRequestCounts(agent.metricsUrl);
    proxy = await startRecordingProxy({ target: imdsUrl, localAddress: '127.0.0.1' });
    const env = (credentials: string): Record<string, string> => ({
      AZURE_POD_IDENTITY_AUTHORITY_HOST: proxy!.url,
      TESSERA_COMPAT_CREDENTIALS: credentials,
      TESSERA_COMPAT_UAI1_CLIENT_ID: identities.uai1.clientId,
      TESSERA_COMPAT_UAI1_OBJECT_ID: identities.uai1.principalId,
      TESSERA_COMPAT_UAI2_CLIENT_ID: identities.uai2.clientId,
      TESSERA_COMPAT_UAI2_RESOURCE_ID: identities.uai2.id,
    });
    [outputs.mi, outputs.dac] = await Promise.all([
      runClient<Results>(CLIENT_SCRIPT, env('managed-identity'), { omitEnv: FOREIGN_IDENTITY_ENV }),
      runClient<Results>(CLIENT_SCRIPT, env('default'), { omitEnv: FOREIGN_IDENTITY_ENV }),
    ]);
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeAll(proxy?.close, closeStarted);
  }, 30_000);

  const received = (): readonly ReceivedRequest[] => proxy?.received ?? [];

  it('every credential gets its tokens', () => {
    for (const output of [outputs.mi, outputs.dac]) {
      expect(output.error).toBeUndefined();
      expect(output.ok).toBe(true);
    }
  });

  it('the SDK sends IMDS one GET per identity and resource, api-version 2018-02-01, Metadata: true', async () => {
    const tokenRequests = received().filter((r) =>
      r.url.startsWith('/metadata/identity/oauth2/token'),
    );
    // Everything the children sent went to the token route: no probe (the variable turns it off).
    expect(tokenRequests).toHaveLength(received().length);
    const { uai1, uai2 } = identities;
    const expected = [
      // ManagedIdentityCredential: system-assigned, then clientId, resourceId, objectId.
      ...[
        'default',
        `client_id=${uai1.clientId}`,
        `msi_res_id=${uai2.id}`,
        `object_id=${uai1.principalId}`,
      ],
      // DefaultAzureCredential: plain, then managedIdentityClientId.
      ...['default', `client_id=${uai2.clientId}`],
    ].flatMap((selector) => [`${selector} ${MANAGEMENT}`, `${selector} ${VAULT}`]);
    const seen = tokenRequests.map((r) => {
      const query = new URL(r.url, 'http://imds').searchParams;
      return `${selectorOf(query)} ${query.get('resource') ?? ''}`;
    });
    expect(seen.toSorted()).toEqual(expected.toSorted());
    for (const request of tokenRequests) {
      expect(request.method).toBe('GET');
      // MSAL appends a `/` to the path when the host comes from the variable (CLIENTS.md 0.1).
      expect(request.url).toMatch(
        /^\/metadata\/identity\/oauth2\/token\/\?api-version=2018-02-01&resource=/,
      );
      expect(request.headers.metadata).toBe('true');
      expect(request.headers['x-client-sku']).toBe('msal.js.node');
      expect(request.remoteAddress).toBe('127.0.0.1');
      expect(request.status).toBe(200);
    }
    // The agent counted the same while the children ran: every token request answered 200,
    // nothing else.
    const countsAfter = await imdsRequestCounts(agent!.metricsUrl);
    const counted = [...countsAfter]
      .map(([series, n]) => [series, n - (countsBefore.get(series) ?? 0)] as const)
      .filter(([, n]) => n !== 0)
      .map(([series, n]) => `${series} ${String(n)}`);
    expect(counted).toEqual([`token 200 ${String(expected.length)}`]);
  });

  it('a second getToken for the same scope is answered from the SDK cache', () => {
    const { system, systemAgain } = outputs.mi.results;
    expect(systemAgain?.token).toBe(system?.management.token);
  });

  describe.each(CASES)('$credential', ({ step, child, identity: name }) => {
    it.each([MANAGEMENT, VAULT])(
      'gets a verifiable token for %s, for the right identity',
      async (resource) => {
        const pair = outputs[child].results[step];
        expect(pair).toBeDefined();
        const got = resource === MANAGEMENT ? pair!.management : pair!.vault;
        const { url, tenantId } = tessera!;
        const jwks = createRemoteJWKSet(new URL(`${url}/${tenantId}/discovery/keys`));
        const { payload } = await jwtVerify(got.token, jwks, { audience: resource, issuer });
        const identity = identities[name];
        expect(payload).toMatchObject({
          oid: identity.principalId,
          appid: identity.clientId,
          tid: tenantId,
        });
        expect(String(payload.xms_mirid).toLowerCase()).toBe(identity.id.toLowerCase());
        if (name !== 'system')
          expect(String(payload.xms_az_rid).toLowerCase()).toBe(vmId.toLowerCase());
        // The SDK read `expires_on` (CLIENTS.md 0.5): its expiry is the token's, give or take the
        // second MSAL's two clock reads may straddle.
        expect(Math.abs(got.expiresOnTimestamp - expiry(payload))).toBeLessThanOrEqual(2_000);
        expect(got.tokenType).toBe('Bearer');
      },
    );
  });
});

/** The `exp` of a token, in epoch milliseconds. */
function expiry(payload: JWTPayload): number {
  if (payload.exp === undefined) throw new Error('the token has no exp');
  return payload.exp * 1000;
}
