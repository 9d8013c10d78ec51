// Test harness for the IMDS surface: fixed VMs on loopback addresses, an in-test backend, a client.
import { request } from 'node:http';
import { AppError } from '../../src/core/errors.js';
import type { ImdsBackend, ImdsToken } from '../../src/agent/imds/backend.js';
import { createImdsServer, type ImdsServer } from '../../src/agent/imds/server.js';
import type { ImdsRateLimit } from '../../src/agent/imds/throttle.js';
import type { AgentMetrics } from '../../src/agent/metrics.js';
import type { AgentIdentity, AgentVm } from '../../src/wire/agent-api.js';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const SUB = '2b0942f3-9d3f-4c8e-8c3b-6f1b2a3c4d5e';

const uai = (n: number): AgentIdentity => ({
  kind: 'UserAssigned',
  principalId: `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
  clientId: `c0000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
  tenantId: TENANT,
  resourceId: `/subscriptions/${SUB}/resourcegroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id${String(n)}`,
});

const vmId = (name: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/${name}`;

/** System-assigned identity of vm1. */
export const VM1_SYSTEM: AgentIdentity = {
  kind: 'SystemAssigned',
  principalId: 'aaaaaaaa-0000-4000-8000-000000000001',
  clientId: 'bbbbbbbb-0000-4000-8000-000000000001',
  tenantId: TENANT,
  resourceId: vmId('vm1'),
};
export const UAI1 = uai(1);
export const UAI2 = uai(2);
export const UAI3 = uai(3);

const baseVm = {
  kind: 'vm' as const,
  subscriptionId: SUB,
  resourceGroup: 'rg1',
  location: 'westeurope',
  scaleSetName: '',
  vmSize: 'Standard_D2s_v5',
  osType: 'Linux',
};

/** 127.0.0.1: system-assigned plus one user-assigned identity. */
export const VM1: AgentVm = {
  ...baseVm,
  id: vmId('vm1'),
  vmId: '11111111-1111-4111-8111-111111111111',
  name: 'vm1',
  tags: { env: 'test', team: 'identity' },
  addresses: ['127.0.0.1', '10.0.0.4', 'fd00::4'],
  identities: [VM1_SYSTEM, UAI1],
};
/** 127.0.0.2: two user-assigned identities, no system-assigned one. */
export const VM2: AgentVm = {
  ...baseVm,
  id: vmId('vm2'),
  vmId: '22222222-2222-4222-8222-222222222222',
  name: 'vm2',
  tags: {},
  addresses: ['127.0.0.2'],
  identities: [UAI2, UAI3],
};
/** 127.0.0.3: exactly one user-assigned identity. */
export const VM3: AgentVm = {
  ...baseVm,
  id: vmId('vm3'),
  vmId: '33333333-3333-4333-8333-333333333333',
  name: 'vm3',
  tags: {},
  addresses: ['127.0.0.3'],
  identities: [UAI3],
};
/** 127.0.0.4: no identity at all. */
export const VM4: AgentVm = {
  ...baseVm,
  id: vmId('vm4'),
  vmId: '44444444-4444-4444-8444-444444444444',
  name: 'vm4',
  tags: {},
  addresses: ['127.0.0.4'],
  identities: [],
};
/** An address no VM has. */
export const STRANGER = '127.0.0.9';

/** The lifetime of the test tokens (Azure's observed 86 700 s). */
export const LIFETIME = 86_700;

/** A backend over the fixed VMs: caches one token object per (identity, resource). */
export class TestBackend implements ImdsBackend {
  readonly vms = [VM1, VM2, VM3, VM4];
  /** Every `token` call; `peer` is the caller's address as IMDS passed it. */
  readonly calls: {
    vm: string;
    clientId: string;
    resource: string;
    bypassCache: boolean;
    peer?: string | undefined;
  }[] = [];
  readonly refusals: { address: string; reason: string }[] = [];
  private readonly cache = new Map<string, ImdsToken>();
  /** When set, `token` throws it. */
  failWith: Error | undefined = undefined;
  /** When set, `token` waits for it before answering. */
  gate: Promise<void> | undefined = undefined;
  /** Unix seconds the tokens are issued at. */
  issuedAt = 1_700_000_000;

  vmFor(address: string): AgentVm | undefined {
    return this.vms.find((vm) => vm.addresses.includes(address));
  }

  async token(
    vm: AgentVm,
    identity: AgentIdentity,
    resource: string,
    options: { readonly bypassCache: boolean; readonly peer?: string | undefined },
  ): Promise<ImdsToken> {
    this.calls.push({ vm: vm.name, clientId: identity.clientId, resource, ...options });
    if (this.gate !== undefined) await this.gate;
    if (this.failWith !== undefined) throw this.failWith;
    const key = `${identity.clientId} ${resource}`;
    let token = this.cache.get(key);
    if (token === undefined || options.bypassCache) {
      token = {
        accessToken: `eyJ0eXAiOiJKV1QifQ.${Buffer.from(key).toString('base64url')}.sig`,
        clientId: identity.clientId,
        resource,
        expiresOn: this.issuedAt + LIFETIME,
        notBefore: this.issuedAt,
      };
      this.cache.set(key, token);
    }
    return token;
  }

  refused(address: string, reason: string): void {
    this.refusals.push({ address, reason });
  }
}

/** A backend that also signs attested documents (the signature names the VM and nonce). */
export class AttestingBackend extends TestBackend {
  attest(vm: AgentVm, nonce: string | undefined): Promise<string> {
    return Promise.resolve(Buffer.from(`${vm.vmId}|${nonce ?? 'none'}`).toString('base64'));
  }
}

/** A clock moved by hand (milliseconds). */
export class ManualClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

/** Throttling off, for tests that send many requests from one VM. */
export const NO_LIMIT: ImdsRateLimit = {
  mode: 'off',
  identityPerSecond: 20,
  identityConcurrent: 5,
  otherPerSecond: 5,
};

/** A started IMDS server with its backend and clock. */
export interface Harness {
  readonly server: ImdsServer;
  readonly backend: TestBackend;
  readonly clock: ManualClock;
}

/** Starts an IMDS server on 127.0.0.1, port 0. */
export async function startImds(
  options: {
    rateLimit?: ImdsRateLimit;
    metrics?: AgentMetrics;
    backend?: TestBackend;
  } = {},
): Promise<Harness> {
  const backend = options.backend ?? new TestBackend();
  const clock = new ManualClock((backend.issuedAt + 600) * 1000);
  const server = await createImdsServer({
    backend,
    host: '127.0.0.1',
    port: 0,
    rateLimit: options.rateLimit ?? NO_LIMIT,
    clock,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  return { server, backend, clock };
}

/** One answer, headers lower-cased. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** Request options: the calling VM's address, the method, the headers (Metadata: true default). */
export interface Call {
  readonly from?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send no Metadata header. */
  readonly bare?: boolean;
  /** A request body (its Content-Length is set). */
  readonly body?: string;
}

/**
 * Sends one request on its own connection, from `call.from` (default 127.0.0.1), to IMDS or
 * anything else speaking HTTP (the extension shim).
 */
export function imds(baseUrl: string, path: string, call: Call = {}): Promise<Answer> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = call.bare === true ? {} : { Metadata: 'true' };
  Object.assign(headers, call.headers);
  if (call.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(call.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: call.method ?? 'GET',
        headers,
        localAddress: call.from ?? '127.0.0.1',
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

/** `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=...` plus `extra`. */
export function tokenPath(extra = '', resource = 'https%3A%2F%2Fmanagement.azure.com%2F'): string {
  return `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}${extra}`;
}

/** An Entra error as the backend passes it through. */
export function entraInvalidResource(): AppError {
  return new AppError(
    'InvalidResource',
    'The resource principal named https://unknown.example was not found in the tenant named Tessera.',
    { status: 400, errorCodes: [500011] },
  );
}
