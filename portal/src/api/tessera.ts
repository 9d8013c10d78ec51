// Tessera's own reads: the agents' hosts and the audit log of token activity.
import type { Http } from './http.js';

export interface Host {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string | null;
  readonly registeredAt: string | null;
  readonly lastSeenAt: string | null;
  readonly certificateNotAfter: string | null;
  readonly vmCount: number;
}

export type Outcome = 'issued' | 'refused' | 'recorded';

export interface AuditEvent {
  readonly id: string;
  readonly time: string;
  readonly kind: string;
  readonly outcome: Outcome;
  readonly principalId: string | null;
  readonly resource: string | null;
  readonly vmId: string | null;
  readonly hostId: string | null;
  readonly reason: string | null;
  readonly tokenId: string | null;
}

export const AUDIT_API = '2026-11-01';

export async function hosts(http: Http): Promise<Host[]> {
  const body = (await http.send('GET', '/agent/v1/hosts')) as { value?: Host[] };
  return body.value ?? [];
}

/**
 * Token requests issued or refused since `since` (ISO), newest first, at most 1000: the token
 * service's (`token`) and the agents' refusals (`imds.refused`); changes (`recorded`) left out.
 */
export async function tokenEvents(http: Http, since: string): Promise<AuditEvent[]> {
  const query = new URLSearchParams({ 'api-version': AUDIT_API, since, $top: '1000' });
  const body = (await http.send('GET', `/providers/Tessera.Audit/events?${query.toString()}`)) as {
    value?: AuditEvent[];
  };
  return (body.value ?? []).filter((e) => e.outcome !== 'recorded');
}
