// Turns what fastify itself throws (bad media type, body too large, unparsable body) into AppErrors.
import { AppError, isAppError } from '../core/errors.js';

interface FastifyLikeError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

/**
 * Returns `error` unchanged if it is an {@link AppError}; maps fastify's own client errors to
 * AppErrors with their status; anything else is returned as is, so renderers treat it as a 500.
 */
export function fromFrameworkError(error: unknown): unknown {
  if (isAppError(error) || typeof error !== 'object' || error === null) return error;
  const { statusCode, code } = error as FastifyLikeError;
  if (typeof code !== 'string' || !code.startsWith('FST_')) return error;
  switch (statusCode ?? 0) {
    case 413:
      return new AppError('PayloadTooLarge', 'The request body is too large.', {
        status: 413,
        cause: error,
      });
    case 415:
      return new AppError('UnsupportedMediaType', 'The request content type is not supported.', {
        status: 415,
        cause: error,
      });
    case 400:
      return new AppError('InvalidRequest', 'The request body could not be parsed.', {
        status: 400,
        cause: error,
      });
    default:
      return error;
  }
}
