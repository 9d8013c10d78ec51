// What the az suites share: Debian's az CLI (azure-cli 2.45) run with one AZURE_CONFIG_DIR per
// scenario, a timeout per command, JSON output parsed and stderr shown on failure; and the set-up
// they do as the administrator through plain ARM.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import type { SystemTool } from '../../fixtures/system-tools.js';
import type { TesseraServer } from '../processes.js';

/** Debian's az (package `azure-cli`), not one a Python environment on PATH may shadow. */
export const AZ = '/usr/bin/az';
export const AZ_TOOL: SystemTool = { command: AZ, pkg: 'azure-cli' };
/** The cloud name the suites register Tessera under. */
export const CLOUD = 'tessera';
/** How long one az command may take (a cold start of the vm module alone takes ~2 s). */
const AZ_TIMEOUT_MS = 45_000;
/** The files of a profile that hold a signed-in account; {@link copyProfile} leaves them out. */
const ACCOUNT_FILES = new Set([
  'azureProfile.json',
  'msal_token_cache.json',
  'service_principal_entries.json',
]);

/** One az configuration directory and how az reaches Tessera from it. */
export interface AzProfile {
  /** `AZURE_CONFIG_DIR`: clouds, accounts, token and HTTP caches. */
  readonly dir: string;
  /** The local CA's PEM file, as `REQUESTS_CA_BUNDLE`. */
  readonly caFile: string;
  /** The network namespace az runs in (`ip netns exec`), when it runs inside a VM. */
  readonly namespace?: string;
}

/** What one az command did. */
export interface AzRun {
  readonly command: string;
  /** The exit status; `null` when az was killed (the timeout) or could not start. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Profiles made and not removed yet, for {@link removeProfiles}. */
const made = new Set<string>();

/** A new, empty profile in a temporary directory. */
export async function newProfile(caFile: string, namespace?: string): Promise<AzProfile> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-compat-az-'));
  made.add(dir);
  return { dir, caFile, ...(namespace === undefined ? {} : { namespace }) };
}

/**
 * A copy of `from` in a new directory, so that scenarios run side by side without sharing az's
 * files: its clouds and settings always, its signed-in account and token cache when `account`.
 */
export async function copyProfile(
  from: AzProfile,
  what: { readonly account: boolean },
): Promise<AzProfile> {
  const to = await newProfile(from.caFile, from.namespace);
  for (const entry of await readdir(from.dir)) {
    if (!what.account && ACCOUNT_FILES.has(entry)) continue;
    await cp(join(from.dir, entry), join(to.dir, entry), { recursive: true });
  }
  return to;
}

/** Removes every profile this test file made (for `afterAll`). */
export async function removeProfiles(): Promise<void> {
  const dirs = [...made];
  made.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * The environment of an az command: only what az needs, so nothing of the test run's own (an
 * `AZURE_*` variable, a proxy, a Python path) changes what it does. Telemetry is off: it would
 * start a process of its own at every exit.
 */
function azEnv(profile: AzProfile): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: profile.dir,
    LANG: 'C.UTF-8',
    AZURE_CONFIG_DIR: profile.dir,
    REQUESTS_CA_BUNDLE: profile.caFile,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_SURVEY_MESSAGE: 'false',
  };
}

/** Flags whose values a failure message leaves out: a secret, a token. */
const SECRET_FLAGS = new Set(['-p', '--password', '--federated-token']);

/**
 * Runs `az args` with `profile`; never rejects: the outcome is in the result, whose `command`
 * shows the arguments less the values of {@link SECRET_FLAGS}.
 */
export function az(profile: AzProfile, args: readonly string[]): Promise<AzRun> {
  const command = `az ${args.map((arg, i) => (SECRET_FLAGS.has(args[i - 1] ?? '') ? '***' : arg)).join(' ')}`;
  const [file, argv] =
    profile.namespace === undefined
      ? [AZ, [...args]]
      : ['ip', ['netns', 'exec', profile.namespace, AZ, ...args]];
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      {
        env: azEnv(profile),
        timeout: AZ_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        // Killed by the timeout, or not started at all (no az): say so where stderr is shown.
        if (error !== null && code === null)
          stderr += `${stderr === '' ? '' : '\n'}${error.message}`;
        resolve({ command, code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** Fails with the command, its exit status and its stderr unless `run` exited 0. */
export function succeeded(run: AzRun): AzRun {
  if (run.code !== 0) {
    const status = run.code === null ? `did not finish (${run.ms} ms)` : `exited ${run.code}`;
    throw new Error(`${run.command} ${status}:\n${run.stderr}${run.stdout}`);
  }
  return run;
}

/** `run`'s stdout, which `-o json` made, parsed; fails as {@link succeeded} does. */
function jsonOf(run: AzRun): unknown {
  const { stdout } = succeeded(run);
  if (stdout.trim() === '') throw new Error(`${run.command} printed nothing:\n${run.stderr}`);
  return JSON.parse(stdout);
}

/** Runs `az args -o json` and parses what it printed; fails with its stderr. */
export async function azJson<T>(profile: AzProfile, args: readonly string[]): Promise<T> {
  return jsonOf(await az(profile, [...args, '-o', 'json'])) as T;
}

/**
 * `az rest --method {method} --url {url}` with `options` (`--body`, `--headers`, `--resource`),
 * its JSON answer: how the suite reaches what Debian's az cannot (role assignments, secrets).
 */
export function azRest<T>(
  profile: AzProfile,
  method: 'get' | 'put' | 'delete' | 'post' | 'patch',
  url: string,
  options: { body?: string; headers?: string; resource?: string } = {},
): Promise<T> {
  const flags = Object.entries(options).flatMap(([name, value]) => [`--${name}`, value]);
  return azJson<T>(profile, ['rest', '--method', method, '--url', url, ...flags]);
}

/**
 * Fails unless `run` failed with `stderr` matching `pattern`: a refusal the user sees as az's
 * error line.
 */
export function refused(run: AzRun, pattern: RegExp): string {
  if (run.code === 0)
    throw new Error(`${run.command} succeeded, a refusal was expected:\n${run.stdout}`);
  if (!pattern.test(run.stderr)) {
    throw new Error(`${run.command} failed otherwise than ${String(pattern)}:\n${run.stderr}`);
  }
  return run.stderr;
}

/** `az account get-access-token`'s object. */
export interface AzAccessToken {
  readonly accessToken: string;
  readonly expiresOn: string;
  readonly subscription?: string;
  readonly tenant: string;
  readonly tokenType: string;
}

/** An account az lists after `az login` (`az account show`/`list`). */
export interface AzAccount {
  readonly cloudName?: string;
  readonly environmentName?: string;
  readonly homeTenantId?: string;
  readonly id: string;
  readonly isDefault: boolean;
  readonly name: string;
  readonly state: string;
  readonly tenantId: string;
  readonly user: {
    readonly name: string;
    readonly type: string;
    readonly assignedIdentityInfo?: string;
  };
}

/** The claims of `az account get-access-token`'s token, unverified (callers verify as needed). */
export async function accessTokenClaims(
  profile: AzProfile,
  extra: readonly string[] = [],
): Promise<{ token: AzAccessToken; claims: ReturnType<typeof decodeJwt> }> {
  const token = await azJson<AzAccessToken>(profile, ['account', 'get-access-token', ...extra]);
  return { token, claims: decodeJwt(token.accessToken) };
}

/** The ARM api-versions of the set-up. */
const GROUP_V = 'api-version=2021-04-01';
const UAI_V = 'api-version=2023-01-31';
const VM_V = 'api-version=2024-07-01';

/** ARM's answer to a write, when it is 200 or 201; fails with the answer otherwise. */
export async function armWrite(
  server: TesseraServer,
  method: 'PUT' | 'PATCH',
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const reply = await server.arm(method, path, body);
  if (reply.status !== 200 && reply.status !== 201) {
    throw new Error(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply.body as Record<string, unknown>;
}

/** ARM's status for a GET of `id` at `apiVersion` (`api-version=…`). */
export async function armStatus(
  server: TesseraServer,
  id: string,
  apiVersion: string,
): Promise<number> {
  return (await server.arm('GET', `${id}?${apiVersion}`)).status;
}

/** `/subscriptions/{id}/resourceGroups/{group}`. */
export const groupPath = (server: TesseraServer, group: string): string =>
  `${server.subscriptionPath}/resourceGroups/${group}`;

/** The ARM id of user-assigned identity `name` in `group`. */
export const identityPath = (server: TesseraServer, group: string, name: string): string =>
  `${groupPath(server, group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

/** The ARM id of VM `name` in `group`. */
export const vmPath = (server: TesseraServer, group: string, name: string): string =>
  `${groupPath(server, group)}/providers/Microsoft.Compute/virtualMachines/${name}`;

/** Makes resource group `group` in westeurope. */
export async function makeGroup(server: TesseraServer, group: string): Promise<void> {
  await armWrite(server, 'PUT', `${groupPath(server, group)}?${GROUP_V}`, {
    location: 'westeurope',
  });
}

/** A user-assigned identity as ARM made it. */
export interface Identity {
  readonly id: string;
  readonly name: string;
  readonly principalId: string;
  readonly clientId: string;
}

/** Makes user-assigned identity `name` in `group`. */
export async function makeIdentity(
  server: TesseraServer,
  group: string,
  name: string,
): Promise<Identity> {
  const body = (await armWrite(server, 'PUT', `${identityPath(server, group, name)}?${UAI_V}`, {
    location: 'westeurope',
  })) as { id: string; properties: { principalId: string; clientId: string } };
  return { id: body.id, name, ...body.properties };
}

/**
 * Makes VM `name` in `group`, placed on host `hostId` at `address` (what the agent knows the VM's
 * calls by), with `identity` if given; resolves with ARM's answer.
 */
export async function placeVm(
  server: TesseraServer,
  at: { readonly group: string; readonly name: string; readonly hostId: string },
  address: string,
  identity?: unknown,
): Promise<Record<string, unknown>> {
  return armWrite(server, 'PUT', `${vmPath(server, at.group, at.name)}?${VM_V}`, {
    location: 'westeurope',
    ...(identity === undefined ? {} : { identity }),
    properties: { tessera: { hostId: at.hostId, privateIpAddresses: [address] } },
  });
}

/** The VM `name` in `group` as ARM shows it now. */
export async function getVm(
  server: TesseraServer,
  group: string,
  name: string,
): Promise<{ identity?: { type: string; principalId?: string } }> {
  const reply = await server.arm('GET', `${vmPath(server, group, name)}?${VM_V}`);
  if (reply.status !== 200) throw new Error(`GET VM ${name}: ${reply.status}`);
  return reply.body as { identity?: { type: string; principalId?: string } };
}

/**
 * The claims of `token` after checking its signature against `server`'s published keys, its
 * issuer (the v1 discovery document's) and its audience.
 */
export async function verifiedClaims(
  server: TesseraServer,
  token: string,
  audience: string,
): Promise<JWTPayload> {
  const { url, tenantId } = server;
  const discovery = await fetch(`${url}/${tenantId}/.well-known/openid-configuration`);
  const { issuer } = (await discovery.json()) as { issuer: string };
  const jwks = createRemoteJWKSet(new URL(`${url}/${tenantId}/discovery/keys`));
  return (await jwtVerify(token, jwks, { issuer, audience })).payload;
}

/** Whether two ARM ids name the same resource (ARM compares them case-insensitively). */
export const sameId = (a: unknown, b: string): boolean =>
  typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
