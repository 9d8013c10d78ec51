// The portal end to end: a real `tessera up`, a real headless Chromium, the acceptance.
import { CHROMIUM, skipForMissingTools } from '../fixtures/system-tools.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Browser, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../cli/cli-harness.js';
import { adminArm } from '../fixtures/admin.js';
import {
  addFederatedCredential,
  addLegacyExtension,
  type Admin,
  type BrowserGlobals,
  FEDERATED,
  frameScrolls,
  go,
  guidHeights,
  imdsToken,
  NARROW,
  open,
  pageOverflow,
  placeVmOnDeletedHost,
  shot,
  signIn,
  statusText,
  type UpFile,
  WIDE,
  closePortalWorld,
  type PortalWorld,
  startPortalWorld,
} from './portal-harness.js';

let dir: string | undefined;
let browser: Browser | undefined;
let upFile: UpFile;
let admin: Admin;

const skip = skipForMissingTools('test/portal', [CHROMIUM]);
/** An audience longer than any column: it must wrap inside the token events table. */
const LONG_AUDIENCE =
  'https://long-audience.example.com/with/a/path/longer/than/any/column/of/the/table';

let world: Partial<PortalWorld> = {};

beforeAll(async () => {
  if (skip) return;
  world = await startPortalWorld('tessera-portal-');
  ({ dir, browser, upFile, admin } = world as PortalWorld);
});

afterAll(() => closePortalWorld(world));

describe.skipIf(skip)('the portal', { timeout: 90_000 }, () => {
  it('lets the administrator create, attach, grant, watch a token, detach, revoke and delete', async () => {
    const { context, page } = await open(browser!, upFile);
    // What the browser fetched that was not there, and what it answered for the tab's icon.
    const notFound: string[] = [];
    const icons: number[] = [];
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() === 404) notFound.push(response.url());
      if (/\/favicon\.(svg|ico)$/.test(new URL(response.url()).pathname)) {
        icons.push(response.status());
      }
    });
    try {
      // A wrong secret: the directory's own words, and still the sign-in form.
      await page.getByLabel('Client ID').fill(admin.clientId);
      await page.getByLabel('Client secret').fill('not-the-secret');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect
        .poll(() => page.getByRole('alert').innerText())
        .toMatch(/^AADSTS7000215: Invalid client secret provided\./);
      await shot(page, 'sign-in');
      expect(await pageOverflow(page), 'sign-in at 1280 px').toBeLessThanOrEqual(0);
      await page.setViewportSize(NARROW);
      expect(await pageOverflow(page), 'sign-in at 375 px').toBeLessThanOrEqual(0);
      for (const guid of await guidHeights(page)) expect(guid.lines).toBeLessThanOrEqual(2);
      await shot(page, 'sign-in-375');
      await page.setViewportSize(WIDE);
      await signIn(page, admin.clientId, admin.secret);
      const name = `portal-e2e-${randomBytes(3).toString('hex')}`;

      // No identity has a federated credential yet: the section says how to add one.
      await page.getByRole('heading', { level: 1, name: 'Identities' }).waitFor();
      const federated = page.getByRole('region', { name: 'Federated credentials' });
      await expect
        .poll(() => federated.getByRole('row').nth(1).innerText())
        .toBe(
          'No federated credentials. Add one with tessera identity federated-credential create … or az identity federated-credential create ….',
        );

      // Create.
      await page.getByLabel('Name', { exact: true }).fill(name);
      await expect.poll(() => page.getByLabel('Location').inputValue()).toBe('westeurope');
      await page.getByRole('button', { name: 'Create' }).click();
      expect(await statusText(page)).toBe(`Created ${name} in demo-rg.`);
      const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
      await row.waitFor();
      const clientId = (await row.locator('td code').nth(1).innerText()).trim();
      expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
      // A federated credential added over ARM shows once the page reloads its identities (below,
      // after the attach).
      await addFederatedCredential(upFile, name);

      // Attach to demo-vm.
      await page.getByRole('button', { name: `Attach ${name}` }).click();
      const attach = page.getByRole('dialog', { name: `Attach ${name}` });
      await attach.getByLabel('VM or scale set').selectOption({ label: 'demo-vm (VM)' });
      await attach.getByRole('button', { name: 'Attach' }).click();
      expect(await statusText(page)).toBe(`Attached ${name} to demo-vm.`);
      await row.getByRole('button', { name: `Detach ${name} from demo-vm` }).waitFor();
      const credential = federated
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: FEDERATED.name }) });
      await credential.waitFor();
      expect(await credential.locator('th, td').allInnerTexts()).toEqual([
        name,
        FEDERATED.name,
        FEDERATED.issuer,
        FEDERATED.subject,
        FEDERATED.audience,
      ]);

      // Grant Reader on demo-rg.
      await go(page, 'Role assignments', 'Role assignments');
      await page
        .getByLabel('Scope', { exact: true })
        .selectOption({ label: 'Resource group demo-rg' });
      await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Reader' });
      await page.getByLabel('Principal', { exact: true }).selectOption({ label: name });
      await page.getByRole('button', { name: 'Grant' }).click();
      expect(await statusText(page)).toBe('Granted Reader on demo-rg (resource group).');
      const revoke = page.getByRole('button', {
        name: `Revoke Reader for ${name} on demo-rg (resource group)`,
      });
      await expect.poll(() => revoke.isEnabled()).toBe(true);
      await shot(page, 'roles');

      // A token from IMDS, as demo-vm asks for it, shows up in the activity chart and table.
      expect(await imdsToken(upFile, clientId)).toBe(200);
      await go(page, 'Activity', 'Activity');
      await page.getByLabel('Identity', { exact: true }).selectOption({ label: name });
      const chart = page.getByRole('figure');
      await expect.poll(() => chart.innerText(), { timeout: 15_000 }).toMatch(/: 1 token issued/);
      const events = page.getByRole('table', { name: /Most recent token events/ });
      await expect.poll(() => events.getByRole('row', { name: new RegExp(name) }).count()).toBe(1);
      // The chart's text version: one bucket, one token issued.
      await page.getByText('Counts per bucket').click();
      const perBucket = page.getByRole('table', { name: 'Tokens per bucket' });
      expect(await perBucket.getByRole('row').allInnerTexts()).toEqual([
        expect.stringMatching(/Issued\s+Refused/i),
        expect.stringMatching(/^\d\d:\d\d:\d\d\s+1\s+0$/),
      ]);
      expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
      await shot(page, 'activity');
      // The wrong secret at sign-in was a refused token request.
      await page.getByLabel('Identity', { exact: true }).selectOption({ label: 'All identities' });
      await expect.poll(() => chart.innerText()).toMatch(/ [1-9]\d* refused\./);
      // A long audience (demo-vm's own identity asks) with the refusal's long reason: the events
      // still fit a laptop's width, nothing hidden to the right of the table's frame.
      expect(await imdsToken(upFile, undefined, LONG_AUDIENCE)).toBe(200);
      const longRow = events
        .getByRole('row')
        .filter({ hasText: LONG_AUDIENCE })
        .filter({ hasText: 'demo-vm (system-assigned)' });
      await longRow.waitFor();
      expect(await frameScrolls(page, /Most recent token events/)).toBe(false);

      // The VM page flags the retired extension. A VM whose host was deleted since names a host
      // that does not exist: the graph shows two hosts, labelled apart.
      await addLegacyExtension(upFile);
      const goneHost = await placeVmOnDeletedHost(upFile, 'named-vm', 'gone-host');
      const noSuchHost = `${goneHost} (no such host)`;
      await go(page, 'Graph', 'Graph');
      const byName = page.getByRole('listitem').filter({ hasText: /^named-vm/ });
      expect(await byName.innerText()).toBe(`named-vm (no identity) → host ${noSuchHost}`);
      expect(
        await page
          .getByRole('listitem')
          .filter({ hasText: `${name} → demo-vm` })
          .innerText(),
      ).toBe(`${name} → demo-vm → host local`);
      const hostLabels = await page.locator('svg g.graph-host > title').allTextContents();
      expect(hostLabels.sort()).toEqual(['local', noSuchHost].sort());

      // Every page at laptop and phone width: a screenshot of each, none wider than the window
      // (a wide table scrolls inside its own frame), no GUID on more than two lines.
      const pages = [
        ['Identities', 'identities', row],
        ['VMs and scale sets', 'machines', page.getByRole('rowheader', { name: 'named-vm' })],
        [
          'Role assignments',
          'roles',
          page.getByRole('button', {
            name: `Revoke Reader for ${name} on demo-rg (resource group)`,
          }),
        ],
        ['Hosts', 'hosts', page.getByRole('rowheader', { name: 'local' })],
        ['Activity', 'activity', longRow],
        ['Graph', 'graph', byName],
      ] as const;
      for (const size of [WIDE, NARROW]) {
        await page.setViewportSize(size);
        for (const [title, file, ready] of pages) {
          await go(page, title, title);
          await ready.waitFor();
          const where = `${file} at ${String(size.width)} px`;
          expect(await pageOverflow(page), where).toBeLessThanOrEqual(0);
          const guids = await guidHeights(page);
          for (const guid of guids) {
            expect(guid.text, where).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
            expect(guid.lines, `${guid.text} on ${where}`).toBeLessThanOrEqual(2);
          }
          if (file === 'identities') expect(guids.map((g) => g.text)).toContain(clientId);
          await shot(page, size === WIDE ? file : `${file}-375`);
        }
      }
      await page.setViewportSize(WIDE);
      expect(await page.getByText(noSuchHost).count()).toBeGreaterThan(0);

      // Revoke, detach, delete, each after a confirmation.
      await go(page, 'Role assignments', 'Role assignments');
      await page
        .getByLabel('Scope', { exact: true })
        .selectOption({ label: 'Resource group demo-rg' });
      await revoke.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      expect(await statusText(page)).toMatch(/^Revoked Reader for /);
      await expect.poll(() => revoke.count()).toBe(0);

      await go(page, 'Identities', 'Identities');
      // By keyboard: the dialog opens on Cancel, Escape closes it, Tab then Enter confirms.
      const detach = row.getByRole('button', { name: `Detach ${name} from demo-vm` });
      const confirm = page.getByRole('dialog', { name: `Detach ${name}?` });
      const focused = (): Promise<string | null | undefined> =>
        page.evaluate(
          () => (globalThis as unknown as BrowserGlobals).document.activeElement?.textContent,
        );
      await expect.poll(() => detach.isEnabled()).toBe(true);
      await detach.focus();
      await page.keyboard.press('Enter');
      await confirm.waitFor();
      await expect.poll(focused).toBe('Cancel');
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'detached' });
      await detach.click();
      await expect.poll(focused).toBe('Cancel');
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('Detach');
      await page.keyboard.press('Enter');
      expect(await statusText(page)).toBe(`Detached ${name} from demo-vm.`);
      await expect.poll(() => row.getByText('nothing').count()).toBe(1);

      await page.getByRole('button', { name: `Delete ${name}` }).click();
      await page
        .getByRole('dialog', { name: `Delete ${name}?` })
        .getByRole('button', { name: 'Delete' })
        .click();
      expect(await statusText(page)).toBe(`Deleted ${name}.`);
      await expect.poll(() => row.count()).toBe(0);

      // The tab's icon: linked from the page, served under the policy's img-src, fetched by the
      // browser itself; and nothing the portal asked for was missing.
      const icon = await page.locator('link[rel="icon"]').getAttribute('href');
      expect(icon).toBe('/portal/favicon.svg');
      const served = await context.request.get(new URL(icon ?? '', page.url()).href);
      expect(served.status()).toBe(200);
      expect(served.headers()['content-type']).toMatch(/^image\/svg\+xml/);
      expect(served.headers()['content-security-policy']).toMatch(/img-src 'self'/);
      expect(await served.text()).toMatch(/^<svg /);
      await expect.poll(() => icons).toContain(200);
      expect(icons.every((status) => status === 200)).toBe(true);
      expect(notFound).toEqual([]);
      expect(blocked).toEqual([]);

      // Signing out forgets the token.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Client ID').waitFor();
      const stored = await page.evaluate(() => {
        const web = globalThis as unknown as BrowserGlobals;
        return web.sessionStorage.length + web.localStorage.length;
      });
      expect(stored).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('ends the session an hour after sign-in, though the token lives a day', async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true, viewport: WIDE });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      // The page's clock runs as usual until the test moves it on.
      await page.clock.install();
      await page.goto(`${upFile.server}/portal/`);
      await signIn(page, admin.clientId, admin.secret);
      const { now, session } = await page.evaluate(() => {
        const web = globalThis as unknown as BrowserGlobals;
        const raw = web.sessionStorage.getItem('tessera.portal.session') ?? '{}';
        return {
          now: Date.now(),
          session: JSON.parse(raw) as { token: string; expiresAt: number },
        };
      });
      const [, payload = ''] = session.token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        exp: number;
      };
      expect(claims.exp * 1000 - now).toBeGreaterThan(23 * 3_600_000);
      expect(session.expiresAt - now).toBeGreaterThan(3_500_000);
      expect(session.expiresAt - now).toBeLessThanOrEqual(3_600_000);
      const signOut = page.getByRole('button', { name: 'Sign out' });

      await page.clock.fastForward(59 * 60_000);
      await page.getByRole('heading', { level: 1, name: 'Identities' }).waitFor();
      expect(await signOut.isVisible()).toBe(true);

      await page.clock.fastForward(2 * 60_000);
      await page.getByLabel('Client ID').waitFor();
      expect(await page.getByRole('status').innerText()).toMatch(
        /^Your session ended \(an hour after sign-in/,
      );
      const stored = await page.evaluate(
        () => (globalThis as unknown as BrowserGlobals).sessionStorage.length,
      );
      expect(stored).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('shows a Reader everything but lets it change nothing, and the server refuses too', async () => {
    const created = await run([
      'ad',
      'sp',
      'create-for-rbac',
      '--name',
      'portal-reader',
      '--role',
      'Reader',
      '--scopes',
      '/',
      '--data-dir',
      join(dir!, 'data'),
    ]);
    expect(created.code).toBe(0);
    const reader = JSON.parse(created.stdout) as { appId: string; password: string };
    const { context, page } = await open(browser!, upFile);
    try {
      await signIn(page, reader.appId, reader.password);
      await page.getByRole('rowheader', { name: 'demo-identity' }).waitFor();
      const create = page.getByRole('button', { name: 'Create' });
      // Disabled while the permissions load; then disabled and described by the reason.
      await expect.poll(() => create.getAttribute('aria-describedby')).not.toBeNull();
      expect(await create.isDisabled()).toBe(true);
      const why = await create.getAttribute('aria-describedby');
      expect(await page.locator(`[id="${why ?? ''}"]`).innerText()).toMatch(
        /^You cannot create identities in demo-rg \(resource group\): your roles there do not allow Microsoft\.ManagedIdentity\/userAssignedIdentities\/write\.$/,
      );
      expect(await page.getByRole('button', { name: 'Delete demo-identity' }).isDisabled()).toBe(
        true,
      );
      expect(await page.getByRole('button', { name: 'Attach demo-identity' }).isDisabled()).toBe(
        true,
      );
      await shot(page, 'identities-reader');

      await go(page, 'Role assignments', 'Role assignments');
      await expect.poll(() => page.getByRole('button', { name: 'Grant' }).isDisabled()).toBe(true);
      // A Reader at `/` sees the tenant's hosts and token activity too (read at `/`).
      await go(page, 'Hosts', 'Hosts');
      await page.getByRole('rowheader', { name: 'local' }).waitFor();
      await shot(page, 'hosts-reader');

      // The server refuses a write the buttons would not have sent.
      const id = `/subscriptions/${upFile.subscriptionId}/resourceGroups/demo-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/forced-by-reader`;
      const refused = await page.evaluate(async (path) => {
        const web = globalThis as unknown as BrowserGlobals;
        const session = JSON.parse(
          web.sessionStorage.getItem('tessera.portal.session') ?? '{}',
        ) as {
          token?: string;
        };
        const response = await fetch(`${path}?api-version=2023-01-31`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${session.token ?? ''}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ location: 'westeurope' }),
        });
        return {
          status: response.status,
          body: await response.json(),
          correlationId: response.headers.get('x-ms-correlation-request-id') ?? '',
        };
      }, id);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: { code: 'AuthorizationFailed' } });

      // The Activity Log shows the refusal, and a write the administrator scripted over ARM, on
      // the Activity page next to token activity, with a filter to the failed ones.
      const { call } = await adminArm(upFile.serverHttp, upFile.adminCredentials);
      const scripted = await call(
        'PUT',
        `${id.replace('forced-by-reader', 'scripted-by-admin')}?api-version=2023-01-31`,
        { location: 'westeurope' },
      );
      expect(scripted.status, JSON.stringify(scripted.body)).toBe(201);
      await go(page, 'Activity', 'Activity');
      await page.getByRole('table', { name: /recent token events/i }).waitFor();
      const controlPlane = page.getByRole('region', { name: 'Control-plane activity' });
      const operation = (resource: string): Locator =>
        controlPlane.getByRole('row').filter({ hasText: resource });
      await operation('scripted-by-admin').waitFor();
      expect(await operation('scripted-by-admin').innerText()).toMatch(
        /\tSucceeded\s+Created \(HTTP Status Code: 201\)\s/,
      );
      // The caller is named once the portal's inventory has loaded, which may come after the rows.
      await expect
        .poll(() => operation('forced-by-reader').innerText())
        .toMatch(/\tFailed\s+Forbidden \(HTTP Status Code: 403\)\s+you \(signed in\)\t/);
      const forced = await operation('forced-by-reader').innerText();
      expect(forced).toContain('Microsoft.ManagedIdentity/userAssignedIdentities/write (PUT)');
      expect(refused.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(forced).toContain(refused.correlationId);
      expect(await frameScrolls(page, /control-plane operations/)).toBe(false);
      await controlPlane.getByLabel('Status').selectOption({ label: 'Failed only' });
      await expect.poll(() => operation('scripted-by-admin').count()).toBe(0);
      expect(await operation('forced-by-reader').count()).toBe(1);
      await shot(page, 'activity-reader');

      // A token the server no longer accepts (401) returns to the sign-in page.
      await page.evaluate(() => {
        const web = globalThis as unknown as BrowserGlobals;
        const key = 'tessera.portal.session';
        const session = JSON.parse(web.sessionStorage.getItem(key) ?? '{}') as object;
        web.sessionStorage.setItem(key, JSON.stringify({ ...session, token: 'a.b.c' }));
      });
      await page.reload();
      await page.getByLabel('Client ID').waitFor();
      expect(await page.getByRole('status').innerText()).toMatch(/no longer accepts your token/);
    } finally {
      await context.close();
    }
  });
});
