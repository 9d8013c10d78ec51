// Child process of arm-msi.test.ts: the unmodified @azure/arm-msi client, with @azure/identity's
// ClientSecretCredential, against Tessera over HTTPS; prints what each call returned as JSON.
//
// It runs in its own process because Node reads NODE_EXTRA_CA_CERTS (Tessera's local CA) only at
// start, exactly as a user's program would. Inputs come from the environment:
// TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID,RESOURCE_GROUP}.
import { readFile } from 'node:fs/promises';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ClientSecretCredential } from '@azure/identity';

function input(name: string): string {
  const value = process.env[`TESSERA_COMPAT_${name}`];
  if (value === undefined || value === '') throw new Error(`TESSERA_COMPAT_${name} is not set`);
  return value;
}

const url = input('URL');
const tenantId = input('TENANT_ID');
const subscriptionId = input('SUBSCRIPTION_ID');
const group = input('RESOURCE_GROUP');
const secret = (await readFile(input('SECRET_FILE'), 'utf8')).trim();

const credential = new ClientSecretCredential(tenantId, input('CLIENT_ID'), secret, {
  // MSAL fetches `{authorityHost}/{tenant}/v2.0/.well-known/openid-configuration` from Tessera.
  authorityHost: url,
  // Otherwise MSAL asks login.microsoftonline.com about a host it does not know.
  disableInstanceDiscovery: true,
});
const client = new ManagedServiceIdentityClient(credential, subscriptionId, {
  endpoint: url,
  // Without it arm-msi asks for a token for `${endpoint}/.default` (CLIENTS.md section 4).
  credentialScopes: ['https://management.azure.com/.default'],
});

const results: Record<string, unknown> = {};
let step = 'start';
try {
  step = 'createOrUpdate';
  const created = await client.userAssignedIdentities.createOrUpdate(group, 'id1', {
    location: 'westeurope',
    tags: { a: 'b' },
  });
  results.created = created;
  // A second identity outlives the run, so the parent can look at its principal afterwards.
  step = 'createOrUpdate id2';
  results.kept = await client.userAssignedIdentities.createOrUpdate(group, 'id2', {
    location: 'westeurope',
  });

  step = 'get';
  results.got = await client.userAssignedIdentities.get(group, 'id1');

  step = 'listByResourceGroup';
  const inGroup: string[] = [];
  for await (const identity of client.userAssignedIdentities.listByResourceGroup(group)) {
    inGroup.push(identity.name ?? '');
  }
  results.inGroup = inGroup;

  step = 'listBySubscription';
  const inSubscription: string[] = [];
  for await (const identity of client.userAssignedIdentities.listBySubscription()) {
    inSubscription.push(identity.id ?? '');
  }
  results.inSubscription = inSubscription;

  step = 'update';
  results.updated = await client.userAssignedIdentities.update(group, 'id1', {
    tags: { a: 'c', d: 'e' },
  });

  step = 'delete';
  await client.userAssignedIdentities.delete(group, 'id1');
  results.deleted = true;

  step = 'getAfterDelete';
  try {
    await client.userAssignedIdentities.get(group, 'id1');
    results.afterDelete = { found: true };
  } catch (error) {
    const { name, code, statusCode } = error as {
      name?: string;
      code?: string;
      statusCode?: number;
    };
    results.afterDelete = { name, code, statusCode };
  }
  process.stdout.write(`${JSON.stringify({ ok: true, results })}\n`);
} catch (error) {
  const { name, message, code, statusCode } = error as {
    name?: string;
    message?: string;
    code?: string;
    statusCode?: number;
  };
  process.stdout.write(
    `${JSON.stringify({ ok: false, step, error: { name, message, code, statusCode }, results })}\n`,
  );
  process.exitCode = 1;
}
