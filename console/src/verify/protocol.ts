/**
 * Messages between the verify page and its Web Worker (worker.ts). The worker
 * holds the bundle's records after a successful verification; the page asks it
 * for histogram data, table pages and one record's proof, so a bundle of a
 * million records never crosses to the page's thread at once.
 */

import type { Verdict } from '../../../src/cli/verdict.ts';
import type { BundleReport } from '../../../src/core/bundle/index.ts';
import type { ClassAnswerReport } from '../../../src/core/classes/answer-doc.ts';

export type Request =
  | {
      readonly type: 'verify';
      /** An evidence bundle (.tar) or a class answer (.json, told apart by its first byte). */
      readonly bundle: Blob;
      readonly trust: string | null;
      readonly trustName: string;
    }
  | { readonly type: 'search'; readonly query: string; readonly offset: number; readonly limit: number }
  | { readonly type: 'record'; readonly index: number };

/** One record in the table: what an auditor scans for. */
export interface Row {
  readonly index: number;
  readonly receivedAt: string;
  readonly action: string;
  readonly actor: string;
  readonly target: string;
  readonly outcome: string;
}

export interface Histograms {
  /** [day (UTC, YYYY-MM-DD), records], in day order. */
  readonly days: readonly (readonly [string, number])[];
  /** [action, records], most frequent first. */
  readonly actions: readonly (readonly [string, number])[];
}

/** How one record is proved included under the bundle's checkpoint. */
export interface RecordProof {
  readonly index: number;
  readonly record: string;
  readonly leafHash: string;
  readonly prev: string;
  /** 'inclusion': the bundle's own proof (filtered export); 'range': derived from proofs.json and the range's leaves. */
  readonly kind: 'inclusion' | 'range';
  /** Size of the tree the inclusion proof is for, and its root (b64). */
  readonly treeSize: number;
  readonly treeRoot: string;
  readonly inclusion: readonly string[];
  /** Range bundles: the consistency proof from treeSize to the checkpoint (from proofs.json). */
  readonly consistency: readonly string[];
  readonly checkpointSize: number;
  readonly checkpointRoot: string;
  /** Re-checked here with the core's verifyInclusion (and verifyConsistency for a range). */
  readonly rechecked: boolean;
}

export type Reply =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly read: number; readonly total: number }
  | {
      readonly type: 'verified';
      readonly report: BundleReport;
      readonly verdict: Verdict;
      readonly histograms: Histograms;
      readonly records: number;
      readonly millis: number;
      /** Records chunks proved by the chunk workers (the rest were checked in the verify worker). */
      readonly pooledChunks: number;
      /** SHA-256 in the verify worker: 'wasm' (hash-wasm) or 'js' (@noble/hashes), src/hash-browser.ts. */
      readonly hash: 'wasm' | 'js';
    }
  /** A class answer document verified (src/cli/class-verdict.ts): its statement and the CLI's verdict. */
  | {
      readonly type: 'class-verified';
      readonly report: ClassAnswerReport;
      readonly verdict: Verdict;
      readonly millis: number;
    }
  /** Exit 1 (a check failed) or 2 (TRUST.json unusable), with the CLI's code. */
  | {
      readonly type: 'failed';
      readonly exitCode: 1 | 2;
      readonly code: string;
      readonly message: string;
      readonly index: number | null;
      readonly member: string | null;
    }
  | { readonly type: 'rows'; readonly rows: readonly Row[]; readonly total: number; readonly offset: number }
  | { readonly type: 'proof'; readonly proof: RecordProof | null; readonly error?: string };
