/**
 * TRUST.json: what an auditor pins, obtained out of band (README "TRUST.json",
 * docs/bundle.md §Verifying). Read by `anchorlog verify` (all fields) and by
 * `checkpoint` / `prove` (`logKeys`, `origins`); written by `anchorlog trust`.
 *
 *   { "logKeys":   ["<origin>+<keyid>+<base64 key>", …],
 *     "origins":   ["<origin>", …],            optional
 *     "tsaRoots":  ["-----BEGIN CERTIFICATE-----…", …],
 *     "tsaQuorum": k,                           optional
 *     "witnesses": ["<name>+<keyid>+<base64(0x04 ‖ key)>", …],   optional
 *     "witnessQuorum": k,                       optional
 *     "rekor": { "logKeys": ["<origin>+<keyid>+<base64 key>", …],
 *                "anchorKeys": ["-----BEGIN PUBLIC KEY-----…", …] } }   optional
 *
 * A pinned vkey means exactly "this key signs the checkpoints of the log whose
 * origin is the vkey's name" — of no other log, even though one key signs every
 * log of a deployment. `origins`, when present, lists the logs accepted; each
 * must be the name of a pinned key (an origin without one could never verify,
 * so it is a mistake, reported as such). Without it, the keys' names are the
 * accepted origins. `tsaQuorum` is how many distinct TSAs (distinct roots)
 * must agree for the "existed by" claim (docs/bundle.md §Time-stamps); without
 * it the verifier uses min(2, pinned roots), as the deployment's `AnchorQuorum`
 * defaults to min(2, TSAs). It needs `tsaRoots` and can be at most the number
 * of distinct roots pinned: a quorum that can never be met is a mistake.
 * `witnesses` are C2SP cosignature/v1 witness keys (docs/witnessing.md);
 * `witnessQuorum` is how many of them must have cosigned a checkpoint for
 * `anchorlog witnessed` to accept it (default min(2, witnesses), as the
 * deployment's WitnessQuorum; 0 = report only). It needs `witnesses` when
 * above 0 and can be at most their number.
 * `rekor` pins Rekor v2 (docs/anchoring.md §Rekor): the Rekor logs' checkpoint vkeys and the
 * deployment's Rekor anchor keys (PEM P-256 public keys, the keys entries are signed with);
 * with it every Rekor entry of a bundle must verify, without it Rekor entries are only reported.
 * Every problem is a usage error (exit 2): the file is the caller's, not
 * attacker input.
 */
import { fromUtf8, toHex } from '../core/bytes.ts';
import { sha256 } from '../core/hash.ts';
import { isValidKeyName, parseVerifierKey } from '../core/note/index.ts';
import { pemToSpki } from '../core/note/pem.ts';
import { p256PublicPoint } from '../core/note/verifiers.ts';
import { decodePemCertificates } from '../core/rfc3161/index.ts';
import { type Cosigner, checkCosigners, parseCosignerKey } from '../core/witness/cosignature.ts';
import { UsageError } from './errors.ts';

export interface TrustFile {
  readonly logKeys?: readonly string[];
  readonly origins?: readonly string[];
  /** The PEM texts as given. */
  readonly tsaRootsPem?: readonly string[];
  /** The certificates they hold (DER). */
  readonly tsaRoots?: readonly Uint8Array[];
  readonly tsaQuorum?: number;
  /** The witness vkeys as given. */
  readonly witnesses?: readonly string[];
  /** Their parsed keys, in the same order. */
  readonly cosigners?: readonly Cosigner[];
  readonly witnessQuorum?: number;
  /** Rekor trust: log vkeys as given, anchor keys as DER SPKI. */
  readonly rekor?: { readonly logKeys: readonly string[]; readonly anchorKeys: readonly Uint8Array[] };
}

const FIELDS = ['logKeys', 'origins', 'tsaRoots', 'tsaQuorum', 'witnesses', 'witnessQuorum', 'rekor'];

export function parseTrustFile(bytes: Uint8Array, path: string): TrustFile {
  const bad = (msg: string): never => {
    throw new UsageError('BAD_FILE', `--trust ${path}: ${msg}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    bad(`not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(`unknown field ${JSON.stringify(k)}`);
  const strings = (k: string): string[] | undefined => {
    const a = o[k];
    if (a === undefined) return undefined;
    if (!Array.isArray(a) || a.length === 0 || !a.every((s) => typeof s === 'string'))
      bad(`${k} must be a non-empty array of strings`);
    return a as string[];
  };
  const logKeys = strings('logKeys');
  const origins = strings('origins');
  const tsaRootsPem = strings('tsaRoots');
  if (!logKeys && !tsaRootsPem) bad('give logKeys and/or tsaRoots');
  const names = (logKeys ?? []).map((k) => {
    try {
      return parseVerifierKey(k).name;
    } catch (e) {
      return bad(
        `bad log key ${JSON.stringify(k.slice(0, 40))}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  });
  if (origins) {
    if (!logKeys) bad('origins needs logKeys: a pinned origin means "the log key named after it"');
    for (const origin of origins) {
      if (!isValidKeyName(origin)) bad(`origin ${JSON.stringify(origin)} is not a key name`);
      if (!names.includes(origin))
        bad(`origin ${JSON.stringify(origin)} has no logKeys entry named after it`);
    }
  }
  let tsaRoots: Uint8Array[] | undefined;
  if (tsaRootsPem) {
    tsaRoots = [];
    for (const p of tsaRootsPem) {
      let certs: Uint8Array[];
      try {
        certs = decodePemCertificates(p);
      } catch (e) {
        return bad(`bad TSA root PEM: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (certs.length === 0) bad('a tsaRoots entry holds no certificate');
      tsaRoots.push(...certs);
    }
  }
  const tsaQuorum = o.tsaQuorum;
  if (tsaQuorum !== undefined) {
    if (typeof tsaQuorum !== 'number' || !Number.isSafeInteger(tsaQuorum) || tsaQuorum < 1)
      bad('tsaQuorum must be a positive integer');
    if (!tsaRoots) bad('tsaQuorum needs tsaRoots: it counts distinct pinned TSA roots');
    const distinct = new Set((tsaRoots ?? []).map((d) => toHex(sha256(d)))).size;
    if ((tsaQuorum as number) > distinct)
      bad(`tsaQuorum ${tsaQuorum} can never be met: ${distinct} distinct TSA root(s) are pinned`);
  }
  const witnesses = strings('witnesses');
  let cosigners: Cosigner[] | undefined;
  if (witnesses) {
    cosigners = witnesses.map((k) => {
      try {
        return parseCosignerKey(k);
      } catch (e) {
        return bad(
          `bad witness key ${JSON.stringify(k.slice(0, 40))}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    });
    try {
      checkCosigners(cosigners);
    } catch (e) {
      bad(`witnesses: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const witnessQuorum = o.witnessQuorum;
  if (witnessQuorum !== undefined) {
    if (typeof witnessQuorum !== 'number' || !Number.isSafeInteger(witnessQuorum) || witnessQuorum < 0)
      bad('witnessQuorum must be a non-negative integer');
    if ((witnessQuorum as number) > (witnesses?.length ?? 0))
      bad(
        `witnessQuorum ${witnessQuorum} can never be met: ${witnesses?.length ?? 0} witness key(s) are pinned`,
      );
  }
  let rekor: TrustFile['rekor'];
  if (o.rekor !== undefined) {
    const r = o.rekor as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) bad('rekor must be an object');
    for (const k of Object.keys(r))
      if (k !== 'logKeys' && k !== 'anchorKeys') bad(`unknown field rekor.${k}`);
    const list = (k: 'logKeys' | 'anchorKeys'): string[] => {
      const a = r[k];
      if (!Array.isArray(a) || a.length === 0 || !a.every((x) => typeof x === 'string'))
        bad(`rekor.${k} must be a non-empty array of strings`);
      return a as string[];
    };
    const logKeys = list('logKeys');
    for (const k of logKeys) {
      try {
        parseVerifierKey(k);
      } catch (e) {
        bad(
          `bad Rekor log key ${JSON.stringify(k.slice(0, 40))}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const anchorKeys = list('anchorKeys').map((pem) => {
      try {
        const spki = pemToSpki(pem);
        p256PublicPoint(spki);
        return spki;
      } catch (e) {
        return bad(
          `bad Rekor anchor key (want a P-256 PUBLIC KEY PEM): ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    });
    rekor = { logKeys, anchorKeys };
  }
  return {
    ...(rekor ? { rekor } : {}),
    ...(witnesses && cosigners ? { witnesses, cosigners } : {}),
    ...(witnessQuorum !== undefined ? { witnessQuorum: witnessQuorum as number } : {}),
    ...(logKeys ? { logKeys } : {}),
    ...(origins ? { origins } : {}),
    ...(tsaRootsPem ? { tsaRootsPem, tsaRoots } : {}),
    ...(tsaQuorum !== undefined ? { tsaQuorum: tsaQuorum as number } : {}),
  };
}
