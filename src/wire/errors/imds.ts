// IMDS errors: the identity route's {"error","error_description"} and the other routes' {"error"}.
import type { AppError } from '../../core/errors.js';
import { entraErrorCodes, entraErrorName } from './oauth.js';
import type { RenderContext, RenderedError } from './rendered-error.js';
import { finish, prepare, publicMessage, unreachable, type Prepared } from './shared.js';

/** Which IMDS body shape to use. */
export type ImdsRoute = 'identity' | 'metadata';

/** Options for {@link renderImdsError}. */
export interface ImdsErrorContext extends RenderContext {
  /**
   * `identity` (the default): `/metadata/identity/*`, `IdentityErrorResponse`
   * `{"error","error_description"}`. `metadata`: every other category (`/metadata/instance`,
   * `/metadata/attested`, ...), `ErrorResponse` `{"error"}`.
   */
  readonly route?: ImdsRoute | undefined;
  /** The three newest api-versions, newest first, listed in the api-version error body. */
  readonly newestVersions?: readonly string[] | undefined;
}

/** Azure's texts, verbatim: clients (Azure.Identity .NET) match on some of them. */
export const IMDS_TEXT = {
  metadataHeader: 'Required metadata header not specified',
  metadataHeaderOtherRoutes: 'Bad request. Required metadata header not specified',
  identityNotFound: 'Identity not found',
  multipleIdentities:
    'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
  throttled: 'Temporarily throttled, too many requests',
  apiVersion:
    'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
} as const;

/** The newest IMDS api-versions as of the 2025 documentation (PROTOCOL.md section 2.1). */
export const IMDS_NEWEST_VERSIONS: readonly string[] = ['2025-04-07', '2024-07-17', '2024-03-15'];

type ImdsMapping =
  /** An `{"error","error_description"}` body; `text` replaces the message when Azure's is known. */
  | { readonly kind: 'identity'; readonly error: string; readonly text?: string | undefined }
  /** An entra error passed through: the description starts with its AADSTS number. */
  | { readonly kind: 'entra' }
  /** The api-version body, the same on every IMDS route. */
  | { readonly kind: 'api-version' };

function imdsMapping(error: AppError): ImdsMapping {
  const code = error.code;
  switch (code) {
    case 'MetadataHeaderMissing':
      return { kind: 'identity', error: 'invalid_request', text: IMDS_TEXT.metadataHeader };
    case 'IdentityNotFound':
      return { kind: 'identity', error: 'invalid_request', text: IMDS_TEXT.identityNotFound };
    case 'MultipleUserAssignedIdentities':
      return { kind: 'identity', error: 'invalid_request', text: IMDS_TEXT.multipleIdentities };
    case 'TooManyRequests':
      return { kind: 'identity', error: 'invalid_request', text: IMDS_TEXT.throttled };
    case 'MissingParameter':
      return {
        kind: 'identity',
        error: 'invalid_request',
        text:
          error.target === undefined
            ? undefined
            : `Required query variable '${error.target}' is missing`,
      };
    case 'InvalidRequest':
    case 'InvalidParameter':
    case 'UnsupportedMediaType':
    case 'PayloadTooLarge':
    case 'ForwardedRequestRefused':
    case 'Conflict':
    case 'PreconditionFailed':
      return { kind: 'identity', error: 'invalid_request' };
    case 'MissingApiVersion':
    case 'InvalidApiVersion':
      return { kind: 'api-version' };
    case 'MethodNotAllowed':
      return { kind: 'identity', error: 'method_not_allowed' };
    case 'UnknownCaller':
    case 'AuthenticationRequired':
    case 'InvalidToken':
      return { kind: 'identity', error: 'unauthorized_client' };
    case 'Forbidden':
      return { kind: 'identity', error: 'access_denied' };
    case 'InvalidClient':
    case 'InvalidGrant':
    case 'UnauthorizedClient':
    case 'UnsupportedGrantType':
    case 'InvalidScope':
    case 'InvalidResource':
      return { kind: 'entra' };
    case 'NotFound':
      return { kind: 'identity', error: 'not_found' };
    case 'ServiceUnavailable':
      return { kind: 'identity', error: 'service_unavailable' };
    case 'ConfigInvalid':
    case 'Internal':
      return { kind: 'identity', error: 'server_error' };
    default:
      return unreachable(code);
  }
}

type BodyMapping = Exclude<ImdsMapping, { readonly kind: 'api-version' }>;

function identityBody(prepared: Prepared, mapping: BodyMapping): Record<string, string> {
  const { error } = prepared;
  switch (mapping.kind) {
    case 'identity':
      return {
        error: error.wire.imds ?? mapping.error,
        error_description: mapping.text ?? publicMessage(prepared),
      };
    case 'entra': {
      const message = publicMessage(prepared);
      return {
        error: error.wire.imds ?? entraErrorName(error),
        error_description: `AADSTS${entraErrorCodes(error)[0] ?? 0}: ${message}`,
      };
    }
    default:
      return unreachable(mapping);
  }
}

function metadataBody(prepared: Prepared, mapping: BodyMapping): Record<string, string> {
  const { error } = prepared;
  if (error.wire.imds !== undefined) return { error: error.wire.imds };
  if (error.code === 'MetadataHeaderMissing') return { error: IMDS_TEXT.metadataHeaderOtherRoutes };
  if (mapping.kind === 'identity' && mapping.text !== undefined) return { error: mapping.text };
  return { error: publicMessage(prepared) };
}

/**
 * Renders an error as Azure's Instance Metadata Service does (PROTOCOL.md sections 1.5 and 2.1).
 * On the identity route: `{"error":"invalid_request","error_description":"Identity not found"}`,
 * with Azure's exact texts for a missing `Metadata` header, an unknown identity, several
 * user-assigned identities, a missing query variable and throttling; an Entra error passes
 * through as `{"error":"invalid_resource","error_description":"AADSTS500011: ..."}`. On other
 * routes: `{"error":"<text>"}`. A missing or unsupported `api-version` gets IMDS's documented
 * `{"error":"Bad request. api-version is invalid ...","newest-versions":[...]}` on every route.
 * A `wire.imds` override replaces the `error` member. Anything that is not an exposed
 * `AppError` says only "An internal error occurred.".
 */
export function renderImdsError(error: unknown, ctx?: ImdsErrorContext): RenderedError {
  const prepared = prepare(error);
  const mapping = imdsMapping(prepared.error);
  let body: Record<string, unknown>;
  if (mapping.kind === 'api-version') {
    body = {
      error: prepared.error.wire.imds ?? IMDS_TEXT.apiVersion,
      'newest-versions': ctx?.newestVersions ?? IMDS_NEWEST_VERSIONS,
    };
  } else if ((ctx?.route ?? 'identity') === 'metadata') {
    body = metadataBody(prepared, mapping);
  } else {
    body = identityBody(prepared, mapping);
  }
  return finish(prepared, body, {}, ctx);
}
