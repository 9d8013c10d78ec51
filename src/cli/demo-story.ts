// `tessera demo`: the seed's story (identity, attach, grant, IMDS token, vault read, detach, refusal) against a running `tessera up`.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { decodeJwt } from 'jose';
import { type ArmClient, type ArmObject, createArmClient } from '../client/arm.js';
import { createTokenProvider, type TokenProvider } from '../client/credentials.js';
import { isClientError } from '../client/errors.js';
import { createHttp, type HttpSend } from '../client/http.js';
import { createVaultClient } from '../client/keyvault.js';
import { loadConfigOrExit } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import { BUILT_IN_ROLE_IDS } from '../core/rbac/index.js';
import { DEMO_SECRET } from './demo-vault.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { isRecord } from '../core/guards.js';

const UAI_API = '2023-01-31';
const VM_API = '2024-07-01';
/** How long the agent may take to apply an attach or a detach (its long-poll sync). */
const SYNC_WAIT_MS = 10_000;
const POLL_MS = 200;

/** What `tessera demo` reads from `up.json` (docs/reference/up-json.md). */
interface UpFile {
  readonly server: string;
  readonly imds: string;
  readonly ca: string | null;
  readonly adminCredentials: string;
  readonly subscriptionId: string;
  readonly demo: { readonly resourceGroup: string; readonly vm: string; readonly vaultUri: string };
}

/** A refusal before any step ran: one line, exit status 1. */
class NotReady extends Error {}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NotReady(
      code === 'ENOENT'
        ? `no running tessera up: ${file} does not exist (start one with \`npm start\`, or pass --data-dir)`
        : `cannot read ${what} ${file}: ${code ?? 'error'}`,
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw new NotReady(`${file} is not ${what}`);
}

/** `up.json`, checked for the members the story uses. */
async function readUpFile(file: string): Promise<UpFile> {
  const up = await readJson(file, 'an up.json file');
  const demo = isRecord(up.demo) ? up.demo : {};
  const values = [up.server, up.imds, up.adminCredentials, up.subscriptionId, demo.vaultUri];
  if (values.some((v) => str(v) === '') || str(demo.resourceGroup) === '' || str(demo.vm) === '') {
    throw new NotReady(`${file} lacks members tessera demo needs (server, imds, demo.*)`);
  }
  return {
    server: str(up.server).replace(/\/+$/, ''),
    imds: str(up.imds).replace(/\/+$/, ''),
    ca: typeof up.ca === 'string' ? up.ca : null,
    adminCredentials: str(up.adminCredentials),
    subscriptionId: str(up.subscriptionId),
    demo: {
      resourceGroup: str(demo.resourceGroup),
      vm: str(demo.vm),
      vaultUri: str(demo.vaultUri),
    },
  };
}

/** The administrator's token provider, from `admin.json` and the secret file it names. */
async function administrator(up: UpFile, send: HttpSend): Promise<TokenProvider> {
  const login = await readJson(up.adminCredentials, 'a login file');
  const secretFile = resolve(dirname(up.adminCredentials), str(login.secretFile));
  const clientSecret = (await readFile(secretFile, 'utf8').catch(() => '')).trim();
  if (str(login.tenantId) === '' || str(login.clientId) === '' || clientSecret === '') {
    throw new NotReady(`${up.adminCredentials} does not lead to the administrator's credentials`);
  }
  return createTokenProvider({
    serverUrl: up.server,
    send,
    credentials: {
      tenantId: str(login.tenantId),
      clientId: str(login.clientId),
      clientSecret,
      source: up.adminCredentials,
    },
  });
}

/** One IMDS token request for a user-assigned identity, as a VM makes it. */
async function imdsToken(
  imds: string,
  clientId: string,
  resource: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = new URLSearchParams({ 'api-version': '2018-02-01', resource, client_id: clientId });
  const response = await fetch(`${imds}/metadata/identity/oauth2/token?${query.toString()}`, {
    headers: { Metadata: 'true' },
    signal: AbortSignal.timeout(5_000),
  }).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    throw new Error(`cannot reach IMDS at ${imds}: ${cause}`);
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: 'not JSON', error_description: text.slice(0, 200) };
  }
  return { status: response.status, body: isRecord(body) ? body : {} };
}

/** Calls `probe` every {@link POLL_MS} until it returns a value or {@link SYNC_WAIT_MS} pass. */
async function poll<T>(probe: () => Promise<T | undefined>): Promise<{ value?: T; ms: number }> {
  const started = systemClock.now();
  for (;;) {
    const value = await probe();
    const ms = systemClock.now() - started;
    if (value !== undefined) return { value, ms };
    if (ms >= SYNC_WAIT_MS) return { ms };
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The VM's identity type with or without user-assigned identities. */
function identityType(vm: ArmObject, userAssigned: boolean): string {
  const type = isRecord(vm.identity) ? str(vm.identity.type) : '';
  const system = type.toLowerCase().includes('systemassigned');
  if (system) return userAssigned ? 'SystemAssigned, UserAssigned' : 'SystemAssigned';
  return userAssigned ? 'UserAssigned' : 'None';
}

/** The ids of a VM's user-assigned identities. */
function userAssignedIds(vm: ArmObject): string[] {
  const identity = isRecord(vm.identity) ? vm.identity : {};
  const assigned = isRecord(identity.userAssignedIdentities) ? identity.userAssignedIdentities : {};
  return Object.keys(assigned);
}

/** The names of a VM's user-assigned identities, for the step lines. */
const attachedNames = (vm: ArmObject): string[] =>
  userAssignedIds(vm).map((id) => id.split('/').pop() ?? id);

/** One step: its title and its work, which returns the lines that show its result. */
interface Step {
  readonly title: string;
  readonly run: () => Promise<string[]>;
}

/** Runs the story against the `tessera up` that `up` describes; true when every step passed. */
async function tell(up: UpFile, send: HttpSend, arm: ArmClient): Promise<boolean> {
  const name = `demo-story-${randomBytes(3).toString('hex')}`;
  const group = `/subscriptions/${up.subscriptionId}/resourceGroups/${up.demo.resourceGroup}`;
  const identityId = `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const vmPath = `${group}/providers/Microsoft.Compute/virtualMachines/${up.demo.vm}`;
  const [vaultName = '', ...suffix] = new URL(up.demo.vaultUri).hostname.split('.');
  const dnsSuffix = suffix.join('.');
  const vaultId = `${group}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
  const resource = `https://${dnsSuffix}`;
  /** Whether the identity exists now, for the clean-up (closures set it). */
  const made = { created: false, deleted: false };
  let clientId = '';
  let principalId = '';
  let token = '';

  /** PATCHes the VM's identity to attach (or detach) this identity, keeping the others. */
  const patchVm = async (attach: boolean): Promise<ArmObject> => {
    const { body: vm } = await arm.request('GET', `${vmPath}?api-version=${VM_API}`);
    const others = userAssignedIds(vm).filter(
      (id) => id.toLowerCase() !== identityId.toLowerCase(),
    );
    const remaining = others.length + (attach ? 1 : 0);
    const identity = {
      type: identityType(vm, remaining > 0),
      ...(remaining > 0 ? { userAssignedIdentities: { [identityId]: attach ? {} : null } } : {}),
    };
    return (await arm.request('PATCH', `${vmPath}?api-version=${VM_API}`, { identity })).body;
  };

  const steps: Step[] = [
    {
      title: `create the user-assigned identity ${name} in ${up.demo.resourceGroup}`,
      async run() {
        const path = `${identityId}?api-version=${UAI_API}`;
        const { body } = await arm.request('PUT', path, { location: 'westeurope' });
        made.created = true;
        const properties = isRecord(body.properties) ? body.properties : {};
        clientId = str(properties.clientId);
        principalId = str(properties.principalId);
        if (clientId === '' || principalId === '') throw new Error('no clientId or principalId');
        return [`client id ${clientId}, principal id ${principalId}`];
      },
    },
    {
      title: `attach it to ${up.demo.vm}`,
      async run() {
        const vm = await patchVm(true);
        const names = attachedNames(vm);
        if (!names.includes(name)) throw new Error(`${up.demo.vm} does not list ${name}`);
        return [`${up.demo.vm} has ${names.join(', ')}`];
      },
    },
    {
      title: `grant it Key Vault Secrets User on ${vaultName}`,
      async run() {
        const roleId = BUILT_IN_ROLE_IDS.keyVaultSecretsUser;
        await arm.assignRole(up.subscriptionId, vaultId, roleId, principalId);
        return [`role ${roleId} at ${vaultId}`];
      },
    },
    {
      title: `get a token from IMDS for it by client_id, for ${resource}`,
      async run() {
        const { value, ms } = await poll(async () => {
          const answer = await imdsToken(up.imds, clientId, resource);
          return answer.status === 200 ? str(answer.body.access_token) || undefined : undefined;
        });
        if (value === undefined) throw new Error(`no token within ${seconds(ms)}`);
        token = value;
        const claims = decodeJwt(token);
        const exp = typeof claims.exp === 'number' ? claims.exp : 0;
        const problems = [
          claims.aud === resource ? '' : `aud is ${String(claims.aud)}`,
          claims.oid === principalId ? '' : `oid is ${String(claims.oid)}`,
          str(claims.xms_mirid).toLowerCase() === identityId.toLowerCase() ? '' : 'xms_mirid',
          claims.appidacr === '2' ? '' : `appidacr is ${String(claims.appidacr)}`,
          exp * 1000 > systemClock.now() ? '' : 'exp is past',
        ].filter((p) => p !== '');
        if (problems.length > 0) throw new Error(`wrong claims: ${problems.join(', ')}`);
        return [
          `client_id ${clientId}: a token after ${seconds(ms)}`,
          `aud ${String(claims.aud)}, oid ${principalId}, appidacr 2`,
          `xms_mirid ${str(claims.xms_mirid)}`,
          `exp ${new Date(exp * 1000).toISOString()} (in ${((exp * 1000 - systemClock.now()) / 3_600_000).toFixed(1)} h)`,
        ];
      },
    },
    {
      title: `read ${DEMO_SECRET} from ${vaultName} with that token`,
      async run() {
        const asIdentity: TokenProvider = {
          getToken: () => Promise.resolve(token),
          objectId: () => Promise.resolve(principalId),
          clientId: () => Promise.resolve(clientId),
        };
        const vault = createVaultClient({
          serverUrl: up.server,
          vaultName,
          dnsSuffix,
          send,
          tokens: asIdentity,
        });
        const secret = await vault.getSecret(DEMO_SECRET);
        if (typeof secret.value !== 'string') throw new Error('the answer has no value');
        return [`${vault.host}: ${DEMO_SECRET} = ${JSON.stringify(secret.value)}`];
      },
    },
    {
      title: `detach it from ${up.demo.vm}`,
      async run() {
        const vm = await patchVm(false);
        const names = attachedNames(vm);
        if (names.includes(name)) throw new Error(`${up.demo.vm} still lists ${name}`);
        return [
          `${up.demo.vm} has ${names.length === 0 ? 'no user-assigned identity' : names.join(', ')}`,
        ];
      },
    },
    {
      title: 'see IMDS refuse it once the agent has synced',
      async run() {
        const { value, ms } = await poll(async () => {
          const answer = await imdsToken(up.imds, clientId, resource);
          return answer.status >= 400 && typeof answer.body.error === 'string' ? answer : undefined;
        });
        if (value === undefined) throw new Error(`IMDS still gives it tokens after ${seconds(ms)}`);
        const { error, error_description: description } = value.body;
        return [`after ${seconds(ms)}: ${value.status} ${str(error)}: ${str(description)}`];
      },
    },
    {
      title: `delete ${name}`,
      async run() {
        const { status } = await arm.request('DELETE', `${identityId}?api-version=${UAI_API}`);
        made.deleted = true;
        return [`${status}: deleted, with its role assignment`];
      },
    },
  ];

  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  let failed: string | undefined;
  for (const [index, step] of steps.entries()) {
    const label = `[${index + 1}/${steps.length}] ${step.title}`;
    out(label);
    try {
      for (const line of await step.run()) out(`      ${line}`);
    } catch (error) {
      const message = isClientError(error)
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
      out(`      FAILED: ${message}`);
      failed = `step ${index + 1} (${step.title}) failed: ${message}`;
      break;
    }
  }
  if (made.created && !made.deleted) {
    // Deleting the identity also detaches it and removes its role assignments.
    const cleanup = await arm
      .request('DELETE', `${identityId}?api-version=${UAI_API}`)
      .then(() => `deleted ${name}`)
      .catch((error: unknown) => `could not delete ${name}: ${String(error)}`);
    out(`      cleanup: ${cleanup}`);
  }
  if (failed !== undefined) process.stderr.write(`tessera demo: ${failed}\n`);
  else out('tessera demo: every step did what it should');
  return failed === undefined;
}

/**
 * `tessera demo`: finds `tessera up` through `<dataDir>/up.json`, then, as the administrator over
 * ARM (HTTPS, its CA from `up.json`) and as the demo VM on IMDS, runs the story step by step,
 * printing each with its result. Exit status 0 when every step did what it should; 1 naming the
 * failing step (the identity is deleted all the same), or with one line when no `up` runs.
 */
export async function runDemoStory(options: ConfigFlagOptions): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  try {
    const up = await readUpFile(join(config.dataDir, 'up.json'));
    const caPem = up.ca === null ? undefined : await readFile(up.ca, 'utf8').catch(() => undefined);
    const send = createHttp({ caPem, timeoutMs: 10_000 });
    const tokens = await administrator(up, send);
    const arm = createArmClient({ serverUrl: up.server, send, tokens });
    process.stdout.write(`tessera demo: tessera up at ${up.server}, IMDS at ${up.imds}\n`);
    if (!(await tell(up, send, arm))) process.exitCode = 1;
  } catch (error) {
    if (!(error instanceof NotReady)) throw error;
    process.stderr.write(`tessera: ${error.message}\n`);
    process.exitCode = 1;
  }
}

/** Registers `tessera demo`. */
export function registerDemoStoryCommand(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  addConfigFlags(
    program
      .command('demo')
      .description(
        'run the demo story against a running `tessera up`: a new identity, attached, granted, its token from IMDS, a vault read, detached, refused, deleted',
      ),
  ).action(async (options: ConfigFlagOptions) => {
    await runDemoStory(options);
  });
}
