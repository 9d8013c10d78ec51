// `tessera signing-key list|rotate`: operator commands on the token-signing keys, run on a server host.
//
// They open the store directly (like the server does), not through the HTTP API: rotating keys is
// an operator's act on the installation, needed precisely when the API's own keys are in doubt.
import type { SigningKey } from '../core/model.js';
import { serviceSettingsFrom } from '../server/runtime.js';
import { createServerServices } from '../server/services.js';
import type { ConfigFlagOptions } from './flags.js';
import { withStore } from './operator-store.js';

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

function describe(key: SigningKey, now: number): string {
  const state =
    key.activatesAt > now
      ? 'next'
      : key.retiresAt !== null && key.retiresAt <= now
        ? 'retired'
        : 'active';
  return `${key.kid}  ${state.padEnd(7)}  signs ${iso(key.activatesAt)} .. ${iso(key.retiresAt)}  published until ${iso(key.expiresAt)}`;
}

/** Prints every published signing key and what it is doing now. */
export async function runSigningKeyList(options: ConfigFlagOptions): Promise<void> {
  await withStore(options, async (store) => {
    const now = Date.now();
    const keys = await store.signingKeys.listPublished(now);
    process.stdout.write(keys.map((k) => `${describe(k, now)}\n`).join(''));
  });
}

/**
 * Rotates now: the new key is published at once and signs after the publish lead; with
 * `immediate` (a suspected compromise) it signs at once and every other key is unpublished.
 */
export async function runSigningKeyRotate(
  options: ConfigFlagOptions & { immediate?: boolean },
): Promise<void> {
  await withStore(options, async (store, config) => {
    const clock = { now: () => Date.now() };
    const services = createServerServices(store, clock, serviceSettingsFrom(config, ''));
    const key = await services.signingKeys.rotate({ immediate: options.immediate === true });
    process.stdout.write(`rotated: ${describe(key, clock.now())}\n`);
    if (options.immediate === true) {
      process.stdout.write(
        'every other key is unpublished now: tokens they signed stop verifying once validators refresh their keys\n',
      );
    }
  });
}
