// `tessera signing-key list|rotate`: operator commands on the token-signing keys, run on a server host.
//
// They open the store directly (like the server does), not through the HTTP API: rotating keys is
// an operator's act on the installation, needed precisely when the API's own keys are in doubt.
import type { Command } from 'commander';
import { systemClock } from '../core/clock.js';
import { signingKeyPolicyFor } from '../core/keys/signing-key-policy.js';
import { createSigningKeyService, selectSigningKey } from '../core/keys/signing-keys.js';
import type { SigningKey } from '../core/model.js';
import { printResult } from './az-result.js';
import { addOutputFlags, type ClientFlagOptions, reporting } from './client-kit.js';
import type { ConfigFlagOptions } from './flags.js';
import { withStore } from './operator-store.js';

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

/** What a key is doing at `now`: not signing yet, signing (or able to), or done signing. */
function stateOf(key: SigningKey, now: number): 'next' | 'active' | 'retired' {
  if (key.activatesAt > now) return 'next';
  return key.retiresAt !== null && key.retiresAt <= now ? 'retired' : 'active';
}

function describe(key: SigningKey, now: number): string {
  return `${key.kid}  ${stateOf(key, now).padEnd(7)}  signs ${iso(key.activatesAt)} .. ${iso(key.retiresAt)}  published until ${iso(key.expiresAt)}`;
}

/** A published key as `signing-key list` prints it (never its private key). */
export interface SigningKeyView {
  readonly kid: string;
  readonly state: 'next' | 'active' | 'retired';
  /** Whether it is the key that signs tokens now. */
  readonly signing: boolean;
  /** When it starts signing, ISO-8601. */
  readonly activatesAt: string;
  /** When it stops signing; null while not decided. */
  readonly retiresAt: string | null;
  /** When it leaves the published keys (JWKS); null while not decided. */
  readonly expiresAt: string | null;
}

const isoOrNull = (ms: number | null): string | null =>
  ms === null ? null : new Date(ms).toISOString();

/** `keys` as {@link SigningKeyView}s at `now`. */
export function signingKeyViews(keys: readonly SigningKey[], now: number): SigningKeyView[] {
  const signing = selectSigningKey(keys, now);
  return keys.map((key) => ({
    kid: key.kid,
    state: stateOf(key, now),
    signing: key.kid === signing?.kid,
    activatesAt: new Date(key.activatesAt).toISOString(),
    retiresAt: isoOrNull(key.retiresAt),
    expiresAt: isoOrNull(key.expiresAt),
  }));
}

/** The columns of `signing-key list -o table`. */
const KEY_COLUMNS =
  '[].{Kid:kid, State:state, Signing:signing, ActivatesAt:activatesAt, RetiresAt:retiresAt, ExpiresAt:expiresAt}';

/** Options of `tessera signing-key list`. */
export type SigningKeyListOptions = ConfigFlagOptions & Pick<ClientFlagOptions, 'output' | 'query'>;

/** Prints every published signing key and what it is doing now, with `--output` and `--query`. */
export async function runSigningKeyList(options: SigningKeyListOptions): Promise<void> {
  // `reporting`: a bad `--query` is one line and exit status 2, as for every command.
  await reporting(() =>
    withStore(options, async (store) => {
      const now = systemClock.now();
      const keys = await store.signingKeys.listPublished(now);
      printResult(signingKeyViews(keys, now), options, KEY_COLUMNS);
    }),
  );
}

/**
 * Rotates now: the new key is published at once and signs after the publish lead; with
 * `immediate` (a suspected compromise) it signs at once and every other key is unpublished.
 * Prints what the rotation committed (the new key, the keys it unpublished), then what signs
 * once it has committed, read again from the store under the rotation lock: a rotation that
 * committed in between or was already waiting for the lock (on any replica) shows there, and the
 * new key's line then says it was retired. Of two rotations whose transactions overlap, only the
 * one that committed last reports its own key as signing.
 */
export async function runSigningKeyRotate(
  options: ConfigFlagOptions & { immediate?: boolean },
): Promise<void> {
  await withStore(options, async (store, config) => {
    const { tokens } = config.server;
    const signingKeys = createSigningKeyService({
      store,
      clock: systemClock,
      policy: signingKeyPolicyFor({
        tokenLifetimeSeconds: tokens.lifetimeSeconds,
        signingKeyRotationDays: tokens.signingKeyRotationDays,
        signingKeyPublishLeadHours: tokens.signingKeyPublishLeadHours,
      }),
    });
    const rotation = await signingKeys.rotate({ immediate: options.immediate === true });
    const { key, signing, now } = await store.transaction(async (tx) => {
      // Waits for a rotation queued behind this one (PostgreSQL grants the lock in order); the
      // time is read after it, or a key that rotation activated would still look pending.
      await tx.signingKeys.lockForRotation();
      const now = systemClock.now();
      return {
        now,
        // By kid: a later immediate rotation has unpublished the key if it is not signing.
        key: (await tx.signingKeys.get(rotation.key.kid)) ?? rotation.key,
        signing: selectSigningKey(await tx.signingKeys.listPublished(now), now),
      };
    });
    const lines = [`rotated: ${describe(key, now)}`];
    if (rotation.unpublished.length > 0) {
      lines.push(
        `unpublished: ${rotation.unpublished.join(' ')} (tokens they signed stop verifying once validators refresh their keys)`,
      );
    }
    lines.push(`signing now: ${signing === undefined ? '-' : signing.kid}`);
    process.stdout.write(lines.map((line) => `${line}\n`).join(''));
  });
}

/**
 * Adds `tessera signing-key list|rotate`; `addConfigFlags` gives each the configuration flags.
 * `rotate` reports in words what it committed (an action, not data: `list` shows the keys).
 */
export function registerSigningKeyCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const signingKey = program
    .command('signing-key')
    .description('token-signing keys (operator commands, run where the server runs)');
  addOutputFlags(
    addConfigFlags(signingKey.command('list').description('list the published signing keys')),
  ).action(async (options: SigningKeyListOptions) => {
    await runSigningKeyList(options);
  });
  addConfigFlags(
    signingKey
      .command('rotate')
      .description('publish a new key now; it signs after the publish lead')
      .option('--immediate', 'sign with the new key at once and unpublish all others (compromise)'),
  ).action(async (options: ConfigFlagOptions & { immediate?: boolean }) => {
    await runSigningKeyRotate(options);
  });
}
