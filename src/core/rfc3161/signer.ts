/**
 * Checks on the TSA's own certificate (the CMS signer).
 *
 *  - RFC 3161 §2.3: "The TSA MUST sign each time-stamp message with a key
 *    reserved specifically for that purpose … the extended key usage extension
 *    with only KeyPurposeID id-kp-timeStamping … MUST be marked as critical."
 *  - keyUsage, when present, must allow digitalSignature or nonRepudiation and
 *    nothing else (the same rule as OpenSSL's timestamp-sign purpose).
 *  - RFC 3161 §2.4.2: TSTInfo.tsa, when present, "MUST correspond to one of the
 *    subject names included in the certificate that is to be used to verify
 *    the token" — the subject (directoryName) or a subjectAltName entry.
 *
 * pkijs checks none of these. Extension values are attacker-controlled DER.
 */
import * as asn1js from 'asn1js';
import { AltName, type GeneralName, type TSTInfo } from 'pkijs';
import { bytesEqual } from '../bytes.ts';
import { type CertEntry, extensionsOf } from './certs.ts';
import { TimestampError } from './errors.ts';
import {
  OID_EXT_EXT_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  OID_EXT_SUBJECT_ALT_NAME,
  OID_KP_TIMESTAMPING,
} from './oids.ts';

function extnValueNode(ext: { extnValue: asn1js.OctetString }): asn1js.AsnType | undefined {
  const bytes = ext.extnValue.valueBlock.valueHexView;
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset !== bytes.length || parsed.result.error) return undefined;
  return parsed.result;
}

export function checkTimestampingEku(signer: CertEntry): void {
  const exts = extensionsOf(signer.cert, OID_EXT_EXT_KEY_USAGE);
  if (exts.length !== 1 || !exts[0]) {
    throw new TimestampError(
      'EKU_INVALID',
      'signer certificate has no (or a repeated) extendedKeyUsage extension',
    );
  }
  const ext = exts[0];
  if (ext.critical !== true)
    throw new TimestampError('EKU_INVALID', 'signer extendedKeyUsage is not critical');
  const node = extnValueNode(ext);
  const purposes = node instanceof asn1js.Sequence ? node.valueBlock.value : undefined;
  if (
    purposes?.length !== 1 ||
    !(purposes[0] instanceof asn1js.ObjectIdentifier) ||
    purposes[0].valueBlock.toString() !== OID_KP_TIMESTAMPING
  ) {
    throw new TimestampError('EKU_INVALID', 'signer extendedKeyUsage is not exactly id-kp-timeStamping');
  }
}

// KeyUsage BIT STRING (RFC 5280 §4.2.1.3): bit 0 digitalSignature, bit 1 nonRepudiation.
export function checkSignerKeyUsage(signer: CertEntry): void {
  const exts = extensionsOf(signer.cert, OID_EXT_KEY_USAGE);
  if (exts.length === 0) return;
  const node = exts.length === 1 && exts[0] ? extnValueNode(exts[0]) : undefined;
  if (!(node instanceof asn1js.BitString))
    throw new TimestampError('KEY_USAGE_INVALID', 'signer keyUsage malformed');
  const bits = node.valueBlock.valueHexView;
  const allowed = [0xc0]; // first octet: bits 0 and 1
  let any = false;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    if ((b & ~(allowed[i] ?? 0) & 0xff) !== 0) {
      throw new TimestampError('KEY_USAGE_INVALID', 'signer keyUsage allows more than signing');
    }
    if (b !== 0) any = true;
  }
  if (!any)
    throw new TimestampError(
      'KEY_USAGE_INVALID',
      'signer keyUsage allows neither digitalSignature nor nonRepudiation',
    );
}

function gnDer(gn: GeneralName): Uint8Array {
  return new Uint8Array((gn.toSchema() as asn1js.BaseBlock).toBER(false));
}

export function checkTsaName(tst: TSTInfo, signer: CertEntry): void {
  const tsa = tst.tsa;
  if (!tsa) return;
  if (tsa.type === 4 && signer.cert.subject.isEqual(tsa.value)) return;
  for (const ext of extensionsOf(signer.cert, OID_EXT_SUBJECT_ALT_NAME)) {
    const node = extnValueNode(ext);
    if (!node) continue;
    let alt: AltName;
    try {
      alt = new AltName({ schema: node });
    } catch {
      continue;
    }
    const want = gnDer(tsa);
    if (alt.altNames.some((n) => bytesEqual(gnDer(n), want))) return;
  }
  throw new TimestampError('TSA_NAME_MISMATCH', 'TSTInfo.tsa does not name the signer certificate');
}
