// The ports the domain depends on: the store, the clock and id generation.

import type {
  ActivityEvent,
  AuditEvent,
  CertificateAuthority,
  Credential,
  EpochMs,
  Host,
  IdentityAttachment,
  Principal,
  Resource,
  RoleAssignment,
  RoleDefinition,
  SigningKey,
  SigningKeyStatus,
  Tenant,
  VaultSecretVersion,
} from './model.js';
import type { InstallationStore } from './installation.js';
import type { ReplicaCoordination } from './replicas.js';

/** The time source. Core code never reads the system clock directly. */
export interface Clock {
  now(): EpochMs;
}

/** A page request: at most `limit` items after the opaque `cursor` of a previous page. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** A page of results; `nextCursor` is absent on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

export interface TenantStore {
  /** Fails with a 409 `Conflict` if the id exists. */
  create(tenant: Tenant): Promise<void>;
  get(id: string): Promise<Tenant | undefined>;
  getDefault(): Promise<Tenant | undefined>;
  list(): Promise<readonly Tenant[]>;
}

export interface PrincipalUpdate {
  readonly displayName?: string;
  readonly enabled?: boolean;
  readonly alternativeNames?: readonly string[];
}

export interface PrincipalStore {
  /** Fails with a 409 `Conflict` if the object id or app id exists. */
  create(principal: Principal): Promise<void>;
  get(objectId: string): Promise<Principal | undefined>;
  getByAppId(appId: string): Promise<Principal | undefined>;
  /** The principals among `objectIds` that exist, in no particular order. */
  getMany(objectIds: readonly string[]): Promise<readonly Principal[]>;
  /** Finds the principal whose alternative names contain `armId` (compared case-insensitively). */
  getByAlternativeName(armId: string): Promise<Principal | undefined>;
  /** Returns the updated principal, or undefined if there is none. */
  update(objectId: string, patch: PrincipalUpdate, at: EpochMs): Promise<Principal | undefined>;
  /** Deletes the principal and, by cascade, its credentials and attachments. */
  delete(objectId: string): Promise<boolean>;
  list(tenantId: string, page: PageRequest): Promise<Page<Principal>>;
}

export interface CredentialStore {
  add(credential: Credential): Promise<void>;
  get(id: string): Promise<Credential | undefined>;
  listForPrincipal(principalId: string): Promise<readonly Credential[]>;
  getByThumbprint(
    kind: 'sha1' | 'sha256',
    principalId: string,
    thumbprint: string,
  ): Promise<Credential | undefined>;
  /**
   * The credential an assertion names (as getByThumbprint) and whether it stands for something:
   * issued to no host, or its identity attached on its host (AttachmentStore.isAttachedOnHost).
   */
  getForAssertion(
    kind: 'sha1' | 'sha256',
    principalId: string,
    thumbprint: string,
  ): Promise<{ readonly credential: Credential; readonly attached: boolean } | undefined>;
  /** The principal's unrevoked certificate issued to `hostId` valid longest after `now`. */
  currentOnHost(principalId: string, hostId: string, now: EpochMs): Promise<Credential | undefined>;
  revoke(id: string): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Removes credentials whose `notAfter` is before `before`; returns how many. */
  deleteExpired(before: EpochMs): Promise<number>;
  /**
   * Revokes every certificate issued to one of `hostIds` whose identity is no longer attached on
   * that host (see {@link AttachmentStore.isAttachedOnHost}), or to any host of `hostIds` that no
   * longer exists; returns how many. The store runs it at the end of every transaction that
   * recorded a compute change, with the hosts the change feed named.
   */
  revokeUnattached(hostIds: readonly string[]): Promise<number>;
}

export interface ResourceQuery {
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  readonly type?: string;
  /** Any of these types (case-insensitive); with `type`, both must hold. */
  readonly types?: readonly string[];
  /** The resource's own name, compared case-insensitively (ASCII). */
  readonly name?: string;
}

/** The condition a {@link ResourceStore.put} writes under (optimistic concurrency). */
export interface PutCondition {
  /**
   * `undefined` (the default): write whatever is there. `null`: only if no resource has the id
   * (a create). A string: only if the stored resource's `etag` is exactly this.
   */
  readonly ifMatch?: string | null;
}

export interface ResourceStore {
  /**
   * Creates or replaces a resource; returns whether it was created and its new `etag` (a fresh
   * opaque value on every write; the `etag` of the argument is ignored). Ids compare
   * case-insensitively. When `condition.ifMatch` does not hold, writes nothing and fails with
   * `PreconditionFailed` (412).
   */
  put(resource: Resource, condition?: PutCondition): Promise<{ created: boolean; etag: string }>;
  get(id: string): Promise<Resource | undefined>;
  list(query: ResourceQuery, page: PageRequest): Promise<Page<Resource>>;
  delete(id: string): Promise<boolean>;
  /** Deletes every resource whose id starts with `prefix + '/'` (case-insensitive); returns how many. */
  deleteUnder(prefix: string): Promise<number>;
  /**
   * Pages through the resources whose id starts with `prefix + '/'` (case-insensitive; not the
   * resource at `prefix` itself), in id order: what {@link ResourceStore.deleteUnder} would delete.
   */
  listUnder(prefix: string, page: PageRequest): Promise<Page<Resource>>;
  /**
   * The VMs and scale-set instances placed on host `hostId` (`properties.tessera.hostId`, compared
   * exactly), in id order: one indexed read of that host's share.
   */
  listPlacedOn(hostId: string, page: PageRequest): Promise<Page<Resource>>;
}

/** One entry of the change feed: a VM or scale-set instance whose state changed, on one host. */
export interface ComputeChange {
  /** Grows with every entry, in commit order. */
  readonly seq: number;
  readonly at: EpochMs;
  /** The VM or scale-set instance id (original case). */
  readonly resourceId: string;
  /** The host it is on, or was on before the change; null when it is on none. */
  readonly hostId: string | null;
}

/**
 * What changed, for agents: "which VMs on my host changed since N". Entries name a VM (or
 * instance) and a host; the agent re-reads the VM's current state, so one entry per change is
 * enough whatever changed (placement, identities, extensions, role assignments).
 */
export interface ChangeFeed {
  /**
   * Appends entries in the caller's transaction. Sequence numbers are assigned in commit order:
   * once a reader has seen N, no entry below N appears later (writers serialize on the feed).
   */
  append(entries: readonly Omit<ComputeChange, 'seq'>[]): Promise<void>;
  /** Entries after `afterSeq` for `hostId`, oldest first, at most `limit`. */
  since(hostId: string, afterSeq: number, limit: number): Promise<readonly ComputeChange[]>;
  /**
   * The oldest retained and the newest sequence numbers (both 0 when empty). A reader whose
   * position is below `oldest - 1` has missed purged entries and must read everything again.
   */
  bounds(): Promise<{ oldest: number; latest: number }>;
  /** Drops entries recorded before `before`, keeping the newest; returns how many. */
  purgeBefore(before: EpochMs): Promise<number>;
}

export interface AttachmentStore {
  /** Idempotent: attaching an attached identity again changes nothing. */
  attach(attachment: IdentityAttachment): Promise<void>;
  detach(resourceId: string, principalId: string): Promise<boolean>;
  listForResource(resourceId: string): Promise<readonly IdentityAttachment[]>;
  /** listForResource for every resource of `resourceIds` (case-insensitive ids), in one read. */
  listForResources(resourceIds: readonly string[]): Promise<readonly IdentityAttachment[]>;
  listForPrincipal(principalId: string): Promise<readonly IdentityAttachment[]>;
  /** Whether `principalId` is attached to `resourceId` (case-insensitive): one point read. */
  isAttached(resourceId: string, principalId: string): Promise<boolean>;
  /**
   * Whether `principalId` is attached to a VM placed on the registered host `hostId`, or to a
   * scale set with an instance there: one indexed read, at every mint with a host's certificate.
   */
  isAttachedOnHost(principalId: string, hostId: string): Promise<boolean>;
}

export interface AssignmentQuery {
  readonly principalId?: string;
  /** Assignments at this scope or below it (case-insensitive). */
  readonly scopeUnder?: string;
  /** Assignments at exactly this scope (case-insensitive). */
  readonly scope?: string;
  readonly roleDefinitionId?: string;
}
export interface RoleStore {
  /** Fails with `Conflict` (409) when another definition has the name (case-insensitive). */
  putDefinition(definition: RoleDefinition): Promise<{ created: boolean }>;
  getDefinition(id: string): Promise<RoleDefinition | undefined>;
  listDefinitions(): Promise<readonly RoleDefinition[]>;
  deleteDefinition(id: string): Promise<boolean>;
  /** Fails with a 409 `Conflict` if the id exists, or the same principal/role/scope exists. */
  createAssignment(assignment: RoleAssignment): Promise<void>;
  getAssignment(id: string): Promise<RoleAssignment | undefined>;
  deleteAssignment(id: string): Promise<boolean>;
  listAssignments(query: AssignmentQuery, page: PageRequest): Promise<Page<RoleAssignment>>;
  /**
   * Every assignment of any of `principalIds` whose scope is exactly one of `scopes` (compared
   * case-insensitively, as given: pass scopes without a trailing slash, `/` for the root), in no
   * particular order. One indexed query: this is what an access check reads, with the scopes
   * above the target (see `ancestorScopes` in core/rbac). Empty input gives an empty result.
   */
  listAssignmentsForPrincipalAtScopes(
    principalIds: readonly string[],
    scopes: readonly string[],
  ): Promise<readonly RoleAssignment[]>;
}

export interface SigningKeyStore {
  add(key: SigningKey): Promise<void>;
  get(kid: string): Promise<SigningKey | undefined>;
  /** Keys not yet past `expiresAt`, newest first. */
  listPublished(at: EpochMs): Promise<readonly SigningKey[]>;
  setStatus(
    kid: string,
    status: SigningKeyStatus,
    times: { retiresAt?: EpochMs | null; expiresAt?: EpochMs | null },
  ): Promise<boolean>;
  delete(kid: string): Promise<boolean>;
  /**
   * Inside a transaction: waits until no other transaction holds the signing keys' lock, then
   * holds it until this one ends. A rotation takes it before it reads the keys, so what it read
   * is still what its writes replace when it commits, on every replica.
   */
  lockForRotation(): Promise<void>;
}

export interface CertificateAuthorityStore {
  /** Fails with a 409 `Conflict` if the id exists. */
  add(ca: CertificateAuthority): Promise<void>;
  get(id: string): Promise<CertificateAuthority | undefined>;
  /** The CA valid at `at` with the latest `notAfter` (ties: newest `createdAt`), if any. */
  current(at: EpochMs): Promise<CertificateAuthority | undefined>;
  /** Every CA, newest first. */
  list(): Promise<readonly CertificateAuthority[]>;
}

/**
 * Remembers client-assertion ids (`jti`) until their assertion expires, so a replayed assertion is
 * refused by every replica (RFC 7523 section 3, item 7).
 */
export interface AssertionReplayStore {
  /**
   * Records `jti` for `clientId` until `expiresAt`. Returns false if it was already recorded and
   * has not expired (a replay). Atomic: of two concurrent claims exactly one returns true.
   */
  claim(clientId: string, jti: string, expiresAt: EpochMs, at: EpochMs): Promise<boolean>;
  /** Forgets ids that expired before `before`; returns how many. */
  purgeExpired(before: EpochMs): Promise<number>;
}

export interface HostStore {
  create(host: Host): Promise<void>;
  get(id: string): Promise<Host | undefined>;
  getByName(name: string): Promise<Host | undefined>;
  update(
    id: string,
    patch: Partial<
      Pick<
        Host,
        | 'joinTokenHash'
        | 'certificateThumbprint'
        | 'certificateNotAfter'
        | 'registeredAt'
        | 'lastSeenAt'
      >
    >,
  ): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Every host, by name. */
  list(): Promise<readonly Host[]>;
  /**
   * How many VMs and scale-set instances name each host in `properties.tessera.hostId`, in one
   * aggregate read of the resources (host ids as stored; hosts with none are absent).
   */
  countVms(): Promise<ReadonlyMap<string, number>>;
}

export interface SecretVersionUpdate {
  readonly contentType?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
  readonly enabled?: boolean;
  readonly notBefore?: EpochMs | null;
  readonly expiresAt?: EpochMs | null;
  readonly updatedAt: EpochMs;
}

export interface VaultSecretStore {
  addVersion(secret: VaultSecretVersion): Promise<void>;
  getVersion(
    vaultId: string,
    name: string,
    version: string,
  ): Promise<VaultSecretVersion | undefined>;
  /** The newest version (by creation) of a secret, deleted or not. */
  getLatest(vaultId: string, name: string): Promise<VaultSecretVersion | undefined>;
  /** The latest version of each secret, by name. */
  listLatest(
    vaultId: string,
    options: { deleted: boolean },
    page: PageRequest,
  ): Promise<Page<VaultSecretVersion>>;
  listVersions(vaultId: string, name: string, page: PageRequest): Promise<Page<VaultSecretVersion>>;
  updateVersion(
    vaultId: string,
    name: string,
    version: string,
    patch: SecretVersionUpdate,
  ): Promise<VaultSecretVersion | undefined>;
  /** Marks every version of a secret deleted (or, with `null`, recovered). */
  setDeleted(
    vaultId: string,
    name: string,
    deletion: { deletedAt: EpochMs; scheduledPurgeAt: EpochMs } | null,
  ): Promise<number>;
  /** Removes every version of a secret for good. */
  purge(vaultId: string, name: string): Promise<number>;
  /** Removes every secret of a vault for good (the vault is deleted); returns the versions removed. */
  purgeVault(vaultId: string): Promise<number>;
  /** Removes every deleted secret whose scheduled purge time is at or before `now`. */
  purgeDue(now: EpochMs): Promise<number>;
}

export interface AuditQuery {
  readonly principalId?: string;
  /** Events at or after this time. */
  readonly since?: EpochMs;
  readonly outcome?: AuditEvent['outcome'];
  /** Events of exactly this kind (`token`, …), compared as stored. */
  readonly kind?: string;
}

export interface AuditLog {
  /** Appends `event`, its strings cut to the bounds of `core/audit/bounds.ts` (marked where cut). */
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery, page: PageRequest): Promise<Page<AuditEvent>>;
  /**
   * Deletes at most `limit` of the oldest events that are older than `before` or not among the
   * newest `keep` (counted by insertion order: ids lost to rolled-back inserts count too, so at
   * most `keep` remain). Returns how many it deleted; call again while that equals `limit`.
   * Idempotent, and safe while other replicas do the same.
   */
  prune(policy: AuditRetention, limit: number): Promise<number>;
}

/** What the audit log keeps: events newer than `before`, and at most the newest `keep`. */
export interface AuditRetention {
  readonly before: EpochMs;
  readonly keep: number;
}

/**
 * An Activity Log query: one subscription's events from `from` to `to` (inclusive), narrowed by
 * each filter given; ids, groups, namespaces compare case-insensitively, `resourceId` exactly.
 */
export interface ActivityQuery {
  readonly subscriptionId: string;
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly resourceGroup?: string;
  readonly resourceId?: string;
  /** A provider namespace, e.g. `Microsoft.Compute`. */
  readonly resourceProvider?: string;
  readonly correlationId?: string;
  /** Compared case-insensitively (a UPN or an object id). */
  readonly caller?: string;
  /** Compared case-insensitively (`succeeded`). */
  readonly status?: string;
}

/** ARM's Activity Log: the Begin and End events of every ARM write, delete and action. */
export interface ActivityLog {
  /**
   * Appends `events` in one statement, their strings cut to the bounds of
   * `core/audit/activity-bounds.ts`. Nothing is written for an empty list. Fails with a 409
   * `Conflict`, writing none of them, if an `eventDataId` exists.
   */
  append(events: readonly ActivityEvent[]): Promise<void>;
  /** Newest first (ties: the later appended first), one page from `page.cursor` on. */
  query(q: ActivityQuery, page: PageRequest): Promise<Page<ActivityEvent>>;
  /** As {@link AuditLog.prune}, on the activity log's own rows. */
  prune(policy: AuditRetention, limit: number): Promise<number>;
}

/** An assertion id to claim when a token is issued (see {@link AssertionReplayStore.claim}). */
export interface ReplayClaim {
  readonly clientId: string;
  readonly jti: string;
  readonly expiresAt: EpochMs;
}

/**
 * The token issuer's write path: what must be durable before a token is released. Calls that
 * arrive together are committed together (group commit), so the cost of a commit is shared.
 */
export interface IssueLedger {
  /**
   * Atomically claims `replay` (when given) and appends `event`. Resolves false, and writes
   * nothing, if the assertion id was already claimed and has not expired (a replay).
   */
  recordIssue(event: AuditEvent, replay: ReplayClaim | undefined, at: EpochMs): Promise<boolean>;
}

/** Everything the domain persists. Every method is atomic on its own. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly tenants: TenantStore;
  readonly principals: PrincipalStore;
  readonly credentials: CredentialStore;
  readonly resources: ResourceStore;
  readonly attachments: AttachmentStore;
  readonly changes: ChangeFeed;
  readonly roles: RoleStore;
  readonly signingKeys: SigningKeyStore;
  readonly certificateAuthorities: CertificateAuthorityStore;
  readonly assertionReplay: AssertionReplayStore;
  readonly hosts: HostStore;
  readonly vaultSecrets: VaultSecretStore;
  readonly audit: AuditLog;
  readonly activity: ActivityLog;
  readonly installation: InstallationStore;
  readonly issueLedger: IssueLedger;
  /** Coordination with other replicas sharing the database (see core/replicas.ts). */
  readonly replicas: ReplicaCoordination;
  /** Runs `work` in one transaction (all its writes land, or none); nested calls join it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Releases connections. The store is unusable afterwards. */
  close(): Promise<void>;
}
