// `/metadata/instance` answers rendered on first request per VM, api-version, route and format, in a bounded cache.
import type { AgentVm } from '../../wire/agent-api.js';
import { type ImdsFormat, instanceDocument, selectInstance } from '../../wire/imds/instance.js';
import { bodyResponse, type ImdsResponse } from './responses.js';

/** Most distinct (version, route, format) answers kept per VM; later ones are rendered each time. */
export const INSTANCE_CACHE_LIMIT_PER_VM = 64;
/**
 * Most answers kept in all (about 1.5 KB of body each for a whole document): 10,000 VMs that each
 * asked once would otherwise hold 10,000 documents for as long as their records last.
 */
export const INSTANCE_CACHE_LIMIT = 4096;

/** Renders (or reuses) the answer to a `/metadata/instance` request; throws IMDS's 400 or 404. */
export type InstanceRenderer = (
  vm: AgentVm,
  version: string,
  segments: readonly string[],
  format: ImdsFormat | undefined,
) => ImdsResponse;

/**
 * Makes the renderer. Answers are keyed by the VM record itself, and the VM map puts a new record
 * in place on every change, so an answer is never served after the facts it was made from changed
 * and nothing needs to be invalidated. Nothing is rendered before a VM asks. Only successful
 * answers are kept; route filters are caller-chosen, so each VM keeps at most `limitPerVm` of
 * them, and all VMs together at most `limit`: the VMs whose answers were used longest ago are
 * dropped first (a replaced record, never asked for again, goes that way too).
 */
export function createInstanceRenderer(
  limitPerVm: number = INSTANCE_CACHE_LIMIT_PER_VM,
  limit: number = INSTANCE_CACHE_LIMIT,
): InstanceRenderer {
  // Insertion order is use order: a VM is moved to the end when its answers are used.
  const answers = new Map<AgentVm, Map<string, ImdsResponse>>();
  let held = 0;
  let lastVm: AgentVm | undefined;

  const keep = (vm: AgentVm, forVm: Map<string, ImdsResponse>): void => {
    if (lastVm === vm) return;
    answers.delete(vm);
    answers.set(vm, forVm);
    lastVm = vm;
  };

  const evict = (): void => {
    for (const [vm, forVm] of answers) {
      if (held <= limit) return;
      answers.delete(vm);
      held -= forVm.size;
      if (lastVm === vm) lastVm = undefined;
    }
  };

  return (vm, version, segments, format) => {
    const key = `${version}\n${format ?? ''}\n${segments.join('/')}`;
    let forVm = answers.get(vm);
    const cached = forVm?.get(key);
    if (cached !== undefined && forVm !== undefined) {
      keep(vm, forVm);
      return cached;
    }
    const selected = selectInstance(instanceDocument(vm, version), segments, format);
    const response = bodyResponse(200, selected.contentType, selected.body);
    forVm ??= new Map();
    if (forVm.size < limitPerVm) {
      forVm.set(key, response);
      held += 1;
    }
    keep(vm, forVm);
    evict();
    return response;
  };
}
