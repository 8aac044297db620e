/**
 * Strict entry point for attacker-controlled DER. asn1js is a BER parser that
 * tolerates trailing bytes; we refuse them, and we turn every parser failure
 * into a TimestampError('MALFORMED') so callers see one error type.
 */
import * as asn1js from 'asn1js';
import { TimestampError } from './errors.ts';

/** Upper bound on any single input; real tokens are a few KiB. */
export const MAX_DER_BYTES = 1 << 20;

export function decodeDer(bytes: Uint8Array, what: string): asn1js.AsnType {
  if (bytes.length === 0) throw new TimestampError('MALFORMED', `${what}: empty input`);
  if (bytes.length > MAX_DER_BYTES) throw new TimestampError('MALFORMED', `${what}: larger than 1 MiB`);
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(bytes);
  } catch (e) {
    throw new TimestampError('MALFORMED', `${what}: not ASN.1`, { cause: e });
  }
  if (parsed.offset === -1 || parsed.result.error) {
    throw new TimestampError('MALFORMED', `${what}: not ASN.1 (${parsed.result.error || 'decode error'})`);
  }
  if (parsed.offset !== bytes.length) {
    throw new TimestampError('MALFORMED', `${what}: ${bytes.length - parsed.offset} trailing bytes`);
  }
  return parsed.result;
}

/** Run a pkijs decoder; any exception it raises means the structure is malformed. */
export function malformedUnless<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TimestampError) throw e;
    const detail = e instanceof Error ? e.message : String(e);
    throw new TimestampError('MALFORMED', `${what}: ${detail}`, { cause: e });
  }
}

/** The bytes an asn1js node was decoded from (its full TLV). */
export function encodedBytes(node: asn1js.AsnType): Uint8Array {
  return new Uint8Array(node.toBER(false));
}

/** Copy of an ArrayBuffer / view into a fresh Uint8Array. */
export function toBytes(buf: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf.slice(0));
  return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
