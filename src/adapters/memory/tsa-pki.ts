/**
 * A real (not canned) RFC 3161 time-stamping authority in process, built with
 * pkijs + WebCrypto in the style of sigstore-js packages/mock: a root, an
 * intermediate, a TSA certificate (EKU id-kp-timeStamping, critical), and
 * tokens signed over a real TSTInfo. Everything is generated at run time; no
 * keys are committed. Two key families, as the OpenSSL TSAs of the test
 * harness (src/local/tsa/pki.ts): ECDSA P-256 signing with ESSCertIDv2, and
 * RSA-2048 signing with ESSCertID v1.
 *
 * The memory timestamper (./timestamper.ts) issues its tokens here. The knobs
 * also build what no honest TSA issues — a TSA certificate whose EKU is not
 * critical, one expired at genTime, a token naming another certificate — for
 * the negative tests of src/core/rfc3161.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { sha256 } from '../../core/hash.ts';

const OID = {
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha1: '1.3.14.3.2.26',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  codeSigning: '1.3.6.1.5.5.7.3.3',
};

const engine = new pkijs.CryptoEngine({ name: 'test', crypto: globalThis.crypto });
const buf = (u: Uint8Array): ArrayBuffer => u.slice().buffer;

export interface Issued {
  readonly cert: pkijs.Certificate;
  readonly der: Uint8Array;
  readonly keys: CryptoKeyPair;
}

export type EkuMode = 'critical' | 'non-critical' | 'absent' | 'extra-purpose';

/** Key family of a PKI: every key of it is ECDSA P-256 or RSA-2048 (PKCS#1 v1.5, SHA-256). */
export type KeyAlgorithm = 'ecdsa' | 'rsa';

interface CertSpec {
  readonly keyAlgorithm: KeyAlgorithm;
  readonly cn: string;
  readonly serial: number;
  readonly issuer?: Issued;
  readonly ca: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly eku?: EkuMode;
}

async function keyPair(alg: KeyAlgorithm): Promise<CryptoKeyPair> {
  const params =
    alg === 'ecdsa'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        };
  return (await globalThis.crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({
        type: '2.5.4.10',
        value: new asn1js.Utf8String({ value: 'anchorlog test' }),
      }),
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }),
    ],
  });
}

async function issue(spec: CertSpec): Promise<Issued> {
  const keys = await keyPair(spec.keyAlgorithm);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: spec.serial });
  cert.subject = name(spec.cn);
  cert.issuer = spec.issuer ? spec.issuer.cert.subject : name(spec.cn);
  cert.notBefore = new pkijs.Time({ type: pkijs.TimeType.UTCTime, value: spec.notBefore });
  cert.notAfter = new pkijs.Time({ type: pkijs.TimeType.UTCTime, value: spec.notAfter });
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  const ext: pkijs.Extension[] = [];
  const bc = new pkijs.BasicConstraints({ cA: spec.ca });
  ext.push(
    new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: bc.toSchema().toBER(false) }),
  );
  // keyUsage: CA → keyCertSign|cRLSign (0x06), TSA → digitalSignature (0x80).
  const ku = new asn1js.BitString({
    valueHex: new Uint8Array([spec.ca ? 0x06 : 0x80]).buffer,
    unusedBits: 1,
  });
  ext.push(new pkijs.Extension({ extnID: '2.5.29.15', critical: true, extnValue: ku.toBER(false) }));
  if (spec.eku && spec.eku !== 'absent') {
    const purposes = spec.eku === 'extra-purpose' ? [OID.timeStamping, OID.codeSigning] : [OID.timeStamping];
    const eku = new pkijs.ExtKeyUsage({ keyPurposes: purposes });
    ext.push(
      new pkijs.Extension({
        extnID: '2.5.29.37',
        critical: spec.eku !== 'non-critical',
        extnValue: eku.toSchema().toBER(false),
      }),
    );
  }
  cert.extensions = ext;
  await cert.sign((spec.issuer ?? { keys }).keys.privateKey, 'SHA-256', engine);
  return { cert, der: new Uint8Array(cert.toSchema(true).toBER(false)), keys };
}

export interface MockPki {
  readonly keyAlgorithm: KeyAlgorithm;
  readonly root: Issued;
  readonly intermediate: Issued;
  readonly tsa: Issued;
}

export interface PkiOptions {
  /** Default 'ecdsa'. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * End of validity of all three certificates; default root 2040, intermediate
   * 2035, TSA 2030 (tsaNotAfter still wins for the TSA). At most 2049 (UTCTime).
   */
  readonly validUntil?: Date;
  readonly eku?: EkuMode;
  /** TSA certificate validity; default 2020-01-01 .. 2030-01-01. */
  readonly tsaNotBefore?: Date;
  readonly tsaNotAfter?: Date;
  /** CN of the TSA certificate; default 'Test TSA'. */
  readonly tsaCn?: string;
}

export async function createPki(opts: PkiOptions = {}): Promise<MockPki> {
  const keyAlgorithm = opts.keyAlgorithm ?? 'ecdsa';
  const root = await issue({
    keyAlgorithm,
    cn: 'Test Root',
    serial: 1,
    ca: true,
    notBefore: new Date('2019-01-01T00:00:00Z'),
    notAfter: opts.validUntil ?? new Date('2040-01-01T00:00:00Z'),
  });
  const intermediate = await issue({
    keyAlgorithm,
    cn: 'Test Intermediate',
    serial: 2,
    issuer: root,
    ca: true,
    notBefore: new Date('2019-06-01T00:00:00Z'),
    notAfter: opts.validUntil ?? new Date('2035-01-01T00:00:00Z'),
  });
  const tsa = await issue({
    keyAlgorithm,
    cn: opts.tsaCn ?? 'Test TSA',
    serial: 3,
    issuer: intermediate,
    ca: false,
    eku: opts.eku ?? 'critical',
    notBefore: opts.tsaNotBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: opts.tsaNotAfter ?? opts.validUntil ?? new Date('2030-01-01T00:00:00Z'),
  });
  return { keyAlgorithm, root, intermediate, tsa };
}

export interface TokenOptions {
  /** What is time-stamped: hashed with `imprintHash` into the messageImprint… */
  readonly data?: Uint8Array;
  /** …or the messageImprint's hashedMessage itself (a digest already made with `imprintHash`). */
  readonly digest?: Uint8Array;
  readonly genTime?: Date;
  /** TSTInfo.accuracy; default 1 second; null omits it. */
  readonly accuracy?: { readonly seconds?: number; readonly millis?: number } | null;
  /** Nonce as unsigned big-endian bytes. */
  readonly nonce?: Uint8Array;
  readonly policy?: string;
  readonly serial?: number;
  /** Certificates to embed; default TSA + intermediate. */
  readonly embed?: readonly Issued[];
  /** TSTInfo.tsa as a directoryName with this CN (the mock's names are `O=anchorlog test, CN=…`). */
  readonly tsaCn?: string;
  /** Keep pkijs' BER constructed eContent instead of the DER primitive real TSAs send. */
  readonly berEContent?: boolean;
  /** Whose certificate the ESSCertID(v2) names; default the TSA; null omits the attribute. */
  readonly essFor?: Issued | null;
  /**
   * signing-certificate-v2 with a SHA-256 ESSCertIDv2 (RFC 5816), or the v1
   * attribute with a SHA-1 ESSCertID (RFC 2634); default v2 for an ECDSA PKI,
   * v1 for an RSA one (as the OpenSSL TSAs of the test harness).
   */
  readonly ess?: 'v1' | 'v2';
  /** messageImprint hash; default SHA-256. */
  readonly imprintHash?: MockHash;
  /** SignerInfo digestAlgorithm (and the message-digest attribute); default SHA-256. */
  readonly digestHash?: MockHash;
  /** Hash of the ECDSA signature over the signed attributes (ecdsa-with-SHA1 / -SHA256); default digestHash. */
  readonly signatureHash?: MockHash;
}

export type MockHash = 'SHA-1' | 'SHA-256';
const hashOid = (h: MockHash) => (h === 'SHA-1' ? OID.sha1 : OID.sha256);
const hashFn = (h: MockHash) => (h === 'SHA-1' ? sha1 : sha256);

/** DER ECDSA-Sig-Value from WebCrypto's fixed-width r ‖ s. */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    return new asn1js.Integer({ valueHex: buf((v[0] as number) & 0x80 ? new Uint8Array([0, ...v]) : v) });
  };
  const half = raw.length / 2;
  return new Uint8Array(
    new asn1js.Sequence({ value: [int(raw.subarray(0, half)), int(raw.subarray(half))] }).toBER(false),
  );
}

function essCertId(tsa: Issued, version: 'v1' | 'v2'): asn1js.Sequence {
  // SigningCertificateV2 { certs { ESSCertIDv2 { certHash (SHA-256 default), issuerSerial } } }
  // SigningCertificate   { certs { ESSCertID   { certHash (SHA-1),            issuerSerial } } }
  const issuerSerial = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 4 },
            value: [tsa.cert.issuer.toSchema()],
          }),
        ],
      }),
      new asn1js.Integer({ valueHex: tsa.cert.serialNumber.valueBlock.valueHexView.slice().buffer }),
    ],
  });
  const id = new asn1js.Sequence({
    value: [
      new asn1js.OctetString({ valueHex: buf(version === 'v2' ? sha256(tsa.der) : sha1(tsa.der)) }),
      issuerSerial,
    ],
  });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [id] })] });
}

/** A bare TimeStampToken (ContentInfo DER) signed by the PKI's TSA. */
export async function issueToken(pki: MockPki, opts: TokenOptions): Promise<Uint8Array> {
  const tst = new pkijs.TSTInfo({
    version: 1,
    policy: opts.policy ?? '1.3.6.1.4.1.4146.2.3',
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: hashOid(opts.imprintHash ?? 'SHA-256'),
        algorithmParams: new asn1js.Null(),
      }),
      hashedMessage: new asn1js.OctetString({ valueHex: buf(imprintOf(opts)) }),
    }),
    serialNumber: new asn1js.Integer({ value: opts.serial ?? 42 }),
    genTime: opts.genTime ?? new Date('2025-06-01T12:00:00Z'),
    ...(opts.accuracy === null ? {} : { accuracy: new pkijs.Accuracy(opts.accuracy ?? { seconds: 1 }) }),
    ...(opts.tsaCn ? { tsa: new pkijs.GeneralName({ type: 4, value: name(opts.tsaCn) }) } : {}),
    ...(opts.nonce ? { nonce: new asn1js.Integer({ valueHex: buf(unsignedInt(opts.nonce)) }) } : {}),
  });
  const eContent = new Uint8Array(tst.toSchema().toBER(false));
  const digestHash = opts.digestHash ?? 'SHA-256';
  const ess = opts.ess ?? (pki.keyAlgorithm === 'rsa' ? 'v1' : 'v2');
  const signed = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.tstInfo,
      eContent: new asn1js.OctetString({ valueHex: buf(eContent) }),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: pki.tsa.cert.issuer,
          serialNumber: pki.tsa.cert.serialNumber,
        }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({
              type: OID.contentType,
              values: [new asn1js.ObjectIdentifier({ value: OID.tstInfo })],
            }),
            new pkijs.Attribute({
              type: OID.messageDigest,
              values: [new asn1js.OctetString({ valueHex: buf(hashFn(digestHash)(eContent)) })],
            }),
            ...(opts.essFor === null
              ? []
              : [
                  new pkijs.Attribute({
                    type: ess === 'v2' ? OID.signingCertificateV2 : OID.signingCertificate,
                    values: [essCertId(opts.essFor ?? pki.tsa, ess)],
                  }),
                ]),
          ],
        }),
      }),
    ],
    certificates: (opts.embed ?? [pki.tsa, pki.intermediate]).map((c) => c.cert),
  });
  // pkijs always re-wraps eContent as a constructed OCTET STRING; real TSAs send DER.
  if (!opts.berEContent)
    signed.encapContentInfo.eContent = new asn1js.OctetString({ valueHex: buf(eContent) });
  await signed.sign(pki.tsa.keys.privateKey, 0, digestHash, undefined, engine);
  const signatureHash = opts.signatureHash ?? digestHash;
  if (signatureHash !== digestHash) {
    // Re-sign the DER SET OF signed attributes with another hash than digestAlgorithm
    // names, as a TSA announcing ecdsa-with-SHA1 next to a SHA-256 digest would.
    const si = signed.signerInfos[0] as pkijs.SignerInfo;
    const tbs = new Uint8Array((si.signedAttrs as pkijs.SignedAndUnsignedAttributes).toSchema().toBER(false));
    tbs[0] = 0x31;
    const raw = new Uint8Array(
      await globalThis.crypto.subtle.sign(
        { name: 'ECDSA', hash: signatureHash },
        pki.tsa.keys.privateKey,
        buf(tbs),
      ),
    );
    si.signature = new asn1js.OctetString({ valueHex: buf(derSignature(raw)) });
    si.signatureAlgorithm = new pkijs.AlgorithmIdentifier({
      algorithmId: signatureHash === 'SHA-1' ? OID.ecdsaWithSha1 : '1.2.840.10045.4.3.2',
    });
  }
  const ci = new pkijs.ContentInfo({ contentType: OID.signedData, content: signed.toSchema(true) });
  return new Uint8Array(ci.toSchema().toBER(false));
}

function imprintOf(opts: TokenOptions): Uint8Array {
  if (opts.digest !== undefined) return opts.digest;
  if (opts.data === undefined) throw new TypeError('issueToken: give data or digest');
  return hashFn(opts.imprintHash ?? 'SHA-256')(opts.data);
}

function unsignedInt(b: Uint8Array): Uint8Array {
  return (b[0] ?? 0) & 0x80 ? new Uint8Array([0, ...b]) : b;
}

/** A TimeStampResp: granted with `token`, or a rejection with failInfo and text. */
export function response(
  opts: { token: Uint8Array } | { status: number; failInfoBit?: number; text?: string },
): Uint8Array {
  let statusInfo: asn1js.Sequence;
  const parts: asn1js.AsnType[] = [];
  if ('token' in opts) {
    statusInfo = new asn1js.Sequence({ value: [new asn1js.Integer({ value: 0 })] });
    parts.push(statusInfo, asn1js.fromBER(opts.token.slice().buffer).result);
  } else {
    const fields: asn1js.AsnType[] = [new asn1js.Integer({ value: opts.status })];
    if (opts.text) fields.push(new asn1js.Sequence({ value: [new asn1js.Utf8String({ value: opts.text })] }));
    if (opts.failInfoBit !== undefined) {
      const bytes = new Uint8Array(Math.floor(opts.failInfoBit / 8) + 1);
      bytes[bytes.length - 1] = 0x80 >> (opts.failInfoBit % 8);
      fields.push(new asn1js.BitString({ valueHex: bytes.buffer, unusedBits: 7 - (opts.failInfoBit % 8) }));
    }
    parts.push(new asn1js.Sequence({ value: fields }));
  }
  return new Uint8Array(new asn1js.Sequence({ value: parts }).toBER(false));
}

/** Flip one bit of the CMS signature value (the last OCTET STRING in the token). */
export function corruptSignature(token: Uint8Array): Uint8Array {
  const ci = pkijs.ContentInfo.fromBER(token.slice().buffer);
  const sd = new pkijs.SignedData({ schema: ci.content });
  const sig = sd.signerInfos[0]?.signature.valueBlock.valueHexView;
  if (!sig) throw new Error('no signature');
  // Locate the signature bytes in the encoding and flip one bit of them.
  const out = token.slice();
  for (let i = out.length - sig.length; i >= 0; i--) {
    if (out.subarray(i, i + sig.length).every((b, k) => b === sig[k])) {
      // Byte 10 lies inside r of the DER ECDSA-Sig-Value, past its headers.
      const j = i + 10;
      out[j] = (out[j] as number) ^ 0x01;
      return out;
    }
  }
  throw new Error('signature not found');
}
