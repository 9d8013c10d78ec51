// IMDS metadata routes: the instance document, route filtering, format=text, info, versions, attested.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttestingBackend,
  imds,
  startImds,
  SUB,
  TENANT,
  UAI3,
  VM1,
  type Harness,
} from './imds-harness.js';

const V = 'api-version=2021-02-01';

/** Every primitive of an IMDS JSON document must be a string. */
function primitives(value: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => primitives(v, `${path}/${String(i)}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => primitives(v, `${path}/${k}`));
  }
  return [[path, value]];
}

describe('IMDS instance metadata', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startImds({ backend: new AttestingBackend() });
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('describes the calling VM, with every primitive a string', async () => {
    const answer = await imds(h.server.url, `/metadata/instance?${V}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    const doc = JSON.parse(answer.text) as {
      compute: Record<string, unknown>;
      network: { interface: { ipv4: unknown; ipv6: unknown }[] };
    };
    expect(Object.keys(doc)).toEqual(['compute', 'network']);
    expect(doc.compute).toMatchObject({
      azEnvironment: 'AzurePublicCloud',
      location: 'westeurope',
      name: 'vm1',
      osType: 'Linux',
      resourceGroupName: 'rg1',
      resourceId: VM1.id,
      subscriptionId: SUB,
      tags: 'env:test;team:identity',
      tagsList: [
        { name: 'env', value: 'test' },
        { name: 'team', value: 'identity' },
      ],
      vmId: VM1.vmId,
      vmScaleSetName: '',
      vmSize: 'Standard_D2s_v5',
      platformFaultDomain: '0',
    });
    expect(doc.network.interface[0]).toEqual({
      ipv4: {
        ipAddress: [
          { privateIpAddress: '127.0.0.1', publicIpAddress: '' },
          { privateIpAddress: '10.0.0.4', publicIpAddress: '' },
        ],
        subnet: [{ address: '', prefix: '' }],
      },
      ipv6: { ipAddress: [{ privateIpAddress: 'fd00::4' }] },
      macAddress: '',
    });
    const wrong = primitives(doc).filter(([, v]) => typeof v !== 'string');
    expect(wrong).toEqual([]);
  });

  it('answers another VM with its own document', async () => {
    const answer = await imds(h.server.url, `/metadata/instance/compute/name?${V}&format=text`, {
      from: '127.0.0.3',
    });
    expect(answer.text).toBe('vm3');
  });

  it('filters by route: subtrees as JSON, leaves as text', async () => {
    const compute = await imds(h.server.url, `/metadata/instance/compute?${V}`);
    expect(JSON.parse(compute.text)).toMatchObject({ name: 'vm1', vmId: VM1.vmId });
    const nic = await imds(h.server.url, `/metadata/instance/network/interface/0/?${V}`);
    expect(JSON.parse(nic.text)).toHaveProperty('macAddress', '');
    const leaf = await imds(
      h.server.url,
      `/metadata/instance/network/interface/0/ipv4/ipAddress/1/privateIpAddress?${V}&format=text`,
    );
    expect(leaf.status).toBe(200);
    expect(leaf.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(leaf.text).toBe('10.0.0.4');
    const tagsList = await imds(h.server.url, `/metadata/instance/compute/tagsList?${V}`);
    expect(JSON.parse(tagsList.text)).toEqual([
      { name: 'env', value: 'test' },
      { name: 'team', value: 'identity' },
    ]);
  });

  it('answers MSAL’s region discovery (compute/location, 2020-06-01, format=text)', async () => {
    const answer = await imds(
      h.server.url,
      '/metadata/instance/compute/location?api-version=2020-06-01&format=text',
    );
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('westeurope');
    // MSAL's fallback reads newest-versions[0] from the 400 and retries with it.
    const probe = await imds(h.server.url, '/metadata/instance/compute/location?format=json');
    const newest = (JSON.parse(probe.text) as { 'newest-versions': string[] })[
      'newest-versions'
    ][0];
    const retry = await imds(
      h.server.url,
      `/metadata/instance/compute/location?api-version=${String(newest)}&format=text`,
    );
    expect(retry.text).toBe('westeurope');
  });

  it('lists an inner node’s keys with format=text', async () => {
    const answer = await imds(h.server.url, `/metadata/instance?${V}&format=text`);
    expect(answer.text).toBe('compute/\nnetwork/');
    const compute = await imds(h.server.url, `/metadata/instance/compute?${V}&format=text`);
    expect(compute.text.split('\n')).toEqual(
      expect.arrayContaining(['location', 'name', 'tagsList/', 'storageProfile/']),
    );
  });

  it('serves only the members an api-version had', async () => {
    const old = JSON.parse(
      (await imds(h.server.url, '/metadata/instance/compute?api-version=2017-04-02')).text,
    ) as Record<string, unknown>;
    expect(Object.keys(old).sort()).toEqual(
      [
        'location',
        'name',
        'offer',
        'osType',
        'platformFaultDomain',
        'platformUpdateDomain',
        'publisher',
        'sku',
        'version',
        'vmId',
        'vmSize',
      ].sort(),
    );
    const newer = JSON.parse(
      (await imds(h.server.url, '/metadata/instance/compute?api-version=2019-03-11')).text,
    ) as Record<string, unknown>;
    expect(newer).toHaveProperty('resourceId', VM1.id);
    expect(newer).not.toHaveProperty('tagsList');
    const newest = JSON.parse(
      (await imds(h.server.url, '/metadata/instance/compute?api-version=2025-04-07')).text,
    ) as Record<string, unknown>;
    expect(newest).toHaveProperty('physicalZone', '');
    expect(newest).toHaveProperty('securityProfile', {
      secureBootEnabled: 'false',
      virtualTpmEnabled: 'false',
      encryptionAtHost: 'false',
      securityType: '',
    });
  });

  it('refuses 2017-03-01 on the instance category', async () => {
    const answer = await imds(h.server.url, '/metadata/instance?api-version=2017-03-01');
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('newest-versions');
  });

  it('lists the api-versions without needing one', async () => {
    const answer = await imds(h.server.url, '/metadata/versions');
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { apiVersions: string[] };
    expect(body.apiVersions[0]).toBe('2017-03-01');
    expect(body.apiVersions.at(-1)).toBe('2025-04-07');
    expect(body.apiVersions).toContain('2018-02-01');
  });

  it('tells the tenant of the default identity', async () => {
    const info = await imds(h.server.url, '/metadata/identity/info?api-version=2018-02-01');
    expect(info.status).toBe(200);
    expect(info.text).toBe(`{"tenantId":"${TENANT}"}`);
    const vm2 = await imds(h.server.url, '/metadata/identity/info/?api-version=2023-07-01', {
      from: '127.0.0.2',
    });
    expect(JSON.parse(vm2.text)).toEqual({ tenantId: UAI3.tenantId });
  });

  it('signs the attested document through the backend', async () => {
    const answer = await imds(
      h.server.url,
      '/metadata/attested/document?api-version=2020-09-01&nonce=1234567890',
    );
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { encoding: string; signature: string };
    expect(body.encoding).toBe('pkcs7');
    expect(Buffer.from(body.signature, 'base64').toString()).toBe(`${VM1.vmId}|1234567890`);
    const noNonce = await imds(h.server.url, '/metadata/attested/document?api-version=2020-09-01');
    expect(
      Buffer.from(
        (JSON.parse(noNonce.text) as { signature: string }).signature,
        'base64',
      ).toString(),
    ).toBe(`${VM1.vmId}|none`);
    const bad = await imds(
      h.server.url,
      '/metadata/attested/document?api-version=2020-09-01&nonce=a-b',
    );
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('{"error":"Bad request. nonce must be 1-32 alphanumeric characters."}');
    const old = await imds(h.server.url, '/metadata/attested/document?api-version=2018-04-02');
    expect(old.status).toBe(400);
  });
});
