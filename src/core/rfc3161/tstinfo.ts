/**
 * TSTInfo (RFC 3161 §2.4.2): what the TSA asserts — imprint, serial, time,
 * accuracy, policy, nonce, TSA name. Decoded from attacker-controlled bytes;
 * every field is checked for shape here, and nothing here is trusted until
 * the CMS signature over these exact bytes has been verified.
 */
import type * as asn1js from 'asn1js';
import { TSTInfo } from 'pkijs';
import { toHex } from '../bytes.ts';
import { decodeDer, malformedUnless } from './der.ts';
import { TimestampError } from './errors.ts';
import { type HashName, hashByOid } from './hashes.ts';
import { generalNameToString } from './names.ts';

export interface Accuracy {
  readonly seconds: number;
  readonly millis: number;
  readonly micros: number;
}

export interface TstInfoFields {
  readonly policy: string;
  /** OID of messageImprint.hashAlgorithm, whether or not we implement it. */
  readonly hashAlgorithmOid: string;
  /** The hash, when we implement it (SHA-1, SHA-256/384/512). */
  readonly hashAlgorithm: HashName | undefined;
  readonly messageImprint: Uint8Array;
  /** INTEGER content bytes in hex (two's complement, so a negative serial keeps its sign bit). */
  readonly serialNumber: string;
  /** RFC 3339 / ISO 8601 UTC with milliseconds; sub-millisecond digits are truncated. */
  readonly genTime: string;
  readonly genTimeMs: number;
  /** genTime exactly as encoded (GeneralizedTime). */
  readonly genTimeRaw: string;
  readonly accuracy: Accuracy | null;
  readonly ordering: boolean;
  /** INTEGER content bytes of the nonce, if present. */
  readonly nonce: Uint8Array | null;
  readonly tsaName: string | null;
  /** The pkijs object, for the TSA-name check against the signer. */
  readonly raw: TSTInfo;
}

// RFC 3161 §2.4.2: GeneralizedTime in UTC ("Z"), seconds required, fraction
// without trailing zeros. Anything else is refused rather than guessed at.
const GEN_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

function parseGenTime(raw: string): number {
  const m = GEN_TIME.exec(raw);
  if (!m)
    throw new TimestampError(
      'MALFORMED',
      `TSTInfo genTime ${JSON.stringify(raw)} is not YYYYMMDDhhmmss[.f]Z`,
    );
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number(((m[7] ?? '') + '000').slice(0, 3));
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // Reject impossible dates (e.g. Feb 30) instead of letting Date.UTC roll them over.
  const back = new Date(t);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    throw new TimestampError('MALFORMED', `TSTInfo genTime ${raw} is not a valid date`);
  }
  return t;
}

function checkAccuracy(a: TSTInfo['accuracy']): Accuracy | null {
  if (!a) return null;
  const seconds = a.seconds ?? 0;
  const millis = a.millis ?? 0;
  const micros = a.micros ?? 0;
  // RFC 3161 §2.4.2: millis and micros are INTEGER (1..999) when present.
  const inRange = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v >= 1 && v <= 999);
  if (!Number.isSafeInteger(seconds) || seconds < 0 || !inRange(a.millis) || !inRange(a.micros)) {
    throw new TimestampError('MALFORMED', 'TSTInfo accuracy out of range');
  }
  return { seconds, millis, micros };
}

/** Decode the eContent of a time-stamp token. */
export function parseTstInfo(eContent: Uint8Array): TstInfoFields {
  const node = decodeDer(eContent, 'TSTInfo');
  const tst = malformedUnless('TSTInfo', () => new TSTInfo({ schema: node }));
  if (tst.version !== 1) throw new TimestampError('MALFORMED', `TSTInfo version ${tst.version}, expected 1`);
  // genTime is the 5th mandatory field; read the encoded text ourselves because
  // asn1js accepts local times and other forms RFC 3161 forbids.
  const fields = (node as asn1js.Sequence).valueBlock.value;
  const genNode = fields[4];
  if (genNode?.idBlock.tagClass !== 1 || genNode.idBlock.tagNumber !== 24) {
    throw new TimestampError('MALFORMED', 'TSTInfo genTime is not a GeneralizedTime');
  }
  const genTimeRaw = new TextDecoder('latin1').decode(
    (genNode as asn1js.GeneralizedTime).valueBlock.valueHexView,
  );
  const genTimeMs = parseGenTime(genTimeRaw);
  const imprint = tst.messageImprint;
  const hashAlgorithmOid = imprint.hashAlgorithm.algorithmId;
  const serial = tst.serialNumber.valueBlock.valueHexView;
  if (serial.length === 0 || serial.length > 160)
    throw new TimestampError('MALFORMED', 'TSTInfo serialNumber size');
  return {
    policy: tst.policy,
    hashAlgorithmOid,
    hashAlgorithm: hashByOid(hashAlgorithmOid)?.name,
    messageImprint: new Uint8Array(imprint.hashedMessage.valueBlock.valueHexView),
    serialNumber: toHex(serial),
    genTime: new Date(genTimeMs).toISOString(),
    genTimeMs,
    genTimeRaw,
    accuracy: checkAccuracy(tst.accuracy),
    ordering: tst.ordering ?? false,
    nonce: tst.nonce ? new Uint8Array(tst.nonce.valueBlock.valueHexView) : null,
    tsaName: tst.tsa ? generalNameToString(tst.tsa) : null,
    raw: tst,
  };
}
