// Why a compute write is refused: a closed set of problems with what they concern, raised as neutral AppErrors.
import { AppError, type ErrorCode } from '../errors.js';
import type { Resource } from '../model.js';

/** A problem of a VM, scale set or instance write, with what a surface needs to word it. */
export type ComputeProblem =
  /** A user-assigned identity to attach to `holderId` does not exist (or has no principal). */
  | {
      readonly reason: 'identity_not_found';
      readonly holderId: string;
      readonly identityId: string;
    }
  /** `properties.tessera.hostId` names no registered host. */
  | { readonly reason: 'unknown_host'; readonly hostId: string }
  /** Another VM or instance on the same host, `holder`, holds `address` (as the request spelt it). */
  | {
      readonly reason: 'address_taken';
      readonly resourceId: string;
      readonly address: string;
      readonly holder: Resource;
    };

/**
 * A compute write refused on purpose: an {@link AppError} with a neutral code, status and
 * message, whose `problem` says why; a surface renders it in its own words.
 */
export class ComputeProblemError extends AppError {
  readonly problem: ComputeProblem;

  constructor(problem: ComputeProblem, code: ErrorCode, status: number, message: string) {
    super(code, message, { status });
    this.problem = problem;
  }
}

/** True when `error` is a {@link ComputeProblemError}. */
export function isComputeProblem(error: unknown): error is ComputeProblemError {
  return error instanceof ComputeProblemError;
}

/** 400: the user-assigned identity `identityId` to attach to `holderId` does not exist. */
export function identityToAttachNotFound(
  holderId: string,
  identityId: string,
): ComputeProblemError {
  return new ComputeProblemError(
    { reason: 'identity_not_found', holderId, identityId },
    'InvalidParameter',
    400,
    `The user-assigned identity '${identityId}' does not exist.`,
  );
}

/** 400: the host `hostId` a VM or instance is placed on is not registered. */
export function unknownHost(hostId: string): ComputeProblemError {
  return new ComputeProblemError(
    { reason: 'unknown_host', hostId },
    'InvalidParameter',
    400,
    `The host '${hostId}' does not exist.`,
  );
}

/** 409: `address` of `resourceId` is held by `holder`, another VM or instance on the same host. */
export function addressTaken(
  resourceId: string,
  address: string,
  holder: Resource,
): ComputeProblemError {
  return new ComputeProblemError(
    { reason: 'address_taken', resourceId, address, holder },
    'Conflict',
    409,
    `The private address ${address} is already held by another resource on the host.`,
  );
}
