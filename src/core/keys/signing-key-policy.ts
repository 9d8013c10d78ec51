// The signing-key policy the settings ask for: how often keys roll, how early they are published, how long they stay.
import type { SigningKeyPolicy } from './signing-keys.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Clock skew a validator may allow on a token's `exp`. */
const SKEW_MS = 5 * 60_000;

/** The settings a {@link SigningKeyPolicy} is made from (`server.tokens` of the configuration). */
export interface SigningKeySettings {
  readonly tokenLifetimeSeconds: number;
  readonly signingKeyRotationDays: number;
  readonly signingKeyPublishLeadHours: number;
}

/**
 * The policy for `settings`. A retired key stays published while any token it signed can still
 * be presented: the token lifetime plus 5 minutes of clock skew. The signing-key service checks
 * the result (`ConfigInvalid` for a lead not shorter than the rotation interval).
 */
export function signingKeyPolicyFor(settings: SigningKeySettings): SigningKeyPolicy {
  return {
    rotationIntervalMs: settings.signingKeyRotationDays * DAY_MS,
    publishLeadMs: settings.signingKeyPublishLeadHours * HOUR_MS,
    maxTokenLifetimeMs: settings.tokenLifetimeSeconds * 1000 + SKEW_MS,
  };
}
