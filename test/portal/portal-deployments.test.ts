// The portal's Deployments page end to end: templates deployed over ARM to a real `tessera up`, read in Chromium.
import { CHROMIUM, skipForMissingTools } from '../fixtures/system-tools.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../cli/cli-harness.js';
import { adminArm, adminTokenFromFile } from '../fixtures/admin.js';
import {
  type Admin,
  go,
  guidHeights,
  NARROW,
  open,
  pageOverflow,
  shot,
  signIn,
  type UpFile,
  WIDE,
  closePortalWorld,
  type PortalWorld,
  startPortalWorld,
} from './portal-harness.js';

const V = 'api-version=2021-04-01';
const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const GUID = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
const WHEN = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;
const SECONDS = /^\d+(\.\d+)? s$/;
const UNSERVED = "InvalidResourceNamespace: The resource namespace 'Microsoft.Storage' is invalid.";

let dir: string | undefined;
let browser: Browser | undefined;
let upFile: UpFile;
let admin: Admin;

const skip = skipForMissingTools('test/portal', [CHROMIUM]);

let world: Partial<PortalWorld> = {};

beforeAll(async () => {
  if (skip) return;
  world = await startPortalWorld('tessera-portal-deployments-');
  ({ dir, browser, upFile, admin } = world as PortalWorld);
});

afterAll(() => closePortalWorld(world));

/**
 * PUTs deployment `name` of `template` to `group` as the administrator, as az does, then polls its
 * `Azure-AsyncOperation` URL until the status is final. Resolves with that status and the
 * deployment's correlation id.
 */
async function deploy(
  group: string,
  name: string,
  template: Record<string, unknown>,
): Promise<{ status: string; correlationId: string }> {
  const token = await adminTokenFromFile(upFile.serverHttp, upFile.adminCredentials);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const path = `/subscriptions/${upFile.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Resources/deployments/${name}?${V}`;
  const started = await fetch(`${upFile.serverHttp}${path}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({
      properties: {
        mode: 'Incremental',
        template: { $schema: SCHEMA, contentVersion: '1.0.0.0', ...template },
      },
    }),
  });
  const body = (await started.json()) as { properties: { correlationId: string } };
  expect(started.status, JSON.stringify(body)).toBe(201);
  const status = new URL(started.headers.get('azure-asyncoperation') ?? '');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const polled = await fetch(`${upFile.serverHttp}${status.pathname}${status.search}`, {
      headers,
    });
    const answer = (await polled.json()) as { status: string };
    expect(polled.status, JSON.stringify(answer)).toBe(200);
    if (!['Accepted', 'Running'].includes(answer.status) || Date.now() > deadline) {
      return { status: answer.status, correlationId: body.properties.correlationId };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The text of each cell of `row`, header cell first. */
const cells = (row: Locator): Promise<string[]> => row.locator('th, td').allInnerTexts();

/** The rows under the header of the table called `caption`. */
const bodyRows = (page: Page, caption: RegExp): Locator =>
  page.getByRole('table', { name: caption }).locator('tbody tr');

describe.skipIf(skip)('the portal: deployments', { timeout: 120_000 }, () => {
  it("lists a group's deployments newest first, with each one's operations, failures and outputs", async () => {
    const group = `deploy-e2e-${randomBytes(3).toString('hex')}`;
    const { call } = await adminArm(upFile.serverHttp, upFile.adminCredentials);
    const groupId = `/subscriptions/${upFile.subscriptionId}/resourceGroups/${group}`;
    const created = await call('PUT', `${groupId}?${V}`, { location: 'westeurope' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const good = await deploy(group, 'portal-ok', {
      resources: [
        {
          type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
          apiVersion: '2023-01-31',
          name: 'portal-id',
          location: '[resourceGroup().location]',
        },
      ],
      outputs: {
        principalId: { type: 'string', value: "[reference('portal-id').principalId]" },
      },
    });
    expect(good.status).toBe('Succeeded');
    // Tessera serves no Microsoft.Storage: the deployment fails on its one resource.
    const bad = await deploy(group, 'portal-storage', {
      resources: [
        {
          type: 'Microsoft.Storage/storageAccounts',
          apiVersion: '2023-01-01',
          name: 'portalsa',
          location: '[resourceGroup().location]',
          sku: { name: 'Standard_LRS' },
          kind: 'StorageV2',
        },
      ],
    });
    expect(bad.status).toBe('Failed');
    const identity = await call(
      'GET',
      `${groupId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/portal-id?api-version=2023-01-31`,
    );
    const { principalId } = (identity.body as { properties: { principalId: string } }).properties;
    expect(principalId).toMatch(GUID);

    const { context, page } = await open(browser!, upFile);
    try {
      await signIn(page, admin.clientId, admin.secret);
      await go(page, 'Deployments', 'Deployments');
      await page.getByLabel('Resource group', { exact: true }).selectOption({ label: group });

      // Newest first (not by name, nor as created): the failed one, then the one that succeeded,
      // each with its correlation id.
      const deployments = bodyRows(page, new RegExp(`^Deployments in ${group} \\(2\\)`));
      await expect.poll(() => deployments.count()).toBe(2);
      const [failedRow, okRow] = [deployments.nth(0), deployments.nth(1)];
      expect(await cells(failedRow)).toEqual([
        'portal-storage',
        'Failed',
        expect.stringMatching(WHEN),
        expect.stringMatching(SECONDS),
        'Incremental',
        bad.correlationId,
      ]);
      expect(await cells(okRow)).toEqual([
        'portal-ok',
        'Succeeded',
        expect.stringMatching(WHEN),
        expect.stringMatching(SECONDS),
        'Incremental',
        good.correlationId,
      ]);

      // The newest is shown: why it failed, and its one operation with the resource's error.
      const failed = page.getByRole('region', { name: 'Deployment portal-storage' });
      await failed.waitFor();
      const why = failed.getByRole('group', { name: 'Why portal-storage failed' });
      expect(await why.innerText()).toMatch(
        /^DeploymentFailed: At least one resource deployment operation failed\. [^\n]*\n\s*InvalidResourceNamespace: The resource namespace 'Microsoft\.Storage' is invalid\.$/,
      );
      const failedOps = bodyRows(page, /^Operations of portal-storage \(1\)/);
      await expect.poll(() => failedOps.count()).toBe(1);
      expect(await cells(failedOps.first())).toEqual([
        'portalsa\nMicrosoft.Storage/storageAccounts',
        'Create',
        'Failed',
        'NotFound',
        expect.stringMatching(SECONDS),
        expect.stringMatching(WHEN),
        UNSERVED,
      ]);
      expect(await cells(bodyRows(page, /^Outputs of portal-storage/).first())).toEqual([
        'No outputs.',
      ]);
      await shot(page, 'deployments-failed');

      // The other one: its identity created, its output the identity's principal id, no error.
      await okRow.getByRole('link', { name: 'portal-ok' }).click();
      const succeeded = page.getByRole('region', { name: 'Deployment portal-ok' });
      await succeeded.waitFor();
      expect(await okRow.getByRole('link').getAttribute('aria-current')).toBe('true');
      expect(await failedRow.getByRole('link').getAttribute('aria-current')).toBeNull();
      const okOps = bodyRows(page, /^Operations of portal-ok \(1\)/);
      await expect.poll(() => okOps.count()).toBe(1);
      expect(await cells(okOps.first())).toEqual([
        'portal-id\nMicrosoft.ManagedIdentity/userAssignedIdentities',
        'Create',
        'Succeeded',
        'Created',
        expect.stringMatching(SECONDS),
        expect.stringMatching(WHEN),
        '',
      ]);
      expect(await succeeded.getByRole('group').count()).toBe(0);
      expect(await cells(bodyRows(page, /^Outputs of portal-ok/).first())).toEqual([
        'principalId',
        'String',
        principalId,
      ]);

      // The address names the group and the deployment: reloading shows the same one.
      expect(new URL(page.url()).hash).toBe(`#/deployments/${group}/portal-ok`);
      await page.reload();
      await page.getByRole('region', { name: 'Deployment portal-ok' }).waitFor();
      expect(await page.getByLabel('Resource group', { exact: true }).inputValue()).toBe(group);

      // At laptop and phone width: no wider than the window, no GUID on more than two lines.
      for (const size of [WIDE, NARROW]) {
        await page.setViewportSize(size);
        await page.getByRole('region', { name: 'Deployment portal-ok' }).waitFor();
        const where = `deployments at ${String(size.width)} px`;
        expect(await pageOverflow(page), where).toBeLessThanOrEqual(0);
        const guids = await guidHeights(page);
        expect(guids.map((g) => g.text)).toEqual(
          expect.arrayContaining([good.correlationId, bad.correlationId, principalId]),
        );
        for (const guid of guids) {
          expect(guid.lines, `${guid.text} on ${where}`).toBeLessThanOrEqual(2);
        }
        await shot(page, size === WIDE ? 'deployments' : 'deployments-375');
      }
      await page.setViewportSize(WIDE);

      // What the page says of the correlation id holds: the identity the deployment wrote is on
      // the Activity page under it.
      await go(page, 'Activity', 'Activity');
      const written = page
        .getByRole('region', { name: 'Control-plane activity' })
        .getByRole('row')
        .filter({ hasText: 'portal-id' });
      await written.first().waitFor();
      expect(await written.first().innerText()).toContain(good.correlationId);
    } finally {
      await context.close();
    }

    // A Reader on the group alone sees the same, and no other group.
    const reader = await run([
      'ad',
      'sp',
      'create-for-rbac',
      '--name',
      `deployments-reader-${group}`,
      '--role',
      'Reader',
      '--scopes',
      groupId,
      '--data-dir',
      join(dir!, 'data'),
    ]);
    expect(reader.code, reader.stderr).toBe(0);
    const login = JSON.parse(reader.stdout) as { appId: string; password: string };
    const second = await open(browser!, upFile);
    try {
      await signIn(second.page, login.appId, login.password);
      await go(second.page, 'Deployments', 'Deployments');
      const picker = second.page.getByLabel('Resource group', { exact: true });
      await expect.poll(() => picker.locator('option').allInnerTexts()).toEqual([group]);
      const rows = bodyRows(second.page, new RegExp(`^Deployments in ${group} \\(2\\)`));
      await expect
        .poll(() => rows.locator('th').allInnerTexts())
        .toEqual(['portal-storage', 'portal-ok']);
      const ops = bodyRows(second.page, /^Operations of portal-storage \(1\)/);
      await expect.poll(() => ops.locator('td.error').allInnerTexts()).toEqual([UNSERVED]);
    } finally {
      await second.context.close();
    }
  });
});
