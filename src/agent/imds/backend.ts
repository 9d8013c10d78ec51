// What the IMDS surface needs from the rest of the agent: the VM map, tokens, audit, attestation.
import type { AgentIdentity, AgentVm } from '../../wire/agent-api.js';

/** A token as IMDS sends it (PROTOCOL.md 1.4). Times are unix seconds. */
export interface ImdsToken {
  readonly accessToken: string;
  readonly clientId: string;
  readonly resource: string;
  /** unix s */
  readonly expiresOn: number;
  readonly notBefore: number;
}

/**
 * The agent's side of IMDS. The HTTP surface (`createImdsServer`) validates requests and picks
 * the identity; the backend knows the VMs on the host and where tokens come from. Returning the
 * same {@link ImdsToken} object for a cached token lets the surface reuse its rendered bytes.
 */
export interface ImdsBackend {
  /**
   * The VM whose private address this is (IPv4, IPv6 or IPv4-mapped IPv6 normalised), or
   * undefined. The surface passes addresses through `normaliseAddress` (`::ffff:10.0.0.4` →
   * `10.0.0.4`, IPv6 lower case) and never a header's value. Called on every request: keep it
   * a map lookup.
   */
  vmFor(address: string): AgentVm | undefined;
  /**
   * A token of `identity` of `vm` for `resource`; from cache unless bypassCache. `peer` is the
   * caller's address as {@link ImdsBackend.vmFor} got it, for the audit trail of a token the
   * server issues. Throws AppError (e.g. ServiceUnavailable with retryAfterSeconds when the
   * server is unreachable and nothing is cached; Entra errors passed through). Anything else
   * becomes IMDS's 500.
   */
  token(
    vm: AgentVm,
    identity: AgentIdentity,
    resource: string,
    options: { readonly bypassCache: boolean; readonly peer?: string | undefined },
  ): Promise<ImdsToken>;
  /**
   * Called for every refused or unknown caller, for the audit trail (optional). `reason` is a
   * short phrase (`no VM has this address`); must not throw.
   */
  refused?(address: string, reason: string): void;
  /**
   * The attested document signer (optional; absent → 404 on `/metadata/attested/document`).
   * Returns the base64 PKCS#7 signature IMDS sends as `signature`, over a document naming
   * `vm` and `nonce` (IMDS's timestamp when undefined).
   */
  attest?(vm: AgentVm, nonce: string | undefined): Promise<string>;
}
