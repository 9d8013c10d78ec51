// The IMDS instance document (`/metadata/instance`): compute and network, route filtering, text.
import { invalidParameter, invalidRequest, notFound } from '../../core/errors.js';
import type { AgentVm } from '../agent-api.js';
import { isIpv6, normaliseAddress } from './address.js';

/** An IMDS JSON value: every primitive is a string (IMDS documentation, "Data format"). */
export type ImdsJson = string | readonly ImdsJson[] | ImdsJsonObject;

/** A JSON object of {@link ImdsJson} values. */
export interface ImdsJsonObject {
  readonly [key: string]: ImdsJson;
}

/** What Tessera reports as `compute.azEnvironment` (Azure's spelling in the text sample). */
export const IMDS_AZ_ENVIRONMENT = 'AzurePublicCloud';

/** The content types of the two IMDS formats. */
export const IMDS_JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const IMDS_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/** A filtered instance document, ready to send. */
export interface InstanceResponse {
  readonly contentType: typeof IMDS_JSON_CONTENT_TYPE | typeof IMDS_TEXT_CONTENT_TYPE;
  readonly body: string;
}

/** The requested `format`: `json` (IMDS's default) or `text`. */
export type ImdsFormat = 'json' | 'text';

type Entry = readonly [key: string, since: string, value: () => ImdsJson];

/** The object of the entries introduced at or before `version` (ISO dates compare as strings). */
function pick(version: string, entries: readonly Entry[]): ImdsJsonObject {
  const out: Record<string, ImdsJson> = {};
  for (const [key, since, value] of entries) if (version >= since) out[key] = value();
  return out;
}

const V0 = '2017-04-02';

function tagsString(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}:${v}`)
    .join(';');
}

function storageProfile(vm: AgentVm, version: string): ImdsJsonObject {
  const empty = (): string => '';
  return {
    dataDisks: [],
    imageReference: pick(version, [
      ['id', V0, empty],
      ['offer', V0, empty],
      ['publisher', V0, empty],
      ['sku', V0, empty],
      ['version', V0, empty],
      ['communityGalleryImageId', '2023-07-01', empty],
      ['sharedGalleryImageId', '2023-07-01', empty],
      ['exactVersion', '2023-07-01', empty],
    ]),
    osDisk: {
      caching: '',
      createOption: '',
      diffDiskSettings: { option: '' },
      diskSizeGB: '',
      encryptionSettings: { enabled: 'false' },
      image: { uri: '' },
      managedDisk: { id: '', storageAccountType: '' },
      name: '',
      osType: vm.osType,
      vhd: { uri: '' },
      writeAcceleratorEnabled: 'false',
    },
    ...pick(version, [['resourceDisk', '2021-02-01', () => ({ size: '' })]]),
  };
}

/**
 * `compute` of the instance document for `vm` as of `version`: the members the IMDS
 * documentation lists with the version that introduced each (members newer than `version` are
 * left out), in alphabetical order. What Tessera does not model (image, plan, disks, zones,
 * OS profile, ...) is present as `''` or empty, as IMDS does for missing values; fault and
 * update domains are `"0"`.
 */
export function computeDocument(vm: AgentVm, version: string): ImdsJsonObject {
  const empty = (): string => '';
  return pick(version, [
    ['additionalCapabilities', '2021-11-01', () => ({ hibernationEnabled: 'false' })],
    ['azEnvironment', '2018-10-01', () => IMDS_AZ_ENVIRONMENT],
    ['customData', '2019-02-01', empty],
    ['evictionPolicy', '2020-12-01', empty],
    ['extendedLocation', '2021-03-01', () => ({ type: '', name: '' })],
    ['host', '2021-11-15', () => ({ id: '' })],
    ['hostGroup', '2021-11-15', () => ({ id: '' })],
    ['isHostCompatibilityLayerVm', '2020-06-01', () => 'false'],
    ['licenseType', '2020-09-01', empty],
    ['location', V0, () => vm.location],
    ['name', V0, () => vm.name],
    ['offer', V0, empty],
    [
      'osProfile',
      '2020-07-15',
      () =>
        pick(version, [
          ['adminUsername', '2020-07-15', empty],
          ['computerName', '2020-07-15', empty],
          ['disablePasswordAuthentication', '2020-10-01', empty],
        ]),
    ],
    ['osType', V0, () => vm.osType],
    ['physicalZone', '2023-11-15', empty],
    ['placementGroupId', '2017-08-01', empty],
    ['plan', '2018-04-02', () => ({ name: '', product: '', publisher: '' })],
    ['platformFaultDomain', V0, () => '0'],
    ['platformSubFaultDomain', '2021-10-01', empty],
    ['platformUpdateDomain', V0, () => '0'],
    ['priority', '2020-12-01', empty],
    ['provider', '2018-10-01', () => 'Microsoft.Compute'],
    ['publicKeys', '2018-04-02', () => []],
    ['publisher', V0, empty],
    ['resourceGroupName', '2017-08-01', () => vm.resourceGroup],
    ['resourceId', '2019-03-11', () => vm.id],
    [
      'securityProfile',
      '2020-06-01',
      () =>
        pick(version, [
          ['secureBootEnabled', '2020-06-01', () => 'false'],
          ['virtualTpmEnabled', '2020-06-01', () => 'false'],
          ['encryptionAtHost', '2021-11-01', () => 'false'],
          ['securityType', '2021-12-13', empty],
        ]),
    ],
    ['sku', V0, empty],
    ['storageProfile', '2019-06-01', () => storageProfile(vm, version)],
    ['subscriptionId', '2017-08-01', () => vm.subscriptionId],
    ['tags', '2017-08-01', () => tagsString(vm.tags)],
    [
      'tagsList',
      '2019-06-04',
      () => Object.entries(vm.tags).map(([name, value]) => ({ name, value })),
    ],
    ['userData', '2021-01-01', empty],
    ['version', V0, empty],
    ['virtualMachineScaleSet', '2021-03-01', () => ({ id: '' })],
    ['vmId', V0, () => vm.vmId],
    ['vmScaleSetName', '2017-12-01', () => vm.scaleSetName],
    ['vmSize', V0, () => vm.vmSize],
    ['zone', '2017-12-01', empty],
  ]);
}

/**
 * `network` of the instance document: one interface holding the VM's addresses (IPv4 under
 * `ipv4.ipAddress` with an empty `publicIpAddress`, IPv6 under `ipv6.ipAddress`); subnet and
 * MAC address are unknown to Tessera and `''`.
 */
export function networkDocument(vm: AgentVm): ImdsJsonObject {
  const v4: ImdsJsonObject[] = [];
  const v6: ImdsJsonObject[] = [];
  for (const raw of vm.addresses) {
    const address = normaliseAddress(raw);
    if (isIpv6(address)) v6.push({ privateIpAddress: address });
    else v4.push({ privateIpAddress: address, publicIpAddress: '' });
  }
  const subnet = v4.length > 0 ? [{ address: '', prefix: '' }] : [];
  return {
    interface: [{ ipv4: { ipAddress: v4, subnet }, ipv6: { ipAddress: v6 }, macAddress: '' }],
  };
}

/** `GET /metadata/instance` for `vm` as of `version`: `{"compute":{...},"network":{...}}`. */
export function instanceDocument(vm: AgentVm, version: string): ImdsJsonObject {
  return { compute: computeDocument(vm, version), network: networkDocument(vm) };
}

/**
 * Validates the `format` query value: absent is JSON; `json` and `text` are accepted exactly.
 * Throws `InvalidParameter` (400) for anything else.
 */
export function parseFormat(value: string | undefined): ImdsFormat | undefined {
  if (value === undefined || value === 'json' || value === 'text') return value;
  throw invalidParameter('format', "Bad request. format must be 'json' or 'text'.");
}

function child(node: ImdsJson, key: string): ImdsJson | undefined {
  if (typeof node === 'string') return undefined;
  if (isArray(node)) {
    if (!/^(0|[1-9][0-9]{0,8})$/.test(key)) return undefined;
    return node[Number(key)];
  }
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function isArray(node: ImdsJson): node is readonly ImdsJson[] {
  return Array.isArray(node);
}

/** `format=text` of an inner node: its keys (indexes for an array), `/` after non-leaves. */
function listing(node: ImdsJsonObject | readonly ImdsJson[]): string {
  const keys = isArray(node) ? node.map((_, i) => String(i)) : Object.keys(node);
  return keys.map((key) => (typeof child(node, key) === 'string' ? key : `${key}/`)).join('\n');
}

/**
 * Applies IMDS route filtering (IMDS documentation, "Route parameters"): `segments` walk the
 * document by key and array index (`network/interface/0/ipv4/ipAddress/0/privateIpAddress`).
 * A leaf needs `format=text` and is sent as its bare text; asking for a leaf as JSON (with or
 * without `format=json`, "the default format is json") is a 400. An inner node is JSON, or with
 * `format=text` the list of its keys, one a line, `/` after those that are not leaves (older
 * IMDS documentation's text listing). Throws `NotFound` (404) for a path that does not exist.
 */
export function selectInstance(
  document: ImdsJsonObject,
  segments: readonly string[],
  format: ImdsFormat | undefined,
): InstanceResponse {
  let node: ImdsJson = document;
  for (const segment of segments) {
    const next = child(node, segment);
    if (next === undefined) throw notFound('Not found');
    node = next;
  }
  if (typeof node === 'string') {
    if (format !== 'text') {
      throw invalidRequest('Bad request. A leaf node can only be requested with format=text.');
    }
    return { contentType: IMDS_TEXT_CONTENT_TYPE, body: node };
  }
  if (format === 'text') return { contentType: IMDS_TEXT_CONTENT_TYPE, body: listing(node) };
  return { contentType: IMDS_JSON_CONTENT_TYPE, body: JSON.stringify(node) };
}
