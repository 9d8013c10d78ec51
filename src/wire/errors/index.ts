// Error renderers for Tessera's four wire dialects: IMDS, Entra (OAuth 2.0), ARM and Key Vault.
export type { RenderContext, RenderedError } from './rendered-error.js';
export {
  IMDS_NEWEST_VERSIONS,
  IMDS_TEXT,
  renderImdsError,
  type ImdsErrorContext,
  type ImdsRoute,
} from './imds.js';
export {
  ENTRA_ERROR_URI_BASE,
  entraErrorCodes,
  entraErrorName,
  entraTimestamp,
  renderOAuthError,
  type OAuthErrorContext,
} from './oauth.js';
export {
  armErrorObject,
  renderArmError,
  type ArmErrorBody,
  type ArmErrorContext,
  type ArmErrorObject,
} from './arm.js';
export {
  KEY_VAULT_MISSING_TOKEN,
  renderKeyVaultError,
  type KeyVaultErrorBody,
  type KeyVaultErrorContext,
} from './keyvault.js';
