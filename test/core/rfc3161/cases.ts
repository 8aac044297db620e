/**
 * The 51 real-world RFC 3161 cases of /work/shared/vectors/rfc3161-real
 * (see SOURCE.md there: DigiCert, GlobalSign, FreeTSA, IdenTrust, Sigstore,
 * GitHub …, each with its upstream source). Shared by library and CLI tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS_DIR } from '../../support/vectors.ts';

export const VECTORS = join(VECTORS_DIR, 'rfc3161-real');

export interface RealCase {
  readonly name: string;
  readonly tsa: string;
  readonly token: string;
  readonly form: 'response' | 'token';
  readonly ca: string;
  readonly untrusted?: string;
  readonly data?: string;
  readonly digest?: string;
  readonly genTime?: string;
  readonly exit: 0 | 1;
  readonly why: string;
  readonly source: string;
}

export const REAL_CASES: readonly RealCase[] = JSON.parse(readFileSync(join(VECTORS, 'cases.json'), 'utf8'));

/**
 * Valid cases whose security rests on SHA-1 (imprint, CMS digest or signature):
 * refused by default (WEAK_HASH), verified only with allowSha1 / --allow-sha1 —
 * `openssl ts -verify`, which the `exit` field follows, accepts them.
 */
export const SHA1_CASES: readonly string[] = ['digicert-2022-authenticode'];

export const vectorPath = (p: string): string => join(VECTORS, p);

/** OpenSSL's `Mar 11 08:52:08 2025 GMT` as epoch ms. */
export function opensslTimeMs(t: string): number {
  const m = /^(\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(t);
  if (!m) throw new Error(`bad time ${t}`);
  const month = 'JanFebMarAprMayJunJulAugSepOctNovDec'.indexOf(m[1] as string) / 3;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}
