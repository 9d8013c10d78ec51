// The agent API between `tessera server` and `tessera agent`: paths, the host's credentials, and the bodies.
//
// Tessera's own protocol (Azure's hosts talk to MSRP/WireServer with private ones). JSON, over
// the server's HTTPS (or HTTP in dev) listener, under {@link AGENT_API_PREFIX}.
//
//   PUT  /agent/v1/hosts/{name}                       operator (ARM bearer token, Owner-like)
//        -> 201/200 CreatedHost: a one-time join token for the host named {name}
//   GET  /agent/v1/hosts                              operator -> 200 HostList
//   GET  /agent/v1/hosts/{nameOrId}                   operator -> 200 HostView (404 unknown)
//   DELETE /agent/v1/hosts/{nameOrId}                 operator -> 200 (204 when a concurrent
//        delete came first, 404 unknown): the host, its certificate and the identity
//        certificates issued to it are gone; its VMs are placed on no host any more
//   POST /agent/v1/register           RegisterRequest -> 200 RegisterResponse (no auth: the join
//        token is the credential; it works once)
//   POST /agent/v1/renew              RenewRequest -> 200 RegisterResponse (host auth: a new host
//        certificate before the current one expires)
//   GET  /agent/v1/vms?after=N&wait=S                 host auth -> 200 VmSync (long-poll)
//   POST /agent/v1/identities/{principalId}/certificate
//                                     CertificateRequest -> 200 CertificateResponse (host auth)
//   POST /agent/v1/identities/certificates
//                                     CertificateBatchRequest -> 200 CertificateBatchResponse
//        (host auth: up to MAX_CERTIFICATE_BATCH identities at once, each answered on its own)
//   POST /agent/v1/token              AgentTokenRequest -> 200 AgentTokenResponse (host auth)
//   POST /agent/v1/attest             AttestRequest -> 200 AttestResponse (host auth)
//   POST /agent/v1/refusals           RefusalReport -> 204 (host auth)
//
// Errors are `{"error":{"code","message"}}` (ARM's shape) with the HTTP status.

/** Where the agent API lives on the server. */
export const AGENT_API_PREFIX = '/agent/v1';

/**
 * The `Authorization` scheme of a host: `TesseraHost <compact JWS>`. The JWS is ES256, signed
 * with the host's private key; its protected header carries `x5c` (the host certificate the
 * server issued at registration, DER base64, one element); its payload is
 * {@link HostAssertionClaims}. The server checks that the certificate is the one it issued to
 * that host (SHA-256 thumbprint recorded at registration), that it was issued by the directory's
 * CA and is current, the signature, `aud` and the times.
 */
export const HOST_AUTH_SCHEME = 'TesseraHost';

/** The `aud` of a host assertion: the server's public URL followed by the prefix. */
export const hostAssertionAudience = (serverUrl: string): string =>
  `${serverUrl.replace(/\/+$/, '')}${AGENT_API_PREFIX}`;

/** The longest a host assertion may live (`exp - iat`), in seconds. */
export const HOST_ASSERTION_MAX_LIFETIME_SECONDS = 600;

/** The claims of a host assertion. */
export interface HostAssertionClaims {
  /** The host id (from {@link RegisterResponse}). */
  readonly sub: string;
  readonly aud: string;
  /** Unix seconds. */
  readonly iat: number;
  /** Unix seconds; at most {@link HOST_ASSERTION_MAX_LIFETIME_SECONDS} after `iat`. */
  readonly exp: number;
}

/** `PUT /hosts/{name}` answer: the join token is shown this once; the server keeps a hash. */
export interface CreatedHost {
  readonly id: string;
  readonly name: string;
  readonly joinToken: string;
}

/**
 * A host as operators see it (`GET /hosts`, `GET /hosts/{nameOrId}`): times as ISO-8601 (null
 * when not yet), and how many VMs and scale-set instances name it in `properties.tessera.hostId`.
 * Never the join token's hash nor the certificate's thumbprint.
 */
export interface HostView {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly registeredAt: string | null;
  readonly lastSeenAt: string | null;
  readonly certificateNotAfter: string | null;
  readonly vmCount: number;
}

/** `GET /hosts`: every host, sorted by name (code-unit order). */
export interface HostList {
  readonly value: readonly HostView[];
}

/** `POST /register`. */
export interface RegisterRequest {
  readonly joinToken: string;
  /** PKCS#10 PEM for the host's EC P-256 key; the subject is ignored. */
  readonly csr: string;
}

export interface RegisterResponse {
  readonly hostId: string;
  readonly hostName: string;
  /** The host certificate, PEM, issued by the directory's CA. */
  readonly certificate: string;
  /** Unix milliseconds. The agent registers again (new join token) after this. */
  readonly certificateNotAfter: number;
  /** The directory's CA certificates, PEM, to check what the server issues. */
  readonly caCertificates: readonly string[];
}

/** `POST /renew`: a new host certificate for the calling host; the current one stops working. */
export interface RenewRequest {
  /** PKCS#10 PEM for the host's (new or same) EC P-256 key; the subject is ignored. */
  readonly csr: string;
}

/** One identity of a VM, as the agent needs it to pick and to request tokens. */
export interface AgentIdentity {
  readonly kind: 'SystemAssigned' | 'UserAssigned';
  /** Object id: token `oid`, IMDS `object_id`. */
  readonly principalId: string;
  /** App id: token `appid`, IMDS `client_id`. */
  readonly clientId: string;
  readonly tenantId: string;
  /** The identity's ARM id: the VM or scale set (system-assigned) or the UAI; IMDS `msi_res_id`. */
  readonly resourceId: string;
}

/** A VM (or scale-set instance) placed on the host: what IMDS answers from. */
export interface AgentVm {
  /** ARM id of the VM or the instance (original case). */
  readonly id: string;
  /** `properties.vmId`: a GUID fixed at creation (IMDS `compute.vmId`). */
  readonly vmId: string;
  readonly kind: 'vm' | 'scaleSetInstance';
  /** The VM's name; for an instance `{scaleSet}_{instanceId}` (IMDS `compute.name`). */
  readonly name: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly tags: Readonly<Record<string, string>>;
  /** For an instance: the scale set's name (IMDS `compute.vmScaleSetName`); '' for a VM. */
  readonly scaleSetName: string;
  /** `properties.hardwareProfile.vmSize` as recorded, or ''. */
  readonly vmSize: string;
  /** `properties.storageProfile.osDisk.osType` as recorded, or ''. */
  readonly osType: string;
  /** The private addresses the agent recognises the VM by (source address of IMDS calls). */
  readonly addresses: readonly string[];
  /** System-assigned first (when any), then user-assigned in attachment order. */
  readonly identities: readonly AgentIdentity[];
  /** Set when the deprecated managed-identity extension is installed: the shim's port. */
  readonly legacyShimPort?: number;
}

/**
 * `GET /vms?after=N&wait=S`. `after` is the position the agent last saw (0 at start), `wait` how
 * many seconds (0-60, default 0) the server may hold the request while nothing changed.
 * `full: true` means `vms` is every VM on the host and anything else the agent knows is gone (at
 * start, or when `after` fell out of the retained feed); otherwise `vms` are the VMs that changed
 * and `removed` the ids that left the host or were deleted.
 */
export interface VmSync {
  /** Pass it as `after` next time. */
  readonly position: number;
  readonly full: boolean;
  readonly vms: readonly AgentVm[];
  readonly removed: readonly string[];
}

/** The longest `wait` of {@link VmSync}, in seconds. */
export const VM_SYNC_MAX_WAIT_SECONDS = 60;

/** `POST /identities/{principalId}/certificate`. */
export interface CertificateRequest {
  /** PKCS#10 PEM for an EC P-256 key made on the host for this identity. */
  readonly csr: string;
}

/**
 * The certificate is issued only while the identity is attached to a VM on the calling host,
 * and is bound to that host; it authenticates the identity at the token endpoint.
 */
export interface CertificateResponse {
  /** PEM. Its `x5t#S256` names it in client assertions. */
  readonly certificate: string;
  /** Unix milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The most CSRs one `POST /identities/certificates` may carry. */
export const MAX_CERTIFICATE_BATCH = 100;

/** One identity's CSR in a {@link CertificateBatchRequest}. */
export interface CertificateBatchItem extends CertificateRequest {
  readonly principalId: string;
}

/**
 * `POST /identities/certificates`: certificates for several identities at once (1 to
 * {@link MAX_CERTIFICATE_BATCH}, each principal once), each checked and issued exactly as by
 * `POST /identities/{principalId}/certificate`. A malformed list is refused whole (400); a CSR
 * or an identity that cannot be certified gets its own error in the answer.
 */
export interface CertificateBatchRequest {
  readonly requests: readonly CertificateBatchItem[];
}

/**
 * One identity's answer: the certificate, or the error (the single route's status and body
 * `error` member) it would have been refused with.
 */
export type CertificateBatchResult =
  | ({ readonly principalId: string } & CertificateResponse)
  | {
      readonly principalId: string;
      readonly status: number;
      readonly error: { readonly code: string; readonly message: string; readonly target?: string };
    };

/** The answers, in the order of the request. */
export interface CertificateBatchResponse {
  readonly results: readonly CertificateBatchResult[];
}

/**
 * `POST /token`: a token for `resource` for an identity of VM `vmId`, for the calling host, which
 * names the identity one of two ways:
 * - `clientId`: the host's session stands for the identity's key; the host must hold a current
 *   certificate for the identity (one indexed read instead of a signature check per token);
 * - `clientAssertion` (agents before 2026-12): a client assertion (RFC 7523) the agent signs with
 *   the identity's key (ES256, header `x5t#S256` of the identity's certificate, `iss` = `sub` =
 *   the client id, `aud` the tenant's v1 token endpoint `{serverUrl}/{tenantId}/oauth2/token`).
 * Either way the server checks that the VM is on the calling host and has the identity, then
 * issues as the token endpoint does, recording the VM and host (`xms_az_rid`, audit).
 */
export type AgentTokenRequest = {
  /** ARM id of the VM or instance asking. */
  readonly vmId: string;
  /** The IMDS `resource`, verbatim (becomes `aud`). */
  readonly resource: string;
  /** The calling VM's source address, for the audit trail. */
  readonly peer?: string;
} & (
  | { readonly clientId: string; readonly clientAssertion?: never }
  | { readonly clientAssertion: string; readonly clientId?: never }
);

/** The token and its times, as IMDS needs them (all times unix seconds). */
export interface AgentTokenResponse {
  readonly accessToken: string;
  readonly clientId: string;
  readonly resource: string;
  readonly expiresOn: number;
  readonly notBefore: number;
}

/**
 * `POST /attest`: IMDS's attested document for VM `vmId` (ARM id) on the calling host (403
 * otherwise). The server signs the document JSON (`nonce`, `plan`, `timeStamp`, `vmId`,
 * `licenseType`, `subscriptionId`, `sku`; Azure's fields) as CMS SignedData with a key its
 * directory CA certified (`CN=metadata.tessera`), certificates [signer, CA].
 */
export interface AttestRequest {
  readonly vmId: string;
  /** The IMDS `nonce`; absent → the server's `yyyyMMdd-HHmmss` UTC timestamp, as IMDS does. */
  readonly nonce?: string;
}

export interface AttestResponse {
  /** base64 DER ContentInfo (CMS SignedData, content attached): IMDS's `signature`. */
  readonly signature: string;
}

/** Most entries one `POST /refusals` may carry. */
export const REFUSALS_MAX_ENTRIES = 256;

/**
 * `POST /refusals` with host auth: callers IMDS refused (an address that maps to no VM, an
 * address two VMs claim), for the server's audit log. The agent batches them, one entry per
 * (address, reason) with how often and when (epoch ms, agent clock). Answer 204; the server writes
 * one audit event per entry (`kind` {@link IMDS_REFUSAL_AUDIT_KIND}, `outcome` `refused`).
 */
export interface RefusalReport {
  readonly refusals: readonly ReportedRefusal[];
}

export interface ReportedRefusal {
  /** The caller's source address as the agent's socket saw it (an IPv4 or IPv6 literal). */
  readonly address: string;
  readonly reason: string;
  /** Requests refused for this address and reason since the previous report (>= 1). */
  readonly count: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** The audit `kind` of an IMDS refusal reported by an agent. */
export const IMDS_REFUSAL_AUDIT_KIND = 'imds.refused';
