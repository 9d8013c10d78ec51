// Issue 18.4: guessed client secrets are throttled per client and per source (429, Retry-After) before any scrypt.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/model.js';
import { SECRET_CHECKS, type SecretFailurePolicy } from '../../src/core/tokens/secret-throttle.js';
import { createTokenService, type TokenService } from '../../src/core/tokens/token-service.js';
import { tokenEndpointsFor } from '../../src/server/login/plugin.js';
import type { TokenRequest } from '../../src/wire/oauth/token-request.js';
import {
  assertion,
  certifiedClient,
  type LoginHarness,
  startLogin,
} from '../server/login-harness.js';
import { storeTargets } from '../store/targets.js';
import { postTokenForm, type TokenAnswer } from './server-process.js';
import { closeStarted, startTesseraServer, type TesseraServer } from '../compat/processes.js';

const WINDOW_SECONDS = 5;
const PER_CLIENT = 10;
const GUESSES = 200;
const ARM_SCOPE = 'https://management.azure.com/.default';

const wrongSecret = (): string => `abc~${randomBytes(27).toString('base64url')}`;

describe('200 wrong secrets for the administrator, against `tessera server`', () => {
  let server: TesseraServer;
  beforeAll(async () => {
    server = await startTesseraServer({
      settings: [`server.tokens.secretFailures.windowSeconds=${WINDOW_SECONDS}`],
    });
  });
  afterAll(async () => {
    await closeStarted();
  });

  const tryAdmin = (secret: string): Promise<TokenAnswer> =>
    postTokenForm(server, 'v2', {
      grant_type: 'client_credentials',
      client_id: server.adminClientId,
      client_secret: secret,
      scope: ARM_SCOPE,
    });

  it('are refused, then throttled with Retry-After; the right secret works after the window', async () => {
    const started = Date.now();
    const answers: TokenAnswer[] = [];
    for (let sent = 0; sent < GUESSES; sent += 20) {
      answers.push(
        ...(await Promise.all(Array.from({ length: 20 }, () => tryAdmin(wrongSecret())))),
      );
    }
    const windows = Math.ceil((Date.now() - started) / (WINDOW_SECONDS * 1000)) + 1;

    const invalid = answers.filter((a) => a.status === 401);
    const throttled = answers.filter((a) => a.status === 429);
    console.log(
      `secret guessing: ${GUESSES} wrong secrets in ${Date.now() - started} ms: ${invalid.length} x 401, ${throttled.length} x 429`,
    );
    expect(invalid.length + throttled.length).toBe(GUESSES);
    for (const a of invalid) {
      expect([a.body.error, a.body.error_codes]).toEqual(['invalid_client', [7000215]]);
    }
    // The threshold, plus at most the checks already running when it was reached, per window.
    expect(invalid.length).toBeGreaterThanOrEqual(PER_CLIENT);
    expect(invalid.length).toBeLessThanOrEqual((PER_CLIENT + SECRET_CHECKS.concurrent) * windows);
    for (const a of throttled) {
      expect([a.body.error, a.body.error_codes]).toEqual(['temporarily_unavailable', [90055]]);
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(a.retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
    }

    // While throttled even the right secret is refused: nothing is checked.
    let locked = await tryAdmin(wrongSecret());
    while (locked.status !== 429 || Number(locked.retryAfter) < 2) {
      locked = await tryAdmin(wrongSecret());
    }
    const whileLocked = await tryAdmin(server.adminSecret);
    expect(whileLocked.status).toBe(429);
    expect(whileLocked.body.access_token).toBeUndefined();

    await new Promise((resolve) =>
      setTimeout(resolve, Number(whileLocked.retryAfter) * 1000 + 200),
    );
    const after = await tryAdmin(server.adminSecret);
    expect(after.status).toBe(200);
    expect(typeof after.body.access_token).toBe('string');
  }, 120_000);
});

const [sqlite] = storeTargets();

describe('the throttle inside the token issuer', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    if (sqlite === undefined) throw new Error('no store target');
    h = await startLogin(sqlite);
  });
  afterAll(async () => {
    await h.close();
  });

  function issuer(policy?: SecretFailurePolicy): TokenService {
    return createTokenService({
      store: h.store,
      clock: h.clock,
      signingKey: () => h.services.signingKeys.signingKey(),
      issuerFor: h.services.issuerFor,
      assertionAudiencesFor: (tenantId) => tokenEndpointsFor(h.url, tenantId),
      ...(policy === undefined ? {} : { secretFailures: policy }),
    });
  }

  async function application(): Promise<{ principal: Principal; secret: string }> {
    const principal = await h.services.directory.createPrincipal({
      tenantId: h.tenant.id,
      displayName: 'guessed',
      type: 'Application',
      alternativeNames: [],
    });
    const { secret } = await h.services.directory.addClientSecret(principal.objectId);
    return { principal, secret };
  }

  const secretRequest = (principal: Principal, secret: string): TokenRequest => ({
    version: 'v2',
    grantType: 'client_credentials',
    clientId: principal.appId,
    resource: 'https://management.azure.com',
    scope: ARM_SCOPE,
    auth: { kind: 'secret', secret, method: 'post' },
  });

  /** The HTTP status an issue ends with: 200, or the refusal's. */
  const statusOf = (promise: Promise<unknown>): Promise<number> =>
    promise.then(
      () => 200,
      (error: unknown) => (error as { status: number }).status,
    );

  it('throttles one source address across client ids, and not another address', async () => {
    const tokens = issuer();
    const apps = await Promise.all([application(), application(), application(), application()]);
    const statuses: number[] = [];
    // 8 per app stays under the per-client 10; the source's 30 is reached on the 31st.
    for (const app of apps) {
      for (let i = 0; i < 8; i++) {
        statuses.push(
          await statusOf(
            tokens.issue(h.tenant.id, secretRequest(app.principal, wrongSecret()), {
              peer: '10.0.0.66',
            }),
          ),
        );
      }
    }
    expect(statuses.slice(0, 30)).toEqual(Array<number>(30).fill(401));
    expect(statuses.slice(30)).toEqual([429, 429]);
    const last = apps[3];
    expect(
      await statusOf(
        tokens.issue(h.tenant.id, secretRequest(last.principal, last.secret), {
          peer: '10.0.0.66',
        }),
      ),
    ).toBe(429);
    expect(
      await statusOf(
        tokens.issue(h.tenant.id, secretRequest(last.principal, last.secret), {
          peer: '10.0.0.67',
        }),
      ),
    ).toBe(200);
    h.clock.advance(60_000);
    expect(
      await statusOf(
        tokens.issue(h.tenant.id, secretRequest(last.principal, last.secret), {
          peer: '10.0.0.66',
        }),
      ),
    ).toBe(200);
  }, 60_000);

  it('throttles one client id whatever the address, until the window ends', async () => {
    const tokens = issuer();
    const app = await application();
    const statuses: number[] = [];
    for (let i = 0; i < PER_CLIENT + 2; i++) {
      statuses.push(
        await statusOf(
          tokens.issue(h.tenant.id, secretRequest(app.principal, wrongSecret()), {
            peer: `10.1.0.${i}`,
          }),
        ),
      );
    }
    expect(statuses).toEqual([...Array<number>(PER_CLIENT).fill(401), 429, 429]);
    const right = () =>
      statusOf(
        tokens.issue(h.tenant.id, secretRequest(app.principal, app.secret), { peer: '10.1.1.1' }),
      );
    expect(await right()).toBe(429);
    h.clock.advance(59_000);
    expect(await right()).toBe(429);
    h.clock.advance(1_000);
    expect(await right()).toBe(200);
  }, 60_000);

  it('keeps assertion mints moving while a flood of secrets waits for scrypt', async () => {
    // No per-client or per-source limit here: only the bound on concurrent checks is at work.
    const tokens = issuer({ windowSeconds: 60, perClient: 1_000_000, perSource: 1_000_000 });
    const app = await application();
    const identity = await certifiedClient(h);
    const mintRequest = async (): Promise<TokenRequest> => ({
      version: 'v2',
      grantType: 'client_credentials',
      clientId: identity.principal.appId,
      resource: 'https://management.azure.com',
      scope: ARM_SCOPE,
      auth: { kind: 'assertion', assertion: await assertion(h, identity) },
    });
    const requests = await Promise.all(Array.from({ length: 10 }, mintRequest));

    let secretsDone = 0;
    const guesses = Array.from({ length: GUESSES }, () =>
      statusOf(tokens.issue(h.tenant.id, secretRequest(app.principal, wrongSecret()))).finally(
        () => (secretsDone = Date.now()),
      ),
    );
    let mintsDone = 0;
    for (const request of requests) {
      await tokens.issue(h.tenant.id, request, { vmId: 'vm', peer: '10.2.0.1' });
      mintsDone = Date.now();
    }
    const statuses = await Promise.all(guesses);
    const queued = SECRET_CHECKS.concurrent + SECRET_CHECKS.queued;
    const checked = statuses.filter((s) => s === 401).length;
    // As many as run and wait at once (a few more if a check ended while the flood arrived);
    // the rest refused at once, without a check.
    expect(checked).toBeGreaterThanOrEqual(queued);
    expect(checked).toBeLessThan(queued + 20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(GUESSES - checked);
    // The mints did not wait for the queue of scrypt checks to drain.
    console.log(
      `secret flood: 10 mints done ${secretsDone - mintsDone} ms before the last secret check`,
    );
    expect(mintsDone).toBeLessThan(secretsDone);
  }, 60_000);
});
