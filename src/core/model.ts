// The records Tessera keeps: what the store persists and the domain passes around.

/** Milliseconds since the Unix epoch (UTC). Every stored instant uses this unit. */
export type EpochMs = number;

/** A directory tenant (an Entra ID tenant). */
export interface Tenant {
  readonly id: string;
  readonly displayName: string;
  readonly isDefault: boolean;
  readonly createdAt: EpochMs;
}

export type PrincipalType = 'ManagedIdentity' | 'Application';

/** A service principal: what a token's `oid`/`appid` name. */
export interface Principal {
  /** Object id: `principalId` in ARM, `oid` and `sub` in tokens. */
  readonly objectId: string;
  /** Application id: `clientId` in ARM, `appid` in tokens. */
  readonly appId: string;
  readonly tenantId: string;
  readonly displayName: string;
  readonly type: PrincipalType;
  /** For a managed identity: its ARM resource id (as given, original case). */
  readonly alternativeNames: readonly string[];
  readonly enabled: boolean;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
}

export type CredentialKind = 'certificate' | 'secret';

/** A credential a principal authenticates with at the token endpoint. */
export interface Credential {
  readonly id: string;
  readonly principalId: string;
  readonly kind: CredentialKind;
  /** Certificates: base64url SHA-1 of the DER (`x5t`). */
  readonly thumbprintSha1: string | null;
  /** Certificates: base64url SHA-256 of the DER (`x5t#S256`). */
  readonly thumbprintSha256: string | null;
  /** Certificates: the DER, base64. Public material. */
  readonly certificate: string | null;
  /** Secrets: a slow hash (never the secret). */
  readonly secretHash: string | null;
  /** Secrets: the first characters, shown to operators to tell secrets apart. */
  readonly hint: string | null;
  /** The host a certificate was issued to, when issued to an agent. */
  readonly hostId: string | null;
  readonly notBefore: EpochMs;
  readonly notAfter: EpochMs;
  readonly revoked: boolean;
  readonly createdAt: EpochMs;
}

/** An ARM resource, including subscriptions and resource groups. */
export interface Resource {
  /** The ARM id in the case it was created with. Compared case-insensitively. */
  readonly id: string;
  /** The resource type, e.g. `Microsoft.Compute/virtualMachines`. */
  readonly type: string;
  readonly name: string;
  readonly subscriptionId: string;
  /** Null for subscriptions and tenant-level resources. */
  readonly resourceGroup: string | null;
  readonly location: string | null;
  readonly tags: Readonly<Record<string, string>>;
  /** The type-specific `properties` object, as ARM shows it. */
  readonly properties: Readonly<Record<string, unknown>>;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
  /**
   * Changes on every write (store-assigned; ignored when writing). ARM's `etag` where the
   * envelope has one, and the version every read-modify-write checks before it writes.
   */
  readonly etag?: string;
}

export type AttachmentKind = 'SystemAssigned' | 'UserAssigned';

/** An identity attached to a compute resource (VM or scale set). */
export interface IdentityAttachment {
  /** The compute resource (VM or scale set) id. */
  readonly resourceId: string;
  readonly principalId: string;
  readonly kind: AttachmentKind;
  /** The identity's own ARM id: the VM for system-assigned, the UAI for user-assigned. */
  readonly identityResourceId: string;
  readonly createdAt: EpochMs;
}

/** One permission block of a role definition, with ARM's field names. */
export interface Permission {
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly dataActions: readonly string[];
  readonly notDataActions: readonly string[];
}

export interface RoleDefinition {
  /** The role's GUID (ARM `name`). */
  readonly id: string;
  readonly roleName: string;
  readonly type: 'BuiltInRole' | 'CustomRole';
  readonly description: string;
  readonly assignableScopes: readonly string[];
  readonly permissions: readonly Permission[];
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
}

export interface RoleAssignment {
  /** The assignment's GUID (ARM `name`). */
  readonly id: string;
  /** The scope in the case it was created with. */
  readonly scope: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
  readonly principalType: string;
  readonly createdAt: EpochMs;
  readonly createdBy: string | null;
}

export type SigningKeyStatus = 'next' | 'active' | 'retired';

/** A token-signing key. The private key is held encrypted at rest. */
export interface SigningKey {
  readonly kid: string;
  readonly algorithm: 'RS256';
  /** Public JWK (JSON), including `x5c` and `x5t`. */
  readonly publicJwk: Readonly<Record<string, unknown>>;
  /** PKCS#8 PEM. Secret. */
  readonly privateKeyPem: string;
  readonly status: SigningKeyStatus;
  /** When the key starts signing. */
  readonly activatesAt: EpochMs;
  /** When the key stops signing (becomes retired). */
  readonly retiresAt: EpochMs | null;
  /** When the key leaves the published set. */
  readonly expiresAt: EpochMs | null;
  readonly createdAt: EpochMs;
}

/** The directory's certificate authority: it signs principals' and hosts' certificates. */
export interface CertificateAuthority {
  readonly id: string;
  /** The CA certificate, DER in base64. Public. */
  readonly certificate: string;
  /** PKCS#8 PEM. Secret: sealed at rest. */
  readonly privateKeyPem: string;
  readonly notBefore: EpochMs;
  readonly notAfter: EpochMs;
  readonly createdAt: EpochMs;
}

/** A host that runs an agent. */
export interface Host {
  readonly id: string;
  readonly name: string;
  /** A slow hash of the one-time join token, until it is used. */
  readonly joinTokenHash: string | null;
  /** base64url SHA-256 of the host certificate's DER, once registered. */
  readonly certificateThumbprint: string | null;
  readonly registeredAt: EpochMs | null;
  readonly lastSeenAt: EpochMs | null;
  readonly createdAt: EpochMs;
  /**
   * When the host certificate last issued (registration or renewal) expires. Null until the host
   * registers, and for hosts last certified before this was recorded; the store always sets it
   * when reading, a new host may leave it out.
   */
  readonly certificateNotAfter?: EpochMs | null;
}

/** One version of a Key Vault secret. `value` is secret and encrypted at rest. */
export interface VaultSecretVersion {
  readonly vaultId: string;
  readonly name: string;
  /** 32 lower-case hex characters. */
  readonly version: string;
  readonly value: string;
  readonly contentType: string | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly enabled: boolean;
  readonly notBefore: EpochMs | null;
  readonly expiresAt: EpochMs | null;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
  /** Set when the secret (all its versions) is soft-deleted. */
  readonly deletedAt: EpochMs | null;
  readonly scheduledPurgeAt: EpochMs | null;
}

/** `recorded`: a change worth an operator's attention (a deprecated extension installed). */
export type AuditOutcome = 'issued' | 'refused' | 'recorded';

/** One audit record: a token issued, a request refused and why, or a notable change. Never holds a token. */
export interface AuditEvent {
  readonly id: string;
  readonly at: EpochMs;
  readonly kind: string;
  readonly outcome: AuditOutcome;
  readonly tenantId: string | null;
  readonly principalId: string | null;
  readonly resource: string | null;
  readonly vmId: string | null;
  readonly hostId: string | null;
  /** The issued token's `uti`, never the token. */
  readonly tokenId: string | null;
  readonly reason: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Which half of an ARM operation an activity event records. */
export type ActivityEventName = 'BeginRequest' | 'EndRequest';

/** An activity event's status: `Started` on the Begin event, the outcome on the End event. */
export type ActivityStatus = 'Started' | 'Succeeded' | 'Failed';

/** An activity event's severity, as Azure Monitor names them. */
export type ActivityLevel = 'Critical' | 'Error' | 'Warning' | 'Informational' | 'Verbose';

/**
 * One event of ARM's Activity Log (one Azure Monitor `EventData`, category Administrative): the
 * start or the end of one ARM write, delete or action. Strings are bounded when stored
 * (`core/audit/activity-bounds.ts`); the request and response bodies are never kept.
 */
export interface ActivityEvent {
  /** The event's own GUID (`eventDataId`). */
  readonly eventDataId: string;
  /** The operation's GUID, shared by its Begin and End events. */
  readonly operationId: string;
  readonly at: EpochMs;
  readonly subscriptionId: string;
  readonly tenantId: string;
  /** Null for operations above any resource group (the subscription itself). */
  readonly resourceGroup: string | null;
  /** The scope the operation addressed, in the case it was sent. */
  readonly resourceId: string;
  /** E.g. `Microsoft.Compute/virtualMachines`. */
  readonly resourceType: string;
  /** The provider namespace, e.g. `Microsoft.Compute`. */
  readonly resourceProvider: string;
  /** The RBAC action, e.g. `Microsoft.Compute/virtualMachines/write`. */
  readonly operationName: string;
  readonly eventName: ActivityEventName;
  readonly status: ActivityStatus;
  /** The response's status; null on the Begin event. */
  readonly httpStatus: number | null;
  readonly level: ActivityLevel;
  readonly callerObjectId: string;
  readonly callerAppId: string | null;
  /** As Azure shows the caller: the UPN of a user, else the principal's object id. */
  readonly caller: string;
  readonly correlationId: string;
  readonly clientRequestId: string | null;
  /** ARM's `x-ms-request-id` of the request. */
  readonly serviceRequestId: string;
  readonly method: string;
  readonly uri: string | null;
  readonly clientIp: string | null;
  /** The caller's token claims, every value a string (`"iat": "1421876371"`), as Azure shows them. */
  readonly claims: Readonly<Record<string, string>>;
}
