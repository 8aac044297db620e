/**
 * A witness quorum policy: k of n named cosigners, in the spirit of C2SP
 * tlog-policy (https://c2sp.org/tlog-policy, main at 1896a5a, 2026-06-22):
 * "a checkpoint is considered valid if it is signed by any one of the listed
 * logs, and it is cosigned by witnesses according to the defined quorum
 * rule". anchorlog's rule is one flat group — `group quorum <k> <all
 * witnesses>` — or `quorum none` when k = 0; `formatTlogPolicy` writes it in
 * that file format so other tools can check the same rule.
 */
import { toHex } from '../bytes.ts';
import { type Cosigner, checkCosigners, formatCosignerKey } from './cosignature.ts';
import { WitnessError } from './errors.ts';

export interface WitnessPolicy {
  /** The witnesses whose cosignatures count, each once (distinct names, key IDs and keys). */
  readonly witnesses: readonly Cosigner[];
  /** k: cosignatures needed, 0 ≤ k ≤ n. 0 means witnessing is not required (`quorum none`). */
  readonly quorum: number;
}

/** Builds a policy; INVALID_POLICY for k outside 0..n, DUPLICATE_COSIGNER for a repeated witness or key. */
export function witnessPolicy(witnesses: readonly Cosigner[], quorum: number): WitnessPolicy {
  checkCosigners(witnesses);
  if (!Number.isInteger(quorum) || quorum < 0 || quorum > witnesses.length)
    throw new WitnessError(
      'INVALID_POLICY',
      `witness quorum ${quorum} must be within 0..${witnesses.length} (the listed witnesses)`,
    );
  return { witnesses: [...witnesses], quorum };
}

/** True iff `cosigned` (cosigner ids `name+keyIdHex`) meets the policy. */
export function quorumMet(policy: WitnessPolicy, cosigned: ReadonlySet<string>): boolean {
  const n = policy.witnesses.filter((w) => cosigned.has(cosignerId(w))).length;
  return n >= policy.quorum;
}

export const cosignerId = (c: Pick<Cosigner, 'name' | 'keyId'>): string => `${c.name}+${toHex(c.keyId)}`;

/**
 * The policy as a tlog-policy file. Witness names in the file are `w1`…`wn`
 * (tlog-policy names are local to the file; the vkey carries the real name).
 */
export function formatTlogPolicy(logVkeys: readonly string[], policy: WitnessPolicy): string {
  const lines = logVkeys.map((k) => `log ${k}`);
  policy.witnesses.forEach((w, i) => {
    lines.push(`witness w${i + 1} ${formatCosignerKey(w)}`);
  });
  if (policy.quorum === 0) lines.push('quorum none');
  else {
    const names = policy.witnesses.map((_, i) => `w${i + 1}`).join(' ');
    lines.push(`group anchorlog-witnesses ${policy.quorum} ${names}`, 'quorum anchorlog-witnesses');
  }
  return `${lines.join('\n')}\n`;
}
