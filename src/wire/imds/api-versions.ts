// IMDS api-versions: the versions Azure documents, the first version of each category, the check.
import { invalidApiVersion, missingApiVersion } from '../../core/errors.js';

/**
 * Every api-version IMDS documents, oldest first (the order of `GET /metadata/versions`).
 * Source: MicrosoftDocs/azure-compute-docs `articles/virtual-machines/instance-metadata-service.md`,
 * "Supported API versions" (PROTOCOL.md section 2.1).
 */
// prettier-ignore
export const IMDS_API_VERSIONS: readonly string[] = [
  '2017-03-01', '2017-04-02', '2017-08-01', '2017-10-01', '2017-12-01', '2018-02-01', '2018-04-02',
  '2018-10-01', '2019-02-01', '2019-03-11', '2019-04-30', '2019-06-01', '2019-06-04', '2019-08-01',
  '2019-08-15', '2019-11-01', '2020-06-01', '2020-07-15', '2020-09-01', '2020-10-01', '2020-12-01',
  '2021-01-01', '2021-02-01', '2021-03-01', '2021-05-01', '2021-08-01', '2021-10-01', '2021-11-01',
  '2021-11-15', '2021-12-13', '2023-07-01', '2023-11-15', '2024-03-15', '2024-07-17', '2025-04-07',
];

/** The versioned IMDS categories Tessera serves (`/metadata/versions` is unversioned). */
export type ImdsCategory = 'identity' | 'instance' | 'attested';

/**
 * The first api-version of each category ("Version introduced" in the IMDS documentation's
 * endpoint-category table); older versions of the list are refused on that category.
 */
export const IMDS_CATEGORY_SINCE: Readonly<Record<ImdsCategory, string>> = {
  identity: '2018-02-01',
  instance: '2017-04-02',
  attested: '2018-10-01',
};

const SUPPORTED: ReadonlySet<string> = new Set(IMDS_API_VERSIONS);

/** `{"apiVersions":[...]}`, the body of `GET /metadata/versions` (IMDS swagger `Versions`). */
export const IMDS_VERSIONS_BODY = JSON.stringify({ apiVersions: IMDS_API_VERSIONS });

/** True when `version` is documented and not older than the category's first version. */
export function isSupportedApiVersion(category: ImdsCategory, version: string): boolean {
  // ISO dates of equal length compare correctly as strings.
  return SUPPORTED.has(version) && version >= IMDS_CATEGORY_SINCE[category];
}

/**
 * Checks the `api-version` query value of a request on `category`. Throws `MissingApiVersion`
 * when it is absent or empty and `InvalidApiVersion` when it is not served on that category;
 * both render as IMDS's `Bad request. api-version is invalid ...` body with `newest-versions`.
 * Values are compared exactly (they are dates).
 */
export function checkApiVersion(category: ImdsCategory, version: string | undefined): string {
  if (version === undefined || version === '') throw missingApiVersion();
  if (!isSupportedApiVersion(category, version)) {
    throw invalidApiVersion(
      version,
      IMDS_API_VERSIONS.filter((v) => isSupportedApiVersion(category, v)),
    );
  }
  return version;
}
