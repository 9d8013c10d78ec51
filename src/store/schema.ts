// The database schema as Kysely sees it: one interface per table, column names in snake_case.

import type { Generated } from 'kysely';

/** Booleans are stored as 0/1 integers on both dialects so both behave the same. */
export type Flag = 0 | 1;

export interface TenantsTable {
  id: string;
  display_name: string;
  is_default: Flag;
  created_at: number;
}

export interface PrincipalsTable {
  object_id: string;
  app_id: string;
  tenant_id: string;
  display_name: string;
  type: string;
  /** JSON array of strings, original case. */
  alternative_names: string;
  /** JSON array of lower-cased alternative names, for case-insensitive lookup. */
  alternative_keys: string;
  enabled: Flag;
  created_at: number;
  updated_at: number;
}

export interface CredentialsTable {
  id: string;
  principal_id: string;
  kind: string;
  thumbprint_sha1: string | null;
  thumbprint_sha256: string | null;
  certificate: string | null;
  secret_hash: string | null;
  hint: string | null;
  host_id: string | null;
  not_before: number;
  not_after: number;
  revoked: Flag;
  created_at: number;
}

export interface ResourcesTable {
  /** Lower-cased id: the key ids are compared by. */
  id_key: string;
  id: string;
  type_key: string;
  type: string;
  name: string;
  subscription_key: string;
  subscription_id: string;
  resource_group_key: string | null;
  resource_group: string | null;
  location: string | null;
  tags: string;
  properties: string;
  created_at: number;
  updated_at: number;
  /** Null only for rows written before migration 0005 set it. */
  etag: string | null;
  /** Migration 0008: the host a VM or scale-set instance is placed on; null otherwise. */
  host_id: string | null;
  /** Migration 0008: lower-cased id of the VM or scale set whose identities it has; null otherwise. */
  holder_key: string | null;
}

export interface ComputeChangesTable {
  seq: Generated<number>;
  at: number;
  resource_id: string;
  host_id: string | null;
}

export interface IdentityAttachmentsTable {
  resource_key: string;
  resource_id: string;
  principal_id: string;
  kind: string;
  identity_resource_id: string;
  created_at: number;
}

export interface RoleDefinitionsTable {
  id: string;
  role_name: string;
  type: string;
  description: string;
  assignable_scopes: string;
  permissions: string;
  created_at: number;
  updated_at: number;
}

export interface RoleAssignmentsTable {
  id: string;
  scope: string;
  scope_key: string;
  role_definition_id: string;
  principal_id: string;
  principal_type: string;
  created_at: number;
  created_by: string | null;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  public_jwk: string;
  /** Sealed with the master key (see column-cipher.ts). */
  private_key: string;
  status: string;
  activates_at: number;
  retires_at: number | null;
  expires_at: number | null;
  created_at: number;
}

export interface CertificateAuthoritiesTable {
  id: string;
  /** DER, base64. */
  certificate: string;
  /** Sealed with the master key (see column-cipher.ts). */
  private_key: string;
  not_before: number;
  not_after: number;
  created_at: number;
}

export interface AssertionReplayTable {
  client_id: string;
  jti: string;
  expires_at: number;
}

export interface HostsTable {
  id: string;
  name: string;
  join_token_hash: string | null;
  certificate_thumbprint: string | null;
  registered_at: number | null;
  last_seen_at: number | null;
  created_at: number;
  /** Added by migration 0007: null for hosts not (re)certified since. */
  certificate_not_after: number | null;
}

export interface VaultSecretsTable {
  vault_key: string;
  name_key: string;
  name: string;
  version: string;
  /** Sealed with the master key (see column-cipher.ts). */
  value: string;
  content_type: string | null;
  tags: string;
  enabled: Flag;
  not_before: number | null;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  /** Insertion order, to find the newest version without trusting the clock. */
  seq: Generated<number>;
  deleted_at: number | null;
  scheduled_purge_at: number | null;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  id: string;
  at: number;
  kind: string;
  outcome: string;
  tenant_id: string | null;
  principal_id: string | null;
  resource: string | null;
  vm_id: string | null;
  host_id: string | null;
  token_id: string | null;
  reason: string | null;
  details: string;
}

/** ARM's Activity Log (migration 0010); `*_key` columns are lower-cased for lookups. */
export interface ActivityEventsTable {
  seq: Generated<number>;
  event_data_id: string;
  operation_id: string;
  at: number;
  subscription_key: string;
  subscription_id: string;
  tenant_id: string;
  resource_group: string | null;
  resource_group_key: string | null;
  resource_id: string;
  resource_id_key: string;
  resource_type: string;
  resource_provider: string;
  resource_provider_key: string;
  operation_name: string;
  event_name: string;
  status: string;
  http_status: number | null;
  level: string;
  caller_object_id: string;
  caller_app_id: string | null;
  caller: string;
  correlation_id: string;
  correlation_key: string;
  client_request_id: string | null;
  service_request_id: string;
  method: string;
  uri: string | null;
  client_ip: string | null;
  /** JSON object of strings. */
  claims: string;
}

/** The installation record (migration 0012): one row, `id` 1. */
export interface InstallationTable {
  id: number;
  public_url: string;
  issuer: string | null;
  master_key_check: string;
  recorded_at: number;
}

/** All tables. Migrations create them; repositories read and write them. */
export interface Database {
  tenants: TenantsTable;
  principals: PrincipalsTable;
  credentials: CredentialsTable;
  resources: ResourcesTable;
  identity_attachments: IdentityAttachmentsTable;
  compute_changes: ComputeChangesTable;
  role_definitions: RoleDefinitionsTable;
  role_assignments: RoleAssignmentsTable;
  signing_keys: SigningKeysTable;
  certificate_authorities: CertificateAuthoritiesTable;
  assertion_replay: AssertionReplayTable;
  hosts: HostsTable;
  vault_secrets: VaultSecretsTable;
  audit_events: AuditEventsTable;
  activity_events: ActivityEventsTable;
  installation: InstallationTable;
}
