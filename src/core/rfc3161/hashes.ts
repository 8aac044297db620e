/**
 * The hash functions a time-stamp may name (messageImprint, ESSCertIDv2,
 * SignerInfo digestAlgorithm). Synchronous and pure: SHA-256 comes from the
 * core's hash.ts; the others from @noble/hashes, which runs anywhere.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha256 } from '../hash.ts';

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

interface HashInfo {
  readonly name: HashName;
  readonly oid: string;
  readonly size: number;
  readonly fn: (data: Uint8Array) => Uint8Array;
}

// OIDs from RFC 3279 §2.2.1 (SHA-1) and RFC 5754 §2 (SHA-2).
const HASHES: readonly HashInfo[] = [
  { name: 'SHA-1', oid: '1.3.14.3.2.26', size: 20, fn: (d) => sha1(d) },
  { name: 'SHA-256', oid: '2.16.840.1.101.3.4.2.1', size: 32, fn: (d) => sha256(d) },
  { name: 'SHA-384', oid: '2.16.840.1.101.3.4.2.2', size: 48, fn: (d) => sha384(d) },
  { name: 'SHA-512', oid: '2.16.840.1.101.3.4.2.3', size: 64, fn: (d) => sha512(d) },
];

export const ALL_HASHES: readonly HashName[] = HASHES.map((h) => h.name);

/** The hash named by an AlgorithmIdentifier OID, or undefined if we do not implement it. */
export function hashByOid(oid: string): HashInfo | undefined {
  return HASHES.find((h) => h.oid === oid);
}

export function hashByName(name: HashName): HashInfo {
  const h = HASHES.find((x) => x.name === name);
  if (!h) throw new TypeError(`unknown hash ${name}`);
  return h;
}

export function digest(name: HashName, data: Uint8Array): Uint8Array {
  return hashByName(name).fn(data);
}
