// The host's identity: registration with a join token, the state file, and renewal of the host certificate.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSecretFile } from '../config/data-dir.js';
import type { Logger } from '../config/logger.js';
import { configInvalid } from '../core/errors.js';
import { certificateParts } from '../core/keys/der.js';
import {
  createCertificateSigningRequest,
  type ParsedCertificate,
  parseCertificate,
  pemBody,
  thumbprintsOf,
} from '../core/keys/x509.js';
import type { RegisterResponse } from '../wire/agent-api.js';
import { type AgentClock, type Backoff, backoffDelay, type CancelTimer } from './clock.js';
import { urlLabel } from './replica-set.js';
import type { IdentityCredential } from './identity-keys.js';
import type { HostCredentials, ServerClient } from './server-client.js';

/** The host state file inside the state directory. */
export const HOST_STATE_FILE = 'host.json';

/** What `host.json` holds (mode 0600). The private key is the host's only secret. */
interface HostStateFile {
  readonly version: 1;
  /** The first server URL configured when the file was written (all files have it). */
  readonly serverUrl: string;
  /** Every server URL configured then (replicas); absent from files of older agents. */
  readonly serverUrls?: readonly string[];
  readonly hostId: string;
  readonly hostName: string;
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** PEM. */
  readonly certificate: string;
  readonly caCertificates: readonly string[];
}

/** The registered host: its credentials now, and the renewal that keeps them current. */
export interface HostIdentity {
  readonly hostId: string;
  readonly hostName: string;
  /** The current credentials (they change when the certificate is renewed). */
  credentials(): HostCredentials;
  /** The directory's CA certificates (PEM) as of the last registration or renewal. */
  caCertificates(): readonly string[];
  /** The current host certificate's `notAfter`, epoch ms. */
  certificateNotAfter(): number;
  /** Renews the certificate at two thirds of its lifetime, retrying with backoff until stopped. */
  startRenewal(): void;
  /** Renews now (the new key and certificate replace the old ones on success). */
  renew(): Promise<void>;
  /** Calls `listener` after each successful renewal. */
  onRenewed(listener: () => void): void;
  stop(): void;
}

/** Options of {@link loadOrRegisterHost}. */
export interface HostIdentityOptions {
  /** Directory for `host.json` (created 0700). */
  readonly stateDir: string;
  readonly client: ServerClient;
  /** Needed only when there is no usable state yet. Never logged. */
  readonly joinToken?: string | undefined;
  readonly clock: AgentClock;
  readonly logger: Logger;
  /** In [0, 1): jitter for retries. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

const RENEW_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 5 * 60_000 };

/**
 * Loads the host identity from `<stateDir>/host.json`, or, when there is none (or its
 * certificate has expired) and a join token is given, registers: makes an EC P-256 key, sends a
 * CSR with the join token, and writes the state (mode 0600, directory 0700) before returning.
 * Sets the client's host credentials.
 *
 * Fails with `ConfigInvalid` when there is no usable state and no join token, when the state
 * file is readable by others or unreadable; with the server's AppError when registration is
 * refused (a join token works once), or `ServiceUnavailable` when the server cannot be reached.
 */
export async function loadOrRegisterHost(options: HostIdentityOptions): Promise<HostIdentity> {
  const { client, clock, logger } = options;
  const file = join(options.stateDir, HOST_STATE_FILE);
  await ensureStateDir(options.stateDir);
  const stored = await readState(file);
  let state = stored === undefined ? undefined : await recordServerUrls(stored, file, options);
  if (state !== undefined && parseCertificate(state.certificate).notAfter <= clock.now()) {
    if (options.joinToken === undefined) {
      throw configInvalid(
        `invalid configuration: the host certificate in ${file} has expired; create a new join token for host '${state.hostName}' and set agent.joinToken`,
      );
    }
    logger.warn({ hostId: state.hostId }, 'the host certificate has expired; registering again');
    state = undefined;
  } else if (state !== undefined && options.joinToken !== undefined) {
    logger.info({ hostId: state.hostId }, 'already registered; the join token is not used');
  }
  if (state === undefined) {
    if (options.joinToken === undefined) {
      throw configInvalid(
        `invalid configuration: the agent is not registered (no ${file}); set agent.joinToken to a join token created for this host`,
      );
    }
    const { privateKey, csr } = await newKeyAndCsr('tessera-host');
    const registered = await client.register({ joinToken: options.joinToken, csr });
    state = stateFrom(client.serverUrls, registered, privateKey);
    await writeSecretFile(file, JSON.stringify(state, null, 2));
    logger.info(
      { hostId: state.hostId, hostName: state.hostName },
      'registered the host with the server',
    );
  }
  return createHostIdentity(state, file, options);
}

function createHostIdentity(
  initial: HostStateFile,
  file: string,
  options: HostIdentityOptions,
): HostIdentity {
  const { client, clock, logger } = options;
  const random = options.random ?? Math.random;
  const listeners: (() => void)[] = [];
  let state = initial;
  let credentials = credentialsOf(state);
  let notBefore = 0;
  let notAfter = 0;
  const readTimes = (): void => {
    const parsed = parseCertificate(state.certificate);
    notBefore = parsed.notBefore;
    notAfter = parsed.notAfter;
  };
  readTimes();
  client.useHost(credentials);
  let cancel: CancelTimer | undefined;
  let stopped = false;
  let running = false;
  let attempt = 0;

  const renew = async (): Promise<void> => {
    const { privateKey, csr } = await newKeyAndCsr('tessera-host');
    const renewed = await client.renew(csr);
    if (renewed.hostId !== state.hostId) {
      throw configInvalid('The server renewed the certificate of another host.');
    }
    // The URLs configured now: the record follows replicas as they are added and removed.
    const next = stateFrom(client.serverUrls, renewed, privateKey);
    await writeSecretFile(file, JSON.stringify(next, null, 2));
    state = next;
    credentials = credentialsOf(state);
    readTimes();
    client.useHost(credentials);
    logger.info(
      { hostId: state.hostId, notAfter: new Date(notAfter).toISOString() },
      'renewed the host certificate',
    );
    for (const listener of listeners) listener();
  };

  const schedule = (delayMs: number): void => {
    cancel?.();
    if (stopped) return;
    cancel = clock.setTimer(() => {
      void run();
    }, delayMs);
  };
  const renewalDue = (): number => notBefore + ((notAfter - notBefore) * 2) / 3;
  const run = async (): Promise<void> => {
    if (stopped || running) return;
    running = true;
    try {
      await renew();
      attempt = 0;
      schedule(renewalDue() - clock.now());
    } catch (error) {
      const delay = backoffDelay(attempt, RENEW_BACKOFF, random);
      attempt += 1;
      const expired = clock.now() >= notAfter;
      logger[expired ? 'error' : 'warn'](
        { err: error, retryInMs: delay },
        expired
          ? 'the host certificate has expired and could not be renewed; a new join token may be needed'
          : 'could not renew the host certificate; retrying',
      );
      schedule(delay);
    } finally {
      running = false;
    }
  };

  return {
    hostId: state.hostId,
    hostName: state.hostName,
    credentials: () => credentials,
    caCertificates: () => state.caCertificates,
    certificateNotAfter: () => notAfter,
    startRenewal() {
      stopped = false;
      schedule(renewalDue() - clock.now());
    },
    renew,
    onRenewed(listener) {
      listeners.push(listener);
    },
    stop() {
      stopped = true;
      cancel?.();
      cancel = undefined;
    },
  };
}

/** A new EC P-256 key pair and a CSR for it. */
export async function newKeyAndCsr(
  commonName: string,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject; csr: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await createCertificateSigningRequest({ privateKey, publicKey, commonName });
  return { privateKey, publicKey, csr };
}

/**
 * Parses `certificatePem` and throws unless it certifies `privateKey`'s public key: a server
 * answering with someone else's certificate would make every later call fail obscurely. Returns
 * the parsed certificate, so callers parse it once.
 */
export function assertCertifies(certificatePem: string, privateKey: KeyObject): ParsedCertificate {
  const parsed = parseCertificate(certificatePem);
  // Compared as keys (OpenSSL's EVP_PKEY_eq): no encoding of either is made, which for a restart
  // holding 10,000 sealed keys is most of the cost.
  if (!parsed.publicKey.equals(createPublicKey(privateKey))) {
    throw configInvalid('The server issued a certificate for a key that is not ours.');
  }
  return parsed;
}

/** The server URLs a state file records. */
const recordedUrls = (state: HostStateFile): readonly string[] =>
  state.serverUrls ?? [state.serverUrl];

/**
 * True when `serverUrls` (configured now) and the URLs `state` records share one: the same
 * installation, with replicas added, removed or reordered. A set with none in common is
 * another server, or the same one under a new name (a load balancer put in front).
 */
function sameInstallation(state: HostStateFile, serverUrls: readonly string[]): boolean {
  const recorded = new Set(recordedUrls(state).map((u) => u.replace(/\/+$/, '')));
  return serverUrls.some((u) => recorded.has(u));
}

/**
 * Checks the server URLs configured now against those `state` records (warning when they name
 * another installation, see {@link sameInstallation}: the server itself refuses a host it does
 * not know) and records the new ones, so the check follows replicas as they change and warns
 * once. Returns the state as it now is.
 */
async function recordServerUrls(
  state: HostStateFile,
  file: string,
  options: HostIdentityOptions,
): Promise<HostStateFile> {
  const { serverUrls } = options.client;
  const recorded = recordedUrls(state);
  if (!sameInstallation(state, serverUrls)) {
    options.logger.warn(
      { stateServerUrls: recorded.map(urlLabel), serverUrls: serverUrls.map(urlLabel) },
      'the host was registered with another server URL; using its registration anyway',
    );
  }
  if (recorded.length === serverUrls.length && recorded.every((u, i) => u === serverUrls[i])) {
    return state;
  }
  const next = { ...state, serverUrl: serverUrls[0] ?? '', serverUrls: [...serverUrls] };
  await writeSecretFile(file, JSON.stringify(next, null, 2));
  return next;
}

function stateFrom(
  serverUrls: readonly string[],
  registered: RegisterResponse,
  privateKey: KeyObject,
): HostStateFile {
  assertCertifies(registered.certificate, privateKey);
  return {
    version: 1,
    serverUrl: serverUrls[0] ?? '',
    serverUrls: [...serverUrls],
    hostId: registered.hostId,
    hostName: registered.hostName,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    certificate: registered.certificate,
    caCertificates: [...registered.caCertificates],
  };
}

function credentialsOf(state: HostStateFile): HostCredentials {
  return {
    hostId: state.hostId,
    privateKey: createPrivateKey(state.privateKey),
    certificateDer: parseCertificate(state.certificate).der,
  };
}

/** Creates `dir` with mode 0700, or tightens an existing one we own. */
export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (!info.isDirectory()) throw configInvalid(`invalid configuration: ${dir} is not a directory`);
  // mkdir's mode is masked by the umask and ignored when the directory already exists.
  if ((info.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/**
 * Reads a state file that must be readable by its owner only; undefined when it does not exist.
 * Fails with `ConfigInvalid` for loose permissions or a file that is not JSON.
 */
export async function readPrivateJson(file: string): Promise<unknown> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configInvalid(`invalid configuration: cannot read ${file}`, error);
  }
  try {
    const info = await handle.stat();
    if ((info.mode & 0o077) !== 0) {
      throw configInvalid(
        `invalid configuration: ${file} is readable by group or others; run chmod 600 ${file}`,
      );
    }
    const text = await handle.readFile('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw configInvalid(`invalid configuration: ${file} is not valid JSON`, error);
    }
  } finally {
    await handle.close();
  }
}

async function readState(file: string): Promise<HostStateFile | undefined> {
  const value = await readPrivateJson(file);
  if (value === undefined) return undefined;
  const s = value as Partial<HostStateFile>;
  const ok =
    s.version === 1 &&
    typeof s.serverUrl === 'string' &&
    (s.serverUrls === undefined ||
      (Array.isArray(s.serverUrls) && s.serverUrls.every((u) => typeof u === 'string'))) &&
    typeof s.hostId === 'string' &&
    typeof s.hostName === 'string' &&
    typeof s.privateKey === 'string' &&
    typeof s.certificate === 'string' &&
    Array.isArray(s.caCertificates);
  if (!ok) throw configInvalid(`invalid configuration: ${file} is not a Tessera host state file`);
  try {
    const state = s as HostStateFile;
    assertCertifies(state.certificate, createPrivateKey(state.privateKey));
    return state;
  } catch (error) {
    throw configInvalid(
      `invalid configuration: ${file} holds an unusable key or certificate`,
      error,
    );
  }
}

/** Each key's PKCS#8 PEM, exported once: every write of the sealed file holds every key. */
const pems = new WeakMap<KeyObject, string>();
export function pemOf(key: KeyObject): string {
  let pem = pems.get(key);
  if (pem === undefined) {
    pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    pems.set(key, pem);
  }
  return pem;
}

/** Private keys of credentials read back from the sealed file, as they were sealed (PEM). */
const sealedPems = new WeakMap<IdentityCredential, string>();

/**
 * A credential read back from the sealed key file without importing its key or parsing its
 * certificate with OpenSSL: only the certificate's times are read (DER) and its thumbprint
 * hashed, and the private key is imported on first use. The file is authenticated (AES-GCM under
 * a key derived from the host key) and was written from credentials that {@link assertCertifies}
 * checked when they were issued, so the check is not repeated. A restart holding 10,000 keys
 * spent about 6 s and tens of MB importing keys and parsing certificates most of which no VM
 * asked for. Throws when the certificate is not readable DER in PEM.
 */
export function sealedCredential(
  principalId: string,
  privateKeyPem: string,
  certificatePem: string,
): IdentityCredential {
  const der = pemBody(certificatePem, 'CERTIFICATE');
  const { notBefore, notAfter } = certificateParts(der);
  let privateKey: KeyObject | undefined;
  const credential: IdentityCredential = {
    principalId,
    certificatePem,
    notBefore,
    notAfter,
    x5tS256: thumbprintsOf(der).sha256,
    get privateKey() {
      privateKey ??= createPrivateKey(privateKeyPem);
      return privateKey;
    },
  };
  sealedPems.set(credential, privateKeyPem);
  return credential;
}

/** The PKCS#8 PEM of a credential's private key, without importing a sealed one to export it. */
export function privatePemOf(credential: IdentityCredential): string {
  return sealedPems.get(credential) ?? pemOf(credential.privateKey);
}
