// The agent API's host bodies (`HostView`, `CreatedHost`) rendered from the domain's hosts.
import type { HostSummary } from '../core/hosts/hosts.js';
import type { IssuedJoinToken } from '../core/hosts/join-tokens.js';
import type { CreatedHost, HostView } from './agent-api.js';

const isoOrNull = (at: number | null | undefined): string | null =>
  at === null || at === undefined ? null : new Date(at).toISOString();

/** A host as operators see it: ISO-8601 times (null when not yet), no hash nor thumbprint. */
export function hostView({ host, vmCount }: HostSummary): HostView {
  return {
    id: host.id,
    name: host.name,
    createdAt: new Date(host.createdAt).toISOString(),
    registeredAt: isoOrNull(host.registeredAt),
    lastSeenAt: isoOrNull(host.lastSeenAt),
    certificateNotAfter: isoOrNull(host.certificateNotAfter),
    vmCount,
  };
}

/** `{"id","name","joinToken"}`: the only time a join token is shown. */
export function createdHost({ host, joinToken }: IssuedJoinToken): CreatedHost {
  return { id: host.id, name: host.name, joinToken };
}
