// IMDS request paths: which endpoint a path names, with the spellings real clients send.

/**
 * The endpoints of the IMDS surface. `probe` is one of the IMDSv2 ("MSI v2") paths that MSAL
 * uses to detect the certificate flow (PROTOCOL.md section 1.9); `identityOther` and `unknown`
 * are paths Tessera does not serve, under `/metadata/identity` and elsewhere.
 */
export type ImdsEndpoint =
  'token' | 'info' | 'instance' | 'versions' | 'attested' | 'probe' | 'identityOther' | 'unknown';

/** A matched path. `segments` are the route-filter keys below `/metadata/instance`. */
export interface ImdsPath {
  readonly endpoint: ImdsEndpoint;
  readonly segments: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);
const fixed = (endpoint: ImdsEndpoint): ImdsPath => Object.freeze({ endpoint, segments: NONE });
const TOKEN = fixed('token');
const INFO = fixed('info');
const VERSIONS = fixed('versions');
const ATTESTED = fixed('attested');
const PROBE = fixed('probe');
const IDENTITY_OTHER = fixed('identityOther');
const UNKNOWN = fixed('unknown');
const INSTANCE = fixed('instance');

/** The IMDSv2 probe paths below `/metadata`, lower case (MSAL lower-cases its URLs). */
const PROBE_PATHS: ReadonlySet<string> = new Set([
  '/identity/credential',
  '/identity/getplatformmetadata',
  '/identity/issuecredential',
]);

/**
 * Names the endpoint of `path` (the request target before `?`). Accepted spellings, all from
 * what clients send (CLIENTS.md sections 0 and 2): a trailing `/`
 * (`/metadata/identity/oauth2/token/` from MSAL with `AZURE_POD_IDENTITY_AUTHORITY_HOST`), a
 * leading `//` (that variable ending in `/`), and `/metadata` in any case (Microsoft's own
 * emulator, aad-pod-identity `pkg/nmi/server/server.go`, matches `(?i:metadata)`). Below
 * `/metadata` the path is case-sensitive, except for the IMDSv2 probe paths.
 */
export function matchImdsPath(path: string): ImdsPath {
  // The common spellings first: no allocation on the hot path.
  if (path === '/metadata/identity/oauth2/token' || path === '/metadata/identity/oauth2/token/') {
    return TOKEN;
  }
  let p = path.startsWith('//') ? path.slice(1) : path;
  if (p.length < 9 || p.slice(0, 9).toLowerCase() !== '/metadata') return UNKNOWN;
  p = p.slice(9);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  switch (p) {
    case '/identity/oauth2/token':
      return TOKEN;
    case '/identity/info':
      return INFO;
    case '/versions':
      return VERSIONS;
    case '/attested/document':
      return ATTESTED;
    case '/instance':
      return INSTANCE;
    default:
      break;
  }
  if (p.startsWith('/instance/')) {
    const segments = p
      .slice('/instance/'.length)
      .split('/')
      .filter((s) => s !== '');
    return segments.length === 0 ? INSTANCE : { endpoint: 'instance', segments };
  }
  if (p === '/identity' || p.startsWith('/identity/')) {
    return PROBE_PATHS.has(p.toLowerCase()) ? PROBE : IDENTITY_OTHER;
  }
  return UNKNOWN;
}
