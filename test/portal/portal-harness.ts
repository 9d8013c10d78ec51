// What the portal suite shares: Chromium's flags, the `up.json` it reads, steps in the browser.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { type Child, ROOT, start, stop, until, upArgs } from '../cli/cli-harness.js';
import { adminArm, adminTokenFromFile } from '../fixtures/admin.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts', 'portal');
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The few browser globals the page functions below use (the suite compiles without DOM types). */
export interface BrowserGlobals {
  readonly sessionStorage: {
    readonly length: number;
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
  };
  readonly localStorage: { readonly length: number };
  readonly document: {
    readonly activeElement: { readonly textContent: string | null } | null;
    readonly documentElement: { readonly scrollWidth: number };
    querySelectorAll(selector: string): Iterable<BrowserElement>;
  };
  readonly innerWidth: number;
  getComputedStyle(element: BrowserElement): { readonly lineHeight: string };
}

/** The little of a DOM element the checks below read. */
export interface BrowserElement {
  readonly textContent: string | null;
  readonly parentElement: BrowserElement | null;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  getBoundingClientRect(): { readonly height: number };
}

/** The newest modification time of any file under `dir` (0 when there is none). */
async function newest(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const times = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => (await stat(join(e.parentPath, e.name))).mtimeMs),
  );
  return Math.max(0, ...times);
}

/** Runs `npm run build:portal` unless `dist/portal` is newer than everything under `portal/`. */
export async function buildPortalIfStale(): Promise<void> {
  const built = await stat(join(ROOT, 'dist', 'portal', 'index.html')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built > (await newest(join(ROOT, 'portal')))) return;
  await promisify(execFile)('npm', ['run', 'build:portal'], { cwd: ROOT });
}

export const WIDE = { width: 1280, height: 900 };
export const NARROW = { width: 375, height: 800 };

export interface UpFile {
  readonly server: string;
  readonly serverHttp: string;
  readonly tenantId: string;
  readonly imds: string;
  readonly subscriptionId: string;
  readonly adminCredentials: string;
}

/** The administrator's login, from `admin.json` and the secret file it names. */
export interface Admin {
  readonly clientId: string;
  readonly secret: string;
}

/** A fresh browser context (its own sessionStorage) on the portal, at `viewport`. */
export async function open(
  browser: Browser,
  upFile: UpFile,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: WIDE });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${upFile.server}/portal/`);
  return { context, page };
}

export async function signIn(page: Page, clientId: string, secret: string): Promise<void> {
  await page.getByLabel('Client ID').fill(clientId);
  await page.getByLabel('Client secret').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByText(clientId).count()).toBeGreaterThan(0);
}

export async function go(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The page's status line once it says something other than "…ing". */
export async function statusText(page: Page): Promise<string> {
  const status = page.getByRole('status').filter({ hasNotText: '…' }).filter({ hasText: /./ });
  const alert = page.getByRole('alert').filter({ hasText: /./ });
  await status.or(alert).first().waitFor();
  if ((await alert.count()) > 0) return `error: ${await alert.first().innerText()}`;
  return status.first().innerText();
}

/**
 * Creates host `hostName`, places VM `name` in demo-rg on it by id, then deletes the host, all as
 * the administrator: the VM keeps naming an id no host has (ARM places a VM only on a host that
 * exists, but a VM whose host was deleted since keeps its `hostId`). Resolves with that id.
 */
export async function placeVmOnDeletedHost(
  upFile: UpFile,
  name: string,
  hostName: string,
): Promise<string> {
  const { call } = await adminArm(upFile.serverHttp, upFile.adminCredentials);
  const created = await call('PUT', `/agent/v1/hosts/${hostName}`, {});
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const hostId = (created.body as { id: string }).id;
  const vm = `/subscriptions/${upFile.subscriptionId}/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/${name}`;
  const answer = await call('PUT', `${vm}?api-version=2024-07-01`, {
    location: 'westeurope',
    properties: { tessera: { hostId } },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  // Without a body, so without the JSON content type that `call` always sends: an empty body
  // of that type is refused.
  const token = await adminTokenFromFile(upFile.serverHttp, upFile.adminCredentials);
  const deleted = await fetch(`${upFile.serverHttp}/agent/v1/hosts/${hostName}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(deleted.status, await deleted.text()).toBe(200);
  return hostId;
}

/** How many pixels wider than the window the page is (at most 0 when nothing overflows it). */
export function pageOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const web = globalThis as unknown as BrowserGlobals;
    return web.document.documentElement.scrollWidth - web.innerWidth;
  });
}

/**
 * The GUIDs shown on the page (`code.guid`), each with how many of its parent's line heights it
 * is tall: 1 on one line, under 2 on two, 5 or so when it wraps a few characters a line.
 */
export function guidHeights(page: Page): Promise<{ text: string; lines: number }[]> {
  return page.evaluate(() => {
    const web = globalThis as unknown as BrowserGlobals;
    return [...web.document.querySelectorAll('code.guid')].map((code) => {
      const parent = code.parentElement ?? code;
      const lineHeight = Number.parseFloat(web.getComputedStyle(parent).lineHeight);
      return {
        text: code.textContent ?? '',
        lines: code.getBoundingClientRect().height / lineHeight,
      };
    });
  });
}

/** Whether the frame around the table called `caption` scrolls sideways (its table is wider). */
export function frameScrolls(page: Page, caption: RegExp): Promise<boolean> {
  return page.getByRole('table', { name: caption }).evaluate((table: unknown) => {
    const frame = (table as BrowserElement).parentElement;
    return frame !== null && frame.scrollWidth > frame.clientWidth;
  });
}

/** Puts the retired managed identity VM extension on demo-vm, as the administrator (over ARM). */
export async function addLegacyExtension(upFile: UpFile): Promise<void> {
  const { call } = await adminArm(upFile.serverHttp, upFile.adminCredentials);
  const vm = `/subscriptions/${upFile.subscriptionId}/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/demo-vm`;
  const answer = await call(
    'PUT',
    `${vm}/extensions/ManagedIdentityExtensionForLinux?api-version=2024-07-01`,
    {
      location: 'westeurope',
      properties: {
        publisher: 'Microsoft.ManagedIdentity',
        type: 'ManagedIdentityExtensionForLinux',
        typeHandlerVersion: '1.0',
        settings: { port: 50342 },
      },
    },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

/** The federated credential {@link addFederatedCredential} creates: GitHub Actions, main branch. */
export const FEDERATED = {
  name: 'github-main',
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'repo:octo/app:ref:refs/heads/main',
  audience: 'api://AzureADTokenExchange',
} as const;

/** Gives identity `name` in demo-rg the {@link FEDERATED} credential, as the administrator (over ARM). */
export async function addFederatedCredential(upFile: UpFile, name: string): Promise<void> {
  const { call } = await adminArm(upFile.serverHttp, upFile.adminCredentials);
  const identity = `/subscriptions/${upFile.subscriptionId}/resourceGroups/demo-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const answer = await call(
    'PUT',
    `${identity}/federatedIdentityCredentials/${FEDERATED.name}?api-version=2023-01-31`,
    {
      properties: {
        issuer: FEDERATED.issuer,
        subject: FEDERATED.subject,
        audiences: [FEDERATED.audience],
      },
    },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

/**
 * Asks IMDS for a token as demo-vm does, for `clientId` (else its system-assigned identity) and
 * `resource`, until the agent has synced the attach.
 */
export async function imdsToken(
  upFile: UpFile,
  clientId: string | undefined,
  resource = 'https://management.azure.com/',
): Promise<number> {
  const query = new URLSearchParams({
    'api-version': '2018-02-01',
    resource,
    ...(clientId === undefined ? {} : { client_id: clientId }),
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(
      `${upFile.imds}/metadata/identity/oauth2/token?${query.toString()}`,
      {
        headers: { Metadata: 'true' },
      },
    );
    await response.text();
    if (response.ok || Date.now() > deadline) return response.status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A running `tessera up` and a Chromium, what each portal suite starts in `beforeAll`. */
export interface PortalWorld {
  readonly dir: string;
  readonly up: Child;
  readonly upFile: UpFile;
  readonly admin: Admin;
  readonly browser: Browser;
}

/**
 * Builds the portal if its sources are newer than the build (`npm ci` builds it; a build older
 * than an edit is made again, so no suite tests stale pages), starts `tessera up` in a temp dir
 * named after `prefix`, reads the administrator's login, and launches Chromium.
 */
export async function startPortalWorld(prefix: string): Promise<PortalWorld> {
  await buildPortalIfStale();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(ARTIFACTS, { recursive: true });
  const dataDir = join(dir, 'data');
  const up = start(upArgs(dataDir));
  await until(up, 'ready at');
  const upFile = JSON.parse(await readFile(join(dataDir, 'up.json'), 'utf8')) as UpFile;
  const login = JSON.parse(await readFile(upFile.adminCredentials, 'utf8')) as {
    clientId: string;
    secretFile: string;
  };
  const admin = {
    clientId: login.clientId,
    secret: (await readFile(login.secretFile, 'utf8')).trim(),
  };
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  return { dir, up, upFile, admin, browser };
}

/** Closes what {@link startPortalWorld} started, each step even when an earlier one failed. */
export async function closePortalWorld(world: Partial<PortalWorld>): Promise<void> {
  try {
    await world.browser?.close();
  } finally {
    try {
      if (world.up !== undefined) await stop(world.up);
    } finally {
      if (world.dir !== undefined) await rm(world.dir, { recursive: true, force: true });
    }
  }
}
