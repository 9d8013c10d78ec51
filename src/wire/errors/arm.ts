// ARM errors: the common ErrorResponse envelope {"error":{"code","message","target"}}.
import type { AppError, ErrorAdditionalInfo, ErrorCode } from '../../core/errors.js';
import type { RenderContext, RenderedError } from './rendered-error.js';
import { finish, prepare, publicMessage, publicTarget, unreachable } from './shared.js';

/** Options for {@link renderArmError}. */
export interface ArmErrorContext extends RenderContext {
  /** The request's `x-ms-correlation-request-id`, quoted in an internal error's message. */
  readonly correlationId?: string | undefined;
}

/** ARM's `ErrorDetail` (ARM common types v5), as much as Tessera uses. */
export interface ArmErrorObject {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
  readonly details?: readonly ArmErrorObject[];
  readonly additionalInfo?: readonly ErrorAdditionalInfo[];
}

/** ARM's error body (`ErrorResponse`). */
export interface ArmErrorBody {
  readonly error: ArmErrorObject;
}

/**
 * ARM's code per error code. Where one resource provider differs (ARM's `ResourceGroupNotFound`,
 * Compute's `InvalidParameter` for a missing property) the error carries a `wire.arm` override.
 */
function armCode(code: ErrorCode): string {
  switch (code) {
    case 'InvalidRequest':
      return 'InvalidRequestContent';
    case 'InvalidParameter':
    case 'MissingParameter':
      return 'InvalidParameter';
    case 'MethodNotAllowed':
      return 'MethodNotAllowed';
    case 'UnsupportedMediaType':
      return 'UnsupportedMediaType';
    case 'PayloadTooLarge':
      return 'RequestEntityTooLarge';
    case 'MissingApiVersion':
      return 'MissingApiVersionParameter';
    case 'InvalidApiVersion':
      return 'InvalidApiVersionParameter';
    case 'MetadataHeaderMissing':
    case 'ForwardedRequestRefused':
    case 'IdentityNotFound':
    case 'MultipleUserAssignedIdentities':
    case 'UnsupportedGrantType':
    case 'InvalidScope':
    case 'InvalidResource':
      return 'BadRequest';
    case 'UnknownCaller':
    case 'AuthenticationRequired':
    case 'InvalidClient':
    case 'InvalidGrant':
    case 'UnauthorizedClient':
      return 'AuthenticationFailed';
    case 'InvalidToken':
      return 'InvalidAuthenticationToken';
    case 'Forbidden':
      return 'AuthorizationFailed';
    case 'NotFound':
      return 'ResourceNotFound';
    case 'Conflict':
      return 'Conflict';
    case 'PreconditionFailed':
      return 'PreconditionFailed';
    case 'TooManyRequests':
      return 'SubscriptionRequestsThrottled'; // ARM's own throttle; RPs say ResourceRequestsThrottled
    case 'ServiceUnavailable':
      return 'ServiceUnavailable';
    case 'ConfigInvalid':
    case 'Internal':
      return 'InternalServerError';
    default:
      return unreachable(code);
  }
}

/** ARM sends no `target` with these, though Tessera's errors name `api-version` as theirs. */
function armShowsTarget(error: AppError): boolean {
  return error.code !== 'MissingApiVersion' && error.code !== 'InvalidApiVersion';
}

function internalMessage(ctx: ArmErrorContext | undefined): string {
  const base = 'Encountered internal server error.';
  if (ctx?.correlationId === undefined) return base;
  return `${base} Diagnostic information: request correlation id '${ctx.correlationId}'.`;
}

/**
 * An error as ARM's `ErrorDetail`: `{code, message, target?, details?, additionalInfo?}`, `target`
 * only when the error names one, a `wire.arm` override replacing the code, `details` (each
 * rendered the same way) and `additionalInfo` (a template's `TemplateViolation`) when it has any.
 * Anything that is not an exposed `AppError` is `InternalServerError` ("Encountered internal
 * server error.") or, for an unexposed 4xx, a generic message under its own code.
 */
export function armErrorObject(error: unknown, ctx?: ArmErrorContext): ArmErrorObject {
  const prepared = prepare(error);
  const { error: appError } = prepared;
  const target = armShowsTarget(appError) ? publicTarget(prepared) : undefined;
  const details = prepared.exposed ? appError.details : [];
  return {
    code: appError.wire.arm ?? armCode(appError.code),
    message: publicMessage(prepared, internalMessage(ctx)),
    ...(target === undefined ? {} : { target }),
    ...(details.length === 0 ? {} : { details: details.map((d) => armErrorObject(d, ctx)) }),
    ...(appError.additionalInfo.length === 0 ? {} : { additionalInfo: appError.additionalInfo }),
  };
}

/**
 * Renders an error in ARM's envelope (PROTOCOL.md section 4.1):
 * `{"error":{"code":"ResourceNotFound","message":"...","target":"..."}}`, the object as
 * {@link armErrorObject} words it.
 */
export function renderArmError(error: unknown, ctx?: ArmErrorContext): RenderedError {
  const prepared = prepare(error);
  const body: ArmErrorBody = { error: armErrorObject(error, ctx) };
  return finish(prepared, body, {}, ctx);
}
