// CMS SignedData (RFC 5652) with attached content: what IMDS's attested document carries as its `signature`.
import { createHash, sign, type KeyObject } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CMSVersion,
  DigestAlgorithmIdentifier,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  SigningTime,
  UnprotectedAttributes,
  id_contentType,
  id_data,
  id_messageDigest,
  id_signedData,
  id_signingTime,
} from '@peculiar/asn1-cms';
import { AsnConvert, AsnObjectIdentifierConverter, OctetString } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

const ID_SHA256 = '2.16.840.1.101.3.4.2.1';
const ID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** DER NULL: the parameters of the RSA PKCS#1 v1.5 algorithm identifiers (RFC 4055 section 5). */
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** The signer of {@link signCmsAttached}: its certificate (DER) and private key (RSA or EC P-256). */
export interface CmsSigner {
  readonly certificateDer: Uint8Array;
  readonly privateKey: KeyObject;
}

/**
 * A DER `ContentInfo` (id-signedData) wrapping a CMS SignedData (RFC 5652 section 5) with
 * `content` attached as id-data: version 1, SHA-256, certificates `[signer, ...chain]`, one
 * SignerInfo identified by issuer and serial number with signed attributes contentType,
 * messageDigest and signingTime (`signingTime`, default now). The signature covers the DER of the
 * signed attributes as a SET (section 5.4): sha256WithRSAEncryption (RSASSA-PKCS1-v1_5) for an
 * RSA key, ecdsa-with-SHA256 for an EC P-256 key.
 */
export function signCmsAttached(
  content: Uint8Array,
  signer: CmsSigner,
  chain: readonly Uint8Array[] = [],
  signingTime: Date = new Date(),
): Buffer {
  const signerCertificate = AsnConvert.parse(signer.certificateDer, Certificate);
  const sha256 = new DigestAlgorithmIdentifier({ algorithm: ID_SHA256 });
  const signatureAlgorithm = signatureAlgorithmOf(signer.privateKey);

  const attribute = (attrType: string, value: ArrayBuffer): Attribute =>
    new Attribute({ attrType, attrValues: [value] });
  const signedAttrs = sortedByDer([
    attribute(id_contentType, AsnObjectIdentifierConverter.toASN(id_data).toBER()),
    attribute(
      id_messageDigest,
      AsnConvert.serialize(new OctetString(createHash('sha256').update(content).digest())),
    ),
    attribute(id_signingTime, AsnConvert.serialize(new SigningTime(signingTime))),
  ]);

  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: signerCertificate.tbsCertificate.issuer,
        serialNumber: signerCertificate.tbsCertificate.serialNumber,
      }),
    }),
    digestAlgorithm: sha256,
    signedAttrs,
    signatureAlgorithm,
    signature: new OctetString(0),
  });
  // The bytes signed are the signed attributes encoded as a SET OF Attribute (RFC 5652 5.4):
  // UnprotectedAttributes is that type; the SignerInfo carries the same elements in this order.
  const toSign = Buffer.from(AsnConvert.serialize(new UnprotectedAttributes(signedAttrs)));
  signerInfo.signature = new OctetString(sign('sha256', toSign, keyForSigning(signer.privateKey)));

  const signedData = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([sha256]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: id_data,
      eContent: new EncapsulatedContent({ single: new OctetString(content) }),
    }),
    certificates: new CertificateSet([
      new CertificateChoices({ certificate: signerCertificate }),
      ...chain.map(
        (der) => new CertificateChoices({ certificate: AsnConvert.parse(der, Certificate) }),
      ),
    ]),
    signerInfos: new SignerInfos([signerInfo]),
  });
  return Buffer.from(
    AsnConvert.serialize(
      new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) }),
    ),
  );
}

function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithmIdentifier {
  if (key.asymmetricKeyType === 'rsa') {
    return new SignatureAlgorithmIdentifier({
      algorithm: ID_SHA256_WITH_RSA,
      parameters: DER_NULL,
    });
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return new SignatureAlgorithmIdentifier({ algorithm: ID_ECDSA_WITH_SHA256 });
  }
  throw new Error('CMS: the signer key must be RSA or EC P-256');
}

/** ECDSA signatures in CMS are DER `Ecdsa-Sig-Value` (RFC 5753 section 7.2), node's default. */
function keyForSigning(key: KeyObject): KeyObject | { key: KeyObject; dsaEncoding: 'der' } {
  return key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key;
}

/** DER orders a SET OF by its elements' encodings (X.690 section 11.6). */
function sortedByDer(attributes: Attribute[]): Attribute[] {
  return attributes
    .map((attribute) => ({ attribute, der: Buffer.from(AsnConvert.serialize(attribute)) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map(({ attribute }) => attribute);
}
