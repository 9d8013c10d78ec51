// Checking the agent API's answers: the shapes the agent relies on, before it trusts a body.
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
