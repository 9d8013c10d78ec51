// The pipeline's recorder: each ARM write, delete and action it answers becomes two Activity Log events.
import { activityEventsFor } from '../../core/audit/activity-events.js';
import { ARM_HEADERS } from '../../wire/arm/index.js';
import type { ArmServices } from './context.js';
import type { OperationOutcome } from './pipeline.js';

/** Where a request came from, and the trace ids its answer carries. */
export interface RequestTrace {
  /** The response's trace headers (`x-ms-request-id`, `x-ms-correlation-request-id`, …). */
  readonly headers: Readonly<Record<string, string>>;
  readonly clientIp: string | null;
}

/**
 * The pipeline's recorder for one request: the outcome becomes its two events, appended in one
 * statement. A store failure is reported to `onError` and not to the client: the operation it
 * describes has already happened.
 */
export function activityRecorder(
  services: ArmServices,
  trace: RequestTrace,
  onError: (error: unknown) => void,
): (outcome: OperationOutcome) => Promise<void> {
  return async (outcome) => {
    const { request, target, declaration } = outcome;
    const requestId = trace.headers[ARM_HEADERS.requestId] ?? '';
    const events = activityEventsFor(
      {
        caller: request.caller,
        subscriptionId: target.subscriptionId ?? '',
        resourceGroup: target.resourceGroup ?? null,
        resourceId: target.id,
        resourceType: declaration.type,
        action: outcome.action,
        method: request.method,
        uri: request.url,
        httpStatus: outcome.status,
        correlationId: trace.headers[ARM_HEADERS.correlationRequestId] ?? requestId,
        clientRequestId: trace.headers[ARM_HEADERS.clientRequestId] ?? null,
        serviceRequestId: requestId,
        clientIp: trace.clientIp,
        startedAt: outcome.startedAt,
        endedAt: outcome.endedAt,
      },
      services.newId,
    );
    try {
      await services.store.activity.append(events);
    } catch (error) {
      onError(error);
    }
  };
}
