// `POST /attest`: IMDS's attested document for a VM on the calling host, signed (CMS) by a key certified by the directory's CA.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { forbidden } from '../../core/errors.js';
import type { CertificateAuthorityService } from '../../core/directory/certificate-authority.js';
import { signCmsAttached } from '../../core/keys/cms.js';
import { issueServerCertificate } from '../../core/keys/x509.js';
import type { Host } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import type { AttestResponse } from '../../wire/agent-api.js';
import { createAgentVmReader, isPlacedOn } from './agent-vm.js';
import { bodyObject, stringMember } from './request-body.js';

const MAX_ID_CHARS = 1024;
const MAX_NONCE_CHARS = 64;
const HOUR_MS = 3_600_000;
/** The document's validity (`timeStamp.expiresOn - createdOn`). */
const DOCUMENT_LIFETIME_MS = 6 * HOUR_MS;
/** The signing certificate's lifetime; a new key and certificate are made before it ends. */
const SIGNER_LIFETIME_MS = 30 * 24 * HOUR_MS;
const SIGNER_RENEW_BEFORE_MS = 24 * HOUR_MS;
/** The signer's name (Azure's is a subdomain of metadata.azure.com). */
export const ATTESTATION_SIGNER_NAME = 'metadata.tessera';

const generateRsa = promisify(generateKeyPair);

interface Signer {
  readonly certificateDer: Buffer;
  readonly privateKey: KeyObject;
  readonly caCertificateDer: Buffer;
  readonly notAfter: number;
}

/** Signs attested documents; the key lives in memory only and is made again in each process. */
export interface AttestationSigner {
  attest(host: Host, body: unknown): Promise<AttestResponse>;
}

/**
 * Makes the signer of `POST /attest`. On first use (and again a day before its 30-day
 * certificate ends) it makes an RSA-2048 key in memory and has the directory's CA issue it a
 * certificate `CN=metadata.tessera`. The VM must be placed on the calling host (403 otherwise).
 */
export function createAttestationSigner(deps: {
  readonly store: Store;
  readonly clock: Clock;
  readonly ca: CertificateAuthorityService;
}): AttestationSigner {
  let current: Promise<Signer> | undefined;
  const makeSigner = async (): Promise<Signer> => {
    const now = deps.clock.now();
    const ca = await deps.ca.current();
    const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
    const certificate = await issueServerCertificate({
      ca,
      publicKey,
      dnsNames: [ATTESTATION_SIGNER_NAME],
      ipAddresses: [],
      notBefore: now - 5 * 60_000,
      notAfter: Math.min(now + SIGNER_LIFETIME_MS, ca.notAfter),
    });
    return {
      certificateDer: certificate.der,
      privateKey,
      caCertificateDer: ca.certificateDer,
      notAfter: Math.min(now + SIGNER_LIFETIME_MS, ca.notAfter),
    };
  };
  const signer = async (): Promise<Signer> => {
    const pending = current ?? makeSigner();
    current = pending;
    try {
      const found = await pending;
      if (found.notAfter - deps.clock.now() > SIGNER_RENEW_BEFORE_MS) return found;
    } catch (error) {
      if (current === pending) current = undefined;
      throw error;
    }
    if (current === pending) current = makeSigner();
    return current;
  };

  return {
    async attest(host, body) {
      const request = bodyObject(body);
      const vmId = stringMember(request, 'vmId', MAX_ID_CHARS);
      const nonce =
        request.nonce === undefined || request.nonce === null
          ? undefined
          : stringMember(request, 'nonce', MAX_NONCE_CHARS);
      const resource = await deps.store.resources.get(vmId);
      if (resource === undefined || !isPlacedOn(resource, host.id)) {
        throw forbidden(`The VM '${vmId}' is not placed on host '${host.name}'.`, 'vmId');
      }
      const vm = await createAgentVmReader(deps.store)(resource);
      const now = deps.clock.now();
      const document = attestedDocument({
        vmId: vm.vmId,
        subscriptionId: vm.subscriptionId,
        nonce: nonce ?? nonceTimestamp(now),
        createdOn: now,
        expiresOn: now + DOCUMENT_LIFETIME_MS,
      });
      const { certificateDer, privateKey, caCertificateDer } = await signer();
      const der = signCmsAttached(
        Buffer.from(JSON.stringify(document), 'utf8'),
        { certificateDer, privateKey },
        [caCertificateDer],
        new Date(now),
      );
      return { signature: der.toString('base64') };
    },
  };
}

/**
 * The signed JSON, field for field as Azure's (azure-compute-docs instance-metadata-service.md,
 * "Attested data"): `plan` and `sku` empty (Tessera records no marketplace plan or image sku),
 * `licenseType` empty.
 */
export function attestedDocument(facts: {
  vmId: string;
  subscriptionId: string;
  nonce: string;
  createdOn: number;
  expiresOn: number;
}): Record<string, unknown> {
  return {
    licenseType: '',
    nonce: facts.nonce,
    plan: { name: '', product: '', publisher: '' },
    sku: '',
    subscriptionId: facts.subscriptionId,
    timeStamp: {
      createdOn: azureTimestamp(facts.createdOn),
      expiresOn: azureTimestamp(facts.expiresOn),
    },
    vmId: facts.vmId,
  };
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Azure's `MM/dd/yy HH:mm:ss -0000` (UTC), e.g. `11/30/20 21:19:19 -0000`. */
export function azureTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} -0000`;
}

/** The nonce IMDS uses when the caller gives none: `yyyyMMdd-HHmmss` UTC. */
export function nonceTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear())}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}
