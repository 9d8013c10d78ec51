// A small ARM client: subscriptions, resource groups, key vaults and role assignments, as the CLI needs them.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from '../core/guards.js';
import { ClientError, errorFromAnswer } from './errors.js';
import type { HttpSend } from './http.js';
import type { TokenProvider } from './credentials.js';

/** The scope of ARM tokens. */
export const ARM_SCOPE = 'https://management.azure.com/.default';

const API = {
  subscriptions: '2022-12-01',
  resourceGroups: '2021-04-01',
  vaults: '2023-07-01',
  roleAssignments: '2022-04-01',
} as const;

/** A JSON object as ARM returns it. */
export type ArmObject = Record<string, unknown>;

/** A successful ARM answer. */
export interface ArmAnswer {
  readonly status: number;
  readonly body: ArmObject;
  /** Its headers (`warning` carries ARM's deprecation notices). */
  readonly headers: IncomingHttpHeaders;
}

/** The ARM calls the CLI makes; each fails with a {@link ClientError} carrying ARM's code. */
export interface ArmClient {
  /** The subscriptions the caller can see, following `nextLink`. */
  listSubscriptions(): Promise<ArmObject[]>;
  /** `GET` of a resource group. */
  getResourceGroup(subscriptionId: string, group: string): Promise<ArmObject>;
  /** `PUT` of a vault: `created` is true for a new one (201). */
  putVault(
    subscriptionId: string,
    group: string,
    name: string,
    body: ArmObject,
  ): Promise<{ created: boolean; vault: ArmObject }>;
  /**
   * Any ARM call: `path` is the resource path with its `api-version` query. Returns the status
   * and the JSON body (`{}` for an empty one, as a 204 or a DELETE's 200 gives).
   */
  request(method: string, path: string, body?: unknown): Promise<ArmAnswer>;
  /** `GET` of a collection at `path` (with its query), every page, following `nextLink`. */
  list(path: string): Promise<ArmObject[]>;
  /**
   * Assigns built-in role `roleId` (a GUID) at `scope` to `principalId`; an identical existing
   * assignment (`RoleAssignmentExists`) counts as done. Returns false in that case.
   */
  assignRole(
    subscriptionId: string,
    scope: string,
    roleId: string,
    principalId: string,
  ): Promise<boolean>;
}

const segment = (value: string): string => encodeURIComponent(value);

/** Makes the client for the server at `serverUrl` (no trailing slash). */
export function createArmClient(options: {
  readonly serverUrl: string;
  readonly send: HttpSend;
  readonly tokens: TokenProvider;
}): ArmClient {
  const { serverUrl, send, tokens } = options;

  /** Calls `path` (with its query); returns the status and JSON body of a 2xx answer. */
  const call = async (method: string, path: string, body?: unknown): Promise<ArmAnswer> => {
    const token = await tokens.getToken(ARM_SCOPE);
    const answer = await send({
      method,
      url: `${serverUrl}${path}`,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (answer.status >= 400)
      throw errorFromAnswer(answer.status, answer.text, `${method} ${path}`);
    let parsed: unknown;
    try {
      parsed = answer.text === '' ? {} : JSON.parse(answer.text);
    } catch {
      parsed = undefined;
    }
    if (!isRecord(parsed)) {
      throw new ClientError('UnexpectedResponse', `not a JSON object from ${method} ${path}`, {
        status: answer.status,
      });
    }
    return { status: answer.status, body: parsed, headers: answer.headers };
  };

  const groupPath = (sub: string, group: string): string =>
    `/subscriptions/${segment(sub)}/resourceGroups/${segment(group)}`;

  const list = async (first: string): Promise<ArmObject[]> => {
    const items: ArmObject[] = [];
    let path: string | undefined = first;
    while (path !== undefined) {
      const { body } = await call('GET', path);
      if (Array.isArray(body.value)) items.push(...body.value.filter(isRecord));
      const next = typeof body.nextLink === 'string' ? new URL(body.nextLink) : undefined;
      // Its path only, asked of this server: the token never goes to a host the answer names.
      path = next === undefined ? undefined : `${next.pathname}${next.search}`;
    }
    return items;
  };

  return {
    request: call,
    list,

    listSubscriptions() {
      return list(`/subscriptions?api-version=${API.subscriptions}`);
    },

    async getResourceGroup(sub, group) {
      return (await call('GET', `${groupPath(sub, group)}?api-version=${API.resourceGroups}`)).body;
    },

    async putVault(sub, group, name, body) {
      const path = `${groupPath(sub, group)}/providers/Microsoft.KeyVault/vaults/${segment(name)}`;
      const answer = await call('PUT', `${path}?api-version=${API.vaults}`, body);
      return { created: answer.status === 201, vault: answer.body };
    },

    async assignRole(sub, scope, roleId, principalId) {
      const path = `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
      try {
        await call('PUT', `${path}?api-version=${API.roleAssignments}`, {
          properties: {
            roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
            principalId,
          },
        });
        return true;
      } catch (error) {
        if (error instanceof ClientError && error.code === 'RoleAssignmentExists') return false;
        throw error;
      }
    },
  };
}
