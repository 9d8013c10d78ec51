// The Key Vault secrets wire format: request bodies and names in, SecretBundle and friends out.
import type { VaultSecretVersion } from '../../core/model.js';
import { badParameter, secretTooLarge } from './errors.js';
import { isRecord } from '../../core/guards.js';

/** Secret names: 1-127 letters, digits and hyphens. */
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
/** Key Vault's limit on a secret value, in characters. */
export const MAX_SECRET_VALUE_CHARACTERS = 25_600;
const MAX_TAGS = 15;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;
const MAX_CONTENT_TYPE = 255;
/** `maxresults` of list calls: Key Vault's default and maximum. */
export const MAX_PAGE_SIZE = 25;

/** `attributes.recoveryLevel`: soft delete always on, purge allowed; 90 days is Azure's default. */
export const recoveryLevel = (recoverableDays: number): string =>
  recoverableDays >= 90 ? 'Recoverable+Purgeable' : 'CustomizedRecoverable+Purgeable';

/** The secret name from the path, or `BadParameter`. */
export function checkSecretName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw badParameter(`The request URI contains an invalid name: ${name}`);
  }
  return name;
}

/** Attributes as a request states them; `undefined` members were absent. */
export interface SecretAttributesBody {
  readonly enabled?: boolean;
  /** Epoch ms (from unix seconds), or null when sent as null. */
  readonly notBefore?: number | null;
  readonly expiresAt?: number | null;
}

/** A parsed `PUT /secrets/{name}` or `PATCH /secrets/{name}/{version}` body. */
export interface SecretBody {
  readonly value?: string;
  readonly contentType?: string | null;
  readonly tags?: Record<string, string>;
  readonly attributes?: SecretAttributesBody;
}

/** Parses a JSON body text; anything but a JSON object is `BadParameter`. */
export function parseBodyObject(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') {
    throw badParameter('The request body is missing or empty.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badParameter('The request body is not valid JSON.');
  }
  if (!isRecord(parsed)) throw badParameter('The request body must be a JSON object.');
  return parsed;
}

function unixSeconds(value: unknown, name: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badParameter(
      `Property '${name}' has an invalid value: it must be a unix time in seconds.`,
    );
  }
  return value * 1000;
}

function parseAttributes(value: unknown): SecretAttributesBody | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw badParameter("Property 'attributes' must be an object.");
  const { enabled } = value;
  if (enabled !== undefined && enabled !== null && typeof enabled !== 'boolean') {
    throw badParameter("Property 'attributes.enabled' must be true or false.");
  }
  const notBefore = unixSeconds(value.nbf, 'attributes.nbf');
  const expiresAt = unixSeconds(value.exp, 'attributes.exp');
  return {
    ...(typeof enabled === 'boolean' ? { enabled } : {}),
    ...(notBefore === undefined ? {} : { notBefore }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

function parseTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw badParameter("Property 'tags' must be an object of strings.");
  const entries = Object.entries(value);
  // Azure's whole message for too many tags, CRLF included.
  if (entries.length > MAX_TAGS) throw badParameter('Property has invalid value\r\n');
  for (const [name, tag] of entries) {
    if (typeof tag !== 'string') throw badParameter(`Tag '${name}' must have a string value.`);
    if (name.length > MAX_TAG_NAME || tag.length > MAX_TAG_VALUE) {
      throw badParameter(
        `Tag names are limited to ${MAX_TAG_NAME} characters and values to ${MAX_TAG_VALUE}.`,
      );
    }
  }
  return { ...(value as Record<string, string>) };
}

function parseContentType(value: unknown): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_CONTENT_TYPE) {
    throw badParameter(
      `Property 'contentType' must be a string of at most ${MAX_CONTENT_TYPE} characters.`,
    );
  }
  return value;
}

/** Parses a set body: `value` is required (a string of at most 25 KB). */
export function parseSetSecretBody(text: string | undefined): SecretBody & { value: string } {
  const body = parseBodyObject(text);
  const { value } = body;
  if (value === undefined || value === null) {
    throw badParameter("The parameter 'value' is required.");
  }
  if (typeof value !== 'string') throw badParameter("Property 'value' must be a string.");
  if (value.length > MAX_SECRET_VALUE_CHARACTERS) throw secretTooLarge(MAX_SECRET_VALUE_CHARACTERS);
  return { ...parseProperties(body), value };
}

/** Parses an update body: properties only (a `value` is refused). */
export function parseUpdateSecretBody(text: string | undefined): SecretBody {
  const body = parseBodyObject(text);
  if (body.value !== undefined) {
    throw badParameter("Property 'value' cannot be updated; set a new version instead.");
  }
  return parseProperties(body);
}

function parseProperties(body: Record<string, unknown>): SecretBody {
  const contentType = parseContentType(body.contentType);
  const tags = parseTags(body.tags);
  const attributes = parseAttributes(body.attributes);
  const nbf = attributes?.notBefore;
  const exp = attributes?.expiresAt;
  if (nbf != null && exp != null && nbf > exp) {
    throw badParameter("Property 'attributes.nbf' must not be later than 'attributes.exp'.");
  }
  return {
    ...(contentType === undefined ? {} : { contentType }),
    ...(tags === undefined ? {} : { tags }),
    ...(attributes === undefined ? {} : { attributes }),
  };
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

function attributes(secret: VaultSecretVersion, recoverableDays: number) {
  return {
    enabled: secret.enabled,
    ...(secret.notBefore === null ? {} : { nbf: seconds(secret.notBefore) }),
    ...(secret.expiresAt === null ? {} : { exp: seconds(secret.expiresAt) }),
    created: seconds(secret.createdAt),
    updated: seconds(secret.updatedAt),
    recoveryLevel: recoveryLevel(recoverableDays),
    recoverableDays,
  };
}

const properties = (secret: VaultSecretVersion) => ({
  ...(secret.contentType === null ? {} : { contentType: secret.contentType }),
  ...(Object.keys(secret.tags).length === 0 ? {} : { tags: secret.tags }),
});

/** How a response names things: the vault's origin as the caller reached it, and retention. */
export interface RenderVault {
  /** `https://{vault}.{suffix}[:port]`, no trailing slash. */
  readonly origin: string;
  readonly recoverableDays: number;
}

/** A SecretBundle; `withValue` false for property-only answers (update). */
export function renderSecretBundle(
  vault: RenderVault,
  secret: VaultSecretVersion,
  withValue: boolean,
): Record<string, unknown> {
  return {
    ...(withValue ? { value: secret.value } : {}),
    ...properties(secret),
    id: `${vault.origin}/secrets/${secret.name}/${secret.version}`,
    attributes: attributes(secret, vault.recoverableDays),
  };
}

/** A SecretItem of `GET /secrets` (no version in the id) or of `/versions` (with it). Never a value. */
export function renderSecretItem(
  vault: RenderVault,
  secret: VaultSecretVersion,
  withVersion: boolean,
): Record<string, unknown> {
  const id = `${vault.origin}/secrets/${secret.name}${withVersion ? `/${secret.version}` : ''}`;
  return { id, attributes: attributes(secret, vault.recoverableDays), ...properties(secret) };
}

function deletion(vault: RenderVault, secret: VaultSecretVersion) {
  return {
    recoveryId: `${vault.origin}/deletedsecrets/${secret.name}`,
    deletedDate: seconds(secret.deletedAt ?? 0),
    scheduledPurgeDate: seconds(secret.scheduledPurgeAt ?? 0),
  };
}

/** A DeletedSecretBundle: the latest version's properties (no value) and the deletion. */
export function renderDeletedSecret(
  vault: RenderVault,
  secret: VaultSecretVersion,
): Record<string, unknown> {
  return { ...deletion(vault, secret), ...renderSecretBundle(vault, secret, false) };
}

/** A DeletedSecretItem of `GET /deletedsecrets`. */
export function renderDeletedSecretItem(
  vault: RenderVault,
  secret: VaultSecretVersion,
): Record<string, unknown> {
  return { ...deletion(vault, secret), ...renderSecretItem(vault, secret, false) };
}
