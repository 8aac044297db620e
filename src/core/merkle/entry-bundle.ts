/**
 * Entry bundles: a sequence of big-endian uint16 length-prefixed entries
 * (c2sp.org/tlog-tiles, "Log entries"). Entry i of bundle N is leaf N·256 + i and
 * hashes (RFC 6962 leaf hash) to entry i of level-0 tile N.
 *
 * Decoding is defensive: bundles are read back from storage and from exports an
 * auditor was handed, so a truncated prefix, an overlong length, trailing bytes or
 * more than 256 entries are errors, never partial results.
 */
import { MerkleError } from './errors.ts';
import { TILE_WIDTH } from './tile-path.ts';

/**
 * The uint16 length prefix caps an entry at 65,535 bytes. Records take their
 * limit from here (MAX_RECORD_BYTES in ../record.ts), so ingest can never
 * accept a record the sealer cannot bundle.
 */
export const MAX_ENTRY_SIZE = 0xffff;

export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new MerkleError(
      'BAD_ENTRY_BUNDLE',
      `a bundle holds 1..${TILE_WIDTH} entries, got ${entries.length}`,
    );
  }
  let n = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) {
      throw new MerkleError('ENTRY_TOO_LARGE', `entry of ${e.length} bytes exceeds ${MAX_ENTRY_SIZE}`);
    }
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >>> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** Splits a bundle into entries (copies). `expectedCount`, when given, must match. */
export function decodeEntryBundle(bytes: Uint8Array, expectedCount?: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (out.length === TILE_WIDTH) throw new MerkleError('BAD_ENTRY_BUNDLE', 'more than 256 entries');
    if (o + 2 > bytes.length) throw new MerkleError('BAD_ENTRY_BUNDLE', 'truncated length prefix');
    const len = ((bytes[o] as number) << 8) | (bytes[o + 1] as number);
    o += 2;
    if (o + len > bytes.length)
      throw new MerkleError('BAD_ENTRY_BUNDLE', 'entry runs past the end of the bundle');
    out.push(bytes.slice(o, o + len));
    o += len;
  }
  if (out.length === 0) throw new MerkleError('BAD_ENTRY_BUNDLE', 'empty bundle');
  if (expectedCount !== undefined && out.length !== expectedCount) {
    throw new MerkleError('BAD_ENTRY_BUNDLE', `bundle has ${out.length} entries, expected ${expectedCount}`);
  }
  return out;
}
