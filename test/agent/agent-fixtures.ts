// Helpers for the agent's unit tests: a silent logger, a small CA, and a scriptable server client.
import { generateKeyPairSync } from 'node:crypto';
import { createLogger, type Logger } from '../../src/config/logger.js';
import type { AppError } from '../../src/core/errors.js';
import { createSelfSignedCertificate, issueCertificateFromCsr } from '../../src/core/keys/x509.js';
import { systemAgentClock } from '../../src/agent/clock.js';
import { createReplicaSet } from '../../src/agent/replica-set.js';
import type { ServerClient } from '../../src/agent/server-client.js';
import type {
  AgentIdentity,
  AgentTokenResponse,
  AgentVm,
  CertificateResponse,
  RegisterResponse,
} from '../../src/wire/agent-api.js';

/** A logger that writes nothing. */
export const silentLogger = (): Logger => createLogger({ level: 'silent' });

/** A throwaway EC P-256 CA that issues certificates from CSRs. */
export interface TestCa {
  readonly pem: string;
  issue(csr: string, notBefore: number, notAfter: number): Promise<string>;
}

/** Makes a {@link TestCa} valid for ten years from `now`. */
export async function createTestCa(now: number): Promise<TestCa> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = await createSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: 'agent test CA',
    notBefore: now - 60_000,
    notAfter: now + 10 * 365 * 86_400_000,
    isCa: true,
  });
  return {
    pem: ca.pem,
    async issue(csr, notBefore, notAfter) {
      const issued = await issueCertificateFromCsr({
        csrPem: csr,
        ca: { certificateDer: ca.der, privateKey },
        clientId: '00000000-0000-0000-0000-000000000001',
        tenantId: '00000000-0000-0000-0000-000000000002',
        notBefore,
        notAfter,
      });
      return issued.pem;
    },
  };
}

/** A {@link ServerClient} whose calls fail unless the test gives them an implementation. */
export function fakeClient(overrides: Partial<ServerClient>): ServerClient {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected call: ${name}`));
  const certificate = overrides.certificate ?? unexpected('certificate');
  return {
    serverUrl: 'http://tessera.test',
    serverUrls: ['http://tessera.test'],
    replicas: createReplicaSet({ urls: ['http://tessera.test'], clock: systemAgentClock }),
    useHost: () => undefined,
    createHost: unexpected('createHost'),
    register: unexpected('register'),
    renew: unexpected('renew'),
    syncVms: unexpected('syncVms'),
    certificate,
    // A batch is answered item by item by `certificate`, as the server issues them.
    certificates: (requests) =>
      Promise.all(
        requests.map(({ principalId, csr }) =>
          certificate(principalId, { csr }).then(
            (issued) => ({ principalId, certificate: issued }),
            (error: unknown) => ({ principalId, error: error as AppError }),
          ),
        ),
      ),
    token: unexpected('token'),
    attest: unexpected('attest'),
    reportRefusals: unexpected('reportRefusals'),
    close: () => undefined,
    ...overrides,
  };
}

/** A certificate endpoint backed by `ca`, issuing for `lifetimeMs` from `now()`; counts calls. */
export function certificateEndpoint(
  ca: TestCa,
  now: () => number,
  lifetimeMs: number,
): { calls: string[]; handler: ServerClient['certificate'] } {
  const calls: string[] = [];
  return {
    calls,
    async handler(principalId, request): Promise<CertificateResponse> {
      calls.push(principalId);
      const notBefore = Math.floor(now() / 1000) * 1000;
      const notAfter = notBefore + lifetimeMs;
      return { certificate: await ca.issue(request.csr, notBefore, notAfter), notBefore, notAfter };
    },
  };
}

/** A registration answer for `csr` from `ca`. */
export async function registration(
  ca: TestCa,
  csr: string,
  notBefore: number,
  lifetimeMs: number,
  hostId = 'host-1',
): Promise<RegisterResponse> {
  const notAfter = Math.floor((notBefore + lifetimeMs) / 1000) * 1000;
  return {
    hostId,
    hostName: 'test-host',
    certificate: await ca.issue(csr, Math.floor(notBefore / 1000) * 1000, notAfter),
    certificateNotAfter: notAfter,
    caCertificates: [ca.pem],
  };
}

/** An identity for unit tests. */
export function identity(n: number, kind: AgentIdentity['kind'] = 'UserAssigned'): AgentIdentity {
  const hex = n.toString(16).padStart(12, '0');
  return {
    kind,
    principalId: `10000000-0000-0000-0000-${hex}`,
    clientId: `20000000-0000-0000-0000-${hex}`,
    tenantId: '30000000-0000-0000-0000-000000000000',
    resourceId: `/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id${n}`,
  };
}

/** A VM for unit tests. */
export function vm(
  name: string,
  addresses: readonly string[],
  identities: readonly AgentIdentity[] = [],
): AgentVm {
  return {
    id: `/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/${name}`,
    vmId: `00000000-0000-0000-0000-${name.padStart(12, '0').slice(-12)}`,
    kind: 'vm',
    name,
    subscriptionId: 's',
    resourceGroup: 'g',
    location: 'westeurope',
    tags: {},
    scaleSetName: '',
    vmSize: '',
    osType: '',
    addresses,
    identities,
  };
}

/** A token answer for `identity` valid `lifetimeSeconds` from `nowMs`. */
export function tokenFor(
  who: AgentIdentity,
  resource: string,
  nowMs: number,
  lifetimeSeconds = 86_700,
  accessToken = `token-${String(nowMs)}`,
): AgentTokenResponse {
  const now = Math.floor(nowMs / 1000);
  return {
    accessToken,
    clientId: who.clientId,
    resource,
    notBefore: now,
    expiresOn: now + lifetimeSeconds,
  };
}

/** A promise and its resolvers. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
