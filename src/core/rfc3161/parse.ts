/**
 * Parse a TimeStampResp (RFC 3161 §2.4.2) or a bare TimeStampToken (a CMS
 * ContentInfo wrapping SignedData, RFC 5652 §3 and §5) from untrusted bytes.
 *
 * Defensive by design: the input is attacker-controlled. Every failure becomes
 * TimestampError('MALFORMED'); trailing bytes, a second SignerInfo, the wrong
 * eContentType or a nested constructed eContent are refused. Parsing proves
 * nothing about authenticity — see verify.ts.
 */
import type * as asn1js from 'asn1js';
import { ContentInfo, SignedData, type SignerInfo } from 'pkijs';
import { concatBytes } from '../bytes.ts';
import { type CertEntry, parseCertificate } from './certs.ts';
import { decodeDer, malformedUnless } from './der.ts';
import { TimestampError } from './errors.ts';
import { OID_CT_TSTINFO, OID_SIGNED_DATA } from './oids.ts';
import { GRANTED_STATUS, type PkiStatus, parseStatus } from './status.ts';
import { parseTstInfo, type TstInfoFields } from './tstinfo.ts';

export interface ParsedToken {
  /** The ContentInfo bytes, as received. */
  readonly der: Uint8Array;
  readonly signedData: SignedData;
  /** RFC 3161 §2.4.2: exactly one SignerInfo. */
  readonly signerInfo: SignerInfo;
  /** Certificates embedded in SignedData.certificates (X.509 choice only), exact DER. */
  readonly certificates: readonly CertEntry[];
  /** The signed eContent: the DER of TSTInfo. */
  readonly eContent: Uint8Array;
  readonly tstInfo: TstInfoFields;
}

export interface ParsedTimestamp {
  readonly form: 'response' | 'token';
  /** For a bare token, `granted` (a token is only ever issued on success). */
  readonly status: PkiStatus;
  /** Absent when the TSA did not grant the request. */
  readonly token: ParsedToken | null;
}

const isUniversal = (n: asn1js.AsnType | undefined, tag: number): boolean =>
  n !== undefined && n.idBlock.tagClass === 1 && n.idBlock.tagNumber === tag;

function exactBytes(n: asn1js.AsnType): Uint8Array {
  const v = n.valueBeforeDecodeView;
  return v.byteLength > 0 ? new Uint8Array(v) : new Uint8Array(n.toBER(false));
}

function children(n: asn1js.AsnType): asn1js.AsnType[] {
  const v = (n as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  return Array.isArray(v) ? (v as asn1js.AsnType[]) : [];
}

/** Parse `bytes` as a TimeStampResp or a bare TimeStampToken. */
export function parseTimestamp(bytes: Uint8Array): ParsedTimestamp {
  const root = decodeDer(bytes, 'time-stamp');
  if (!isUniversal(root, 16)) throw new TimestampError('MALFORMED', 'time-stamp: not a SEQUENCE');
  const first = children(root)[0];
  // ContentInfo starts with an OID; TimeStampResp with the PKIStatusInfo SEQUENCE.
  if (isUniversal(first, 6)) return { form: 'token', status: GRANTED_STATUS, token: parseTokenNode(root) };
  if (!first || !isUniversal(first, 16))
    throw new TimestampError('MALFORMED', 'time-stamp: unknown structure');
  const parts = children(root);
  if (parts.length > 2) throw new TimestampError('MALFORMED', 'TimeStampResp: unexpected fields');
  const status = parseStatus(first);
  const tokenNode = parts[1];
  const granted = status.status === 0 || status.status === 1;
  if (granted && !tokenNode) throw new TimestampError('MALFORMED', 'TimeStampResp: granted without a token');
  return { form: 'response', status, token: granted && tokenNode ? parseTokenNode(tokenNode) : null };
}

/** Parse a bare TimeStampToken (ContentInfo) from bytes. */
export function parseTimestampToken(bytes: Uint8Array): ParsedToken {
  return parseTokenNode(decodeDer(bytes, 'TimeStampToken'));
}

/**
 * The octets of eContent. DER TSAs send a primitive OCTET STRING; BER encoders
 * (pkijs among them) send a constructed one split into primitive segments
 * (X.690 §8.7.3). We accept exactly one level of primitive segments.
 */
function eContentBytes(node: asn1js.OctetString | undefined): Uint8Array {
  if (!node || !isUniversal(node, 4))
    throw new TimestampError('MALFORMED', 'SignedData: eContent missing or not an OCTET STRING');
  if (!node.idBlock.isConstructed) return new Uint8Array(node.valueBlock.valueHexView);
  const segments = children(node);
  if (segments.length > 1024 || segments.some((s) => !isUniversal(s, 4) || s.idBlock.isConstructed)) {
    throw new TimestampError('MALFORMED', 'SignedData: bad constructed eContent');
  }
  return concatBytes(
    ...segments.map((s) => new Uint8Array((s as asn1js.OctetString).valueBlock.valueHexView)),
  );
}

function parseTokenNode(node: asn1js.AsnType): ParsedToken {
  const der = exactBytes(node);
  const contentInfo = malformedUnless('ContentInfo', () => new ContentInfo({ schema: node }));
  if (contentInfo.contentType !== OID_SIGNED_DATA) {
    throw new TimestampError(
      'MALFORMED',
      `ContentInfo: contentType ${contentInfo.contentType} is not signedData`,
    );
  }
  const sdNode = contentInfo.content as asn1js.AsnType;
  const signedData = malformedUnless('SignedData', () => new SignedData({ schema: sdNode }));
  // RFC 3161 §2.4.2: "The time-stamp token MUST NOT contain any signatures
  // other than the signature of the TSA."
  if (signedData.signerInfos.length !== 1) {
    throw new TimestampError(
      'MALFORMED',
      `SignedData: ${signedData.signerInfos.length} SignerInfos, expected 1`,
    );
  }
  const signerInfo = signedData.signerInfos[0] as SignerInfo;
  const eci = signedData.encapContentInfo;
  if (eci.eContentType !== OID_CT_TSTINFO) {
    throw new TimestampError(
      'MALFORMED',
      `SignedData: eContentType ${eci.eContentType} is not id-ct-TSTInfo`,
    );
  }
  const eContent = eContentBytes(eci.eContent);
  const tstInfo = parseTstInfo(eContent);

  // Take certificates from the encoded [0] field so each keeps its exact bytes
  // (ESSCertID hashes them). Non-X.509 choices (attribute certs, other) are skipped.
  const certificates: CertEntry[] = [];
  const certsField = children(sdNode).find((c) => c.idBlock.tagClass === 3 && c.idBlock.tagNumber === 0);
  if (certsField) {
    const list = children(certsField);
    if (list.length > 64) throw new TimestampError('MALFORMED', 'SignedData: too many certificates');
    for (const c of list) {
      if (!isUniversal(c, 16)) continue;
      certificates.push(parseCertificate(exactBytes(c), 'SignedData certificate'));
    }
  }
  return { der, signedData, signerInfo, certificates, eContent, tstInfo };
}
