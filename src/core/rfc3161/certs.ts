/**
 * X.509 certificates as the verifier handles them: the exact DER bytes (what
 * ESSCertID hashes and what results report) next to the pkijs object.
 */
import { Certificate } from 'pkijs';
import { bytesEqual } from '../bytes.ts';
import { decodeDer, malformedUnless } from './der.ts';
import { TimestampError, type TimestampErrorCode } from './errors.ts';

export interface CertEntry {
  readonly der: Uint8Array;
  readonly cert: Certificate;
}

/** Parse one DER certificate; `code` says whose fault a bad one is. */
export function parseCertificate(
  der: Uint8Array,
  what: string,
  code: TimestampErrorCode = 'MALFORMED',
): CertEntry {
  try {
    const node = decodeDer(der, what);
    const cert = malformedUnless(what, () => new Certificate({ schema: node }));
    return { der: new Uint8Array(der), cert };
  } catch (e) {
    if (e instanceof TimestampError && e.code !== code)
      throw new TimestampError(code, e.message, { cause: e });
    throw e;
  }
}

/** Concatenate certificate lists, dropping byte-identical duplicates (first wins). */
export function uniqueCerts(...lists: ReadonlyArray<readonly CertEntry[]>): CertEntry[] {
  const out: CertEntry[] = [];
  for (const list of lists) {
    for (const c of list) if (!out.some((o) => bytesEqual(o.der, c.der))) out.push(c);
  }
  return out;
}

export function containsCert(list: readonly CertEntry[], c: CertEntry): boolean {
  return list.some((o) => bytesEqual(o.der, c.der));
}

/** Serial number as the DER INTEGER content bytes (two's complement; may be negative in the wild). */
export function serialBytes(c: Certificate): Uint8Array {
  return new Uint8Array(c.serialNumber.valueBlock.valueHexView);
}

export function extensionsOf(c: Certificate, oid: string) {
  return (c.extensions ?? []).filter((e) => e.extnID === oid);
}
