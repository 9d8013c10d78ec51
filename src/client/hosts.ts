// The operator's calls to the agent API's hosts (`/agent/v1/hosts`), with the ARM token, as the CLI makes them.
import {
  AGENT_API_PREFIX,
  type CreatedHost,
  type HostList,
  type HostView,
} from '../wire/agent-api.js';
import type { ArmClient } from './arm.js';
import { ClientError } from './errors.js';

/** The hosts operations; each fails with a {@link ClientError} carrying the server's code. */
export interface HostClient {
  /** Every host, sorted by name. */
  list(): Promise<HostView[]>;
  /** The host named `nameOrId`, else the one whose id it is; `HostNotFound` when neither. */
  get(nameOrId: string): Promise<HostView>;
  /** A new one-time join token for host `name`, creating it (`created`) when there is none. */
  create(name: string): Promise<{ created: boolean; host: CreatedHost }>;
  /** Deletes the host named `nameOrId` (or with that id); `HostNotFound` when there is none. */
  delete(nameOrId: string): Promise<void>;
}

const hostPath = (nameOrId: string): string =>
  `${AGENT_API_PREFIX}/hosts/${encodeURIComponent(nameOrId)}`;

/** A 404 of the agent API as the CLI names it: the host, not a generic resource, is missing. */
async function naming<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ClientError && error.status === 404) {
      throw new ClientError('HostNotFound', error.message, { status: 404, cause: error });
    }
    throw error;
  }
}

/** Makes the client; calls go through `arm` (the operator's ARM token, errors, TLS). */
export function createHostClient(arm: Pick<ArmClient, 'request'>): HostClient {
  return {
    async list() {
      const { value } = (await arm.request('GET', `${AGENT_API_PREFIX}/hosts`)).body as Partial<
        Record<keyof HostList, unknown>
      >;
      if (!Array.isArray(value)) {
        throw new ClientError('UnexpectedResponse', 'no host list from GET /agent/v1/hosts');
      }
      return value as HostView[];
    },
    get: (nameOrId) =>
      naming(
        async () => (await arm.request('GET', hostPath(nameOrId))).body as unknown as HostView,
      ),
    async create(name) {
      const answer = await arm.request('PUT', hostPath(name));
      return { created: answer.status === 201, host: answer.body as unknown as CreatedHost };
    },
    delete: (nameOrId) =>
      naming(async () => {
        await arm.request('DELETE', hostPath(nameOrId));
      }),
  };
}
