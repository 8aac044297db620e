/**
 * Certification path from the TSA certificate to a pinned root
 * (RFC 5280 §6.1, the parts that matter for an offline time-stamp check).
 *
 * Time is judged at the token's genTime, never at "now": a TSA certificate
 * that expired last year still vouches for tokens it issued while valid
 * (RFC 3161 §4.3 leaves long-term validity to the relying party; auditors
 * re-check old anchors long after the TSA certificate expired).
 *
 * Every certificate in `roots` is a trust anchor: the path ends at the first
 * certificate that is byte-identical to a root (as with OpenSSL
 * `-partial_chain`). Anchors are trusted as pinned; their self-signature is not
 * checked. Each issuer step checks name chaining, the issuer's signature,
 * cA=TRUE (a pinned root without basicConstraints is tolerated, for v1 roots),
 * keyCertSign when keyUsage is present, and pathLenConstraint.
 *
 * Search is depth-first over all candidates (cross-signed CAs give several
 * issuers with one subject) with a depth bound and a budget on signature
 * checks, because the candidate set includes attacker-supplied certificates.
 */
import * as asn1js from 'asn1js';
import type { Certificate } from 'pkijs';
import { type CertEntry, containsCert, extensionsOf } from './certs.ts';
import { cryptoEngine } from './engine.ts';
import { TimestampError } from './errors.ts';
import { nameToString } from './names.ts';
import { OID_EXT_BASIC_CONSTRAINTS, OID_EXT_KEY_USAGE } from './oids.ts';

const MAX_DEPTH = 8;
const MAX_SIGNATURE_CHECKS = 64;

interface BasicConstraints {
  readonly present: boolean;
  readonly ca: boolean;
  readonly pathLen: number | undefined;
}

function basicConstraints(c: Certificate): BasicConstraints {
  const ext = extensionsOf(c, OID_EXT_BASIC_CONSTRAINTS)[0];
  if (!ext) return { present: false, ca: false, pathLen: undefined };
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence))
    return { present: true, ca: false, pathLen: undefined };
  let ca = false;
  let pathLen: number | undefined;
  for (const f of parsed.result.valueBlock.value) {
    if (f instanceof asn1js.Boolean) ca = f.valueBlock.value;
    else if (f instanceof asn1js.Integer) pathLen = f.valueBlock.valueDec;
  }
  return { present: true, ca, pathLen };
}

/** keyUsage bit 5 (keyCertSign), RFC 5280 §4.2.1.3; true when the extension is absent. */
function mayCertSign(c: Certificate): boolean {
  const ext = extensionsOf(c, OID_EXT_KEY_USAGE)[0];
  if (!ext) return true;
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.BitString)) return false;
  const first = parsed.result.valueBlock.valueHexView[0] ?? 0;
  return (first & 0x04) !== 0;
}

function validAt(c: Certificate, ms: number): boolean {
  return c.notBefore.value.getTime() <= ms && ms <= c.notAfter.value.getTime();
}

export interface ChainInput {
  readonly signer: CertEntry;
  /** Pinned trust anchors. */
  readonly roots: readonly CertEntry[];
  /** Certificates that may serve as intermediates (token ∪ caller-supplied). Not trusted. */
  readonly intermediates: readonly CertEntry[];
  readonly atMs: number;
}

/**
 * Build and check a path; returns it signer-first, anchor-last.
 * Throws UNTRUSTED_ROOT when no path reaches a root, CERT_EXPIRED_AT_GENTIME
 * when every path that does has a certificate not valid at `atMs`.
 */
export async function buildChain(input: ChainInput): Promise<CertEntry[]> {
  const { roots, atMs } = input;
  const pool = [...roots, ...input.intermediates.filter((c) => !containsCert(roots, c))];
  const sigCache = new Map<string, boolean>();
  let budget = MAX_SIGNATURE_CHECKS;
  let expired: { path: CertEntry[]; cert: CertEntry } | undefined;

  const signedBy = async (child: CertEntry, issuer: CertEntry, ci: number, ii: number): Promise<boolean> => {
    const key = `${ci}:${ii}`;
    const hit = sigCache.get(key);
    if (hit !== undefined) return hit;
    if (budget-- <= 0) return false;
    let ok = false;
    try {
      ok = await child.cert.verify(issuer.cert, cryptoEngine());
    } catch {
      ok = false;
    }
    sigCache.set(key, ok);
    return ok;
  };

  const indexOf = (c: CertEntry) => pool.indexOf(c);

  // `path` is signer-first; the intermediates below the next issuer are path[1..].
  const extend = async (path: CertEntry[]): Promise<CertEntry[] | undefined> => {
    const tip = path[path.length - 1] as CertEntry;
    if (containsCert(roots, tip)) {
      const bad = path.find((c) => !validAt(c.cert, atMs));
      if (!bad) return path;
      expired ??= { path, cert: bad };
      return undefined;
    }
    if (path.length > MAX_DEPTH) return undefined;
    for (const issuer of pool) {
      if (path.includes(issuer) || !issuer.cert.subject.isEqual(tip.cert.issuer)) continue;
      const bc = basicConstraints(issuer.cert);
      const isRoot = containsCert(roots, issuer);
      if (!(bc.ca || (isRoot && !bc.present)) || !mayCertSign(issuer.cert)) continue;
      if (bc.pathLen !== undefined && path.length - 1 > bc.pathLen) continue;
      if (!(await signedBy(tip, issuer, indexOf(tip), indexOf(issuer)))) continue;
      const found = await extend([...path, issuer]);
      if (found) return found;
    }
    return undefined;
  };

  const signer = pool.find((c) => c.der === input.signer.der) ?? input.signer;
  const path = await extend([signer]);
  if (path) return path;
  if (expired) {
    const c = expired.cert.cert;
    throw new TimestampError(
      'CERT_EXPIRED_AT_GENTIME',
      `certificate "${nameToString(c.subject)}" is not valid at genTime ` +
        `(valid ${c.notBefore.value.toISOString()} .. ${c.notAfter.value.toISOString()})`,
    );
  }
  throw new TimestampError(
    'UNTRUSTED_ROOT',
    `no path from "${nameToString(input.signer.cert.subject)}" to a pinned root`,
  );
}
