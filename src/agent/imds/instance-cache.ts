// `/metadata/instance` answers rendered once per VM, api-version, route and format, not per request.
import type { AgentVm } from '../../wire/agent-api.js';
import { type ImdsFormat, instanceDocument, selectInstance } from '../../wire/imds/instance.js';
import { bodyResponse, type ImdsResponse } from './responses.js';

/** Most distinct (version, route, format) answers kept per VM; later ones are rendered each time. */
export const INSTANCE_CACHE_LIMIT_PER_VM = 64;

/** Renders (or reuses) the answer to a `/metadata/instance` request; throws IMDS's 400 or 404. */
export type InstanceRenderer = (
  vm: AgentVm,
  version: string,
  segments: readonly string[],
  format: ImdsFormat | undefined,
) => ImdsResponse;

/**
 * Makes the renderer. Entries hang off the VM record itself (a `WeakMap`), and the VM map puts
 * a new record in place on every change, so an answer never outlives the facts it was made
 * from and nothing needs to be invalidated. Only successful answers are kept; route filters are
 * caller-chosen, so each VM keeps at most `limitPerVm` of them.
 */
export function createInstanceRenderer(
  limitPerVm: number = INSTANCE_CACHE_LIMIT_PER_VM,
): InstanceRenderer {
  const answers = new WeakMap<AgentVm, Map<string, ImdsResponse>>();
  return (vm, version, segments, format) => {
    const key = `${version}\n${format ?? ''}\n${segments.join('/')}`;
    let forVm = answers.get(vm);
    const cached = forVm?.get(key);
    if (cached !== undefined) return cached;
    const selected = selectInstance(instanceDocument(vm, version), segments, format);
    const response = bodyResponse(200, selected.contentType, selected.body);
    if (forVm === undefined) {
      forVm = new Map();
      answers.set(vm, forVm);
    }
    if (forVm.size < limitPerVm) forVm.set(key, response);
    return response;
  };
}
