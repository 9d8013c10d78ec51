// Checking the agent API's answers: the shapes the agent relies on, before it trusts a body.
import { AppError, type ErrorCode } from '../core/errors.js';
import type { AgentIdentity, AgentVm, VmSync } from '../wire/agent-api.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object whose `texts` members are strings and `numbers` members finite numbers. */
export function shaped(
  value: unknown,
  texts: readonly string[],
  nums: readonly string[] = [],
): value is Record<string, unknown> {
  return (
    isRecord(value) &&
    texts.every((k) => typeof value[k] === 'string') &&
    nums.every((k) => typeof value[k] === 'number' && Number.isFinite(value[k]))
  );
}

export const allStrings = (value: unknown): boolean =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

const isIdentity = (value: unknown): value is AgentIdentity =>
  shaped(value, ['kind', 'principalId', 'clientId', 'tenantId', 'resourceId']) &&
  (value.kind === 'SystemAssigned' || value.kind === 'UserAssigned');

const isVm = (value: unknown): value is AgentVm =>
  shaped(value, ['id', 'vmId', 'name', 'subscriptionId', 'resourceGroup']) &&
  allStrings(value.addresses) &&
  Array.isArray(value.identities) &&
  value.identities.every(isIdentity);

/** True when `value` has the shape of a {@link VmSync} (with well-formed VMs). */
export function isVmSync(value: unknown): value is VmSync {
  return (
    shaped(value, [], ['position']) &&
    typeof value.full === 'boolean' &&
    Array.isArray(value.vms) &&
    value.vms.every(isVm) &&
    allStrings(value.removed)
  );
}

/**
 * Entra's `error` values the agent API's `POST /token` passes on, with the code the server raised
 * each under (src/wire/oauth/entra-errors.ts).
 */
const ENTRA_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  invalid_request: 'InvalidRequest',
  invalid_client: 'InvalidClient',
  invalid_grant: 'InvalidGrant',
  unauthorized_client: 'UnauthorizedClient',
  unsupported_grant_type: 'UnsupportedGrantType',
  invalid_scope: 'InvalidScope',
  invalid_resource: 'InvalidResource',
  invalid_tenant: 'NotFound',
};

/** The token endpoint's own codes: every dialect quotes their AADSTS number itself. */
const TOKEN_ENDPOINT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'InvalidClient',
  'InvalidGrant',
  'UnauthorizedClient',
  'UnsupportedGrantType',
  'InvalidScope',
  'InvalidResource',
]);

const AADSTS_PREFIX = /^AADSTS(\d{1,9}): /;

/**
 * The Entra error in an agent API answer, rebuilt as the server raised it, or undefined when the
 * answer is not one. The server sends an Entra refusal as
 * `{"error":{"code":"unauthorized_client","message":"AADSTS7000112: Application ... is disabled."}}`
 * with Entra's status (src/server/agent-api/token.ts); the error keeps that status, Entra's
 * `error` (as the IMDS, OAuth and ARM wire code) and its AADSTS number (`errorCodes`), so IMDS
 * passes it through as Azure's IMDS passes Entra's: `{"error":"unauthorized_client",
 * "error_description":"AADSTS7000112: Application ... is disabled."}`. For the token endpoint's
 * own codes the renderers write the `AADSTS<n>: ` prefix, so the message loses it; the others
 * (`invalid_request`, `invalid_tenant`) are sent as they are and keep Entra's whole text.
 */
export function entraErrorFrom(
  status: number,
  error: string | undefined,
  message: string | undefined,
  target: string | undefined,
): AppError | undefined {
  if (error === undefined || message === undefined || !Object.hasOwn(ENTRA_ERROR_CODES, error)) {
    return undefined;
  }
  const code = ENTRA_ERROR_CODES[error];
  const aadsts = AADSTS_PREFIX.exec(message);
  if (code === undefined || aadsts === null) return undefined;
  return new AppError(
    code,
    TOKEN_ENDPOINT_CODES.has(code) ? message.slice(aadsts[0].length) : message,
    {
      status,
      errorCodes: [Number(aadsts[1])],
      wire: { oauth: error, imds: error, arm: error },
      ...(target === undefined ? {} : { target }),
    },
  );
}
