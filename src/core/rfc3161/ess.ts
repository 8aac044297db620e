/**
 * ESS signing-certificate attributes bind the signature to one certificate,
 * so a TSA key certified twice cannot have its tokens re-attributed.
 *
 *  - RFC 2634 §5.4 SigningCertificate / ESSCertID: certHash = SHA-1(cert DER).
 *  - RFC 5035 §3 SigningCertificateV2 / ESSCertIDv2, allowed for time-stamps
 *    by RFC 5816 §2.2.1: hashAlgorithm DEFAULT SHA-256.
 *
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
 *                              certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 *
 * The first ESSCertID in `certs` identifies the signer (RFC 2634 §5.4.1). Both
 * attributes may be present; each that is present must match. The structure
 * is attacker-controlled and walked node by node: any unexpected tag is MALFORMED.
 */
import type * as asn1js from 'asn1js';
import { AlgorithmIdentifier, RelativeDistinguishedNames, type SignerInfo } from 'pkijs';
import { bytesEqual } from '../bytes.ts';
import { type CertEntry, serialBytes } from './certs.ts';
import { singleAttribute } from './cms.ts';
import { malformedUnless } from './der.ts';
import { TimestampError } from './errors.ts';
import { digest, type HashName, hashByOid } from './hashes.ts';
import { OID_ATTR_SIGNING_CERTIFICATE, OID_ATTR_SIGNING_CERTIFICATE_V2 } from './oids.ts';

interface EssCertId {
  readonly hash: HashName;
  readonly certHash: Uint8Array;
  readonly issuerSerial?: { readonly issuers: RelativeDistinguishedNames[]; readonly serial: Uint8Array };
}

const isTag = (n: asn1js.AsnType | undefined, cls: number, tag: number, constructed?: boolean): boolean =>
  n !== undefined &&
  n.idBlock.tagClass === cls &&
  n.idBlock.tagNumber === tag &&
  (constructed === undefined || n.idBlock.isConstructed === constructed);

function kids(n: asn1js.AsnType): asn1js.AsnType[] {
  return (n as asn1js.Constructed).valueBlock.value;
}

function malformed(msg: string): never {
  throw new TimestampError('MALFORMED', `ESS signing-certificate: ${msg}`);
}

function parseIssuerSerial(n: asn1js.AsnType | undefined): EssCertId['issuerSerial'] {
  if (!isTag(n, 1, 16, true) || !n) return malformed('issuerSerial is not a SEQUENCE');
  const [names, serial, ...rest] = kids(n);
  if (rest.length > 0 || !names || !isTag(names, 1, 16, true)) return malformed('issuerSerial shape');
  if (!serial || !isTag(serial, 1, 2, false)) return malformed('issuerSerial.serialNumber is not an INTEGER');
  const issuers: RelativeDistinguishedNames[] = [];
  for (const gn of kids(names)) {
    // GeneralName directoryName is [4] EXPLICIT Name (RFC 5280 §4.2.1.6). The
    // issuer of a certificate can only be a directoryName; other forms never match.
    if (gn.idBlock.tagClass !== 3) return malformed('issuer GeneralName is not context-tagged');
    if (gn.idBlock.tagNumber !== 4) continue;
    const inner = kids(gn);
    if (!gn.idBlock.isConstructed || inner.length !== 1 || !isTag(inner[0], 1, 16, true)) {
      return malformed('directoryName is not an explicit Name');
    }
    issuers.push(
      malformedUnless('ESS issuer Name', () => new RelativeDistinguishedNames({ schema: inner[0] })),
    );
  }
  if (issuers.length === 0) return malformed('issuerSerial names no directoryName');
  return { issuers, serial: new Uint8Array((serial as asn1js.Integer).valueBlock.valueHexView) };
}

function parseCertIds(value: asn1js.AsnType, v2: boolean): EssCertId[] {
  if (!isTag(value, 1, 16, true)) return malformed('not a SEQUENCE');
  const [certs, policies, ...rest] = kids(value);
  if (rest.length > 0 || (policies && !isTag(policies, 1, 16, true))) return malformed('unexpected fields');
  if (!certs || !isTag(certs, 1, 16, true)) return malformed('certs is not a SEQUENCE');
  return kids(certs).map((id) => {
    if (!isTag(id, 1, 16, true)) return malformed('ESSCertID is not a SEQUENCE');
    const parts = [...kids(id)];
    let hash: HashName = v2 ? 'SHA-256' : 'SHA-1';
    if (v2 && isTag(parts[0], 1, 16, true)) {
      const algNode = parts.shift() as asn1js.AsnType;
      const alg = malformedUnless(
        'ESSCertIDv2.hashAlgorithm',
        () => new AlgorithmIdentifier({ schema: algNode }),
      );
      const h = hashByOid(alg.algorithmId);
      if (!h) throw new TimestampError('UNSUPPORTED_ALGORITHM', `ESSCertIDv2 hash ${alg.algorithmId}`);
      hash = h.name;
    }
    const certHash = parts.shift();
    if (!certHash || !isTag(certHash, 1, 4, false)) return malformed('certHash is not an OCTET STRING');
    const issuerSerial = parts.length > 0 ? parseIssuerSerial(parts.shift()) : undefined;
    if (parts.length > 0) return malformed('ESSCertID has trailing fields');
    return {
      hash,
      certHash: new Uint8Array((certHash as asn1js.OctetString).valueBlock.valueHexView),
      ...(issuerSerial ? { issuerSerial } : {}),
    };
  });
}

function checkFirst(ids: EssCertId[], signer: CertEntry, label: string): void {
  const first = ids[0];
  if (!first) throw new TimestampError('ESS_CERT_ID_MISSING', `${label}: empty certs list`);
  if (!bytesEqual(first.certHash, digest(first.hash, signer.der))) {
    throw new TimestampError(
      'ESS_CERT_ID_MISMATCH',
      `${label}: ${first.hash} certHash does not match the signer`,
    );
  }
  const is = first.issuerSerial;
  if (is) {
    const issuerOk = is.issuers.some((n) => n.isEqual(signer.cert.issuer));
    if (!issuerOk || !bytesEqual(is.serial, serialBytes(signer.cert))) {
      throw new TimestampError('ESS_CERT_ID_MISMATCH', `${label}: issuerSerial does not match the signer`);
    }
  }
}

/** Check the ESS signing-certificate attribute(s) of `si` against `signer`. */
export function checkEssCertId(si: SignerInfo, signer: CertEntry): void {
  const attrs = si.signedAttrs?.attributes ?? [];
  const v1 = singleAttribute(attrs, OID_ATTR_SIGNING_CERTIFICATE);
  const v2 = singleAttribute(attrs, OID_ATTR_SIGNING_CERTIFICATE_V2);
  if (!v1 && !v2) {
    throw new TimestampError(
      'ESS_CERT_ID_MISSING',
      'no signing-certificate or signing-certificate-v2 attribute',
    );
  }
  if (v1) checkFirst(parseCertIds(v1.values[0] as asn1js.AsnType, false), signer, 'ESSCertID');
  if (v2) checkFirst(parseCertIds(v2.values[0] as asn1js.AsnType, true), signer, 'ESSCertIDv2');
}
