// Microsoft.ManagedIdentity/identities: a VM's or scale set's system-assigned identity, read at `{resource}/providers/Microsoft.ManagedIdentity/identities/default`.
import { getTyped, readIdentity } from '../../../core/compute/index.js';
import { SCALE_SET_RESOURCE_TYPE, VM_RESOURCE_TYPE } from '../../../core/resources/change-feed.js';
import {
  renderSystemIdentity,
  resourceNotFound,
  SYSTEM_IDENTITIES as IDENTITIES,
  validateResourceName,
  versionsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';

/** The resource types with a system-assigned identity. */
const HOLDERS = [VM_RESOURCE_TYPE, SCALE_SET_RESOURCE_TYPE] as const;

/**
 * GET: the holder (`ResourceNotFound` naming it when there is none), then its system-assigned
 * identity (`ResourceNotFound` naming the identity when it has none, or for a name other than
 * `default`: Tessera's text, Azure's answer is not captured). The holder's name is checked here,
 * after authorization: the pipeline checks the names of the type's own path only.
 */
async function read(context: OperationContext): Promise<ArmResponse> {
  const { target, where } = context;
  const sitsOn = target.scopeType?.toLowerCase();
  const type = HOLDERS.find((holder) => holder.toLowerCase() === sitsOn) ?? VM_RESOURCE_TYPE;
  const name = target.scope.split('/').at(-1) ?? '';
  validateResourceName(type, name);
  const group = target.resourceGroup ?? '';
  const holder = await getTyped(
    context.services.store,
    `${where.groupId}/providers/${type}/${name}`,
    type,
  );
  if (holder === undefined) throw resourceNotFound(`${type}/${name}`, group);
  const { system } = await readIdentity(context.services.store, holder.id);
  const isDefault = context.name.toLowerCase() === 'default';
  if (system === undefined || !isDefault) {
    const identity = isDefault ? 'default' : context.name;
    throw resourceNotFound(`${type}/${name}/providers/${IDENTITIES}/${identity}`, group);
  }
  return { status: 200, body: renderSystemIdentity(holder, system) };
}

/** `{vm or scale set}/providers/Microsoft.ManagedIdentity/identities/default`: GET only. */
export const systemIdentities: ResourceTypeDeclaration = {
  type: IDENTITIES,
  apiVersions: versionsOf(IDENTITIES),
  placement: ['resource'],
  on: HOLDERS,
  validateName: () => undefined,
  operations: { read: { run: read } },
};
