/**
 * AnchorStore in memory (src/ports/anchor-store.ts), with the semantics of
 * src/adapters/aws/dynamo-anchor-store.ts: per (log, size) a summary and one
 * record per TSA; a granted record is never overwritten by putGranted or
 * putFailed, and replaced only by replaceGranted naming its exact token;
 * attempts add up over writes; the "newest anchored size" pointer only rises.
 * `anchoredSizes` is the export's AnchoredSizeLister over the same data
 * (src/adapters/aws/dynamo-anchored-sizes.ts on DynamoDB).
 * THROTTLED and UNAVAILABLE come only from injected faults (`faults`).
 *
 * `plantLegacy` stands in for anchors a deployment from before issue #11
 * recorded at their old location: read per size, marked `legacy`, only where
 * the current location holds nothing for that size, as the port allows.
 */
import { bytesEqual } from '../../core/bytes.ts';
import {
  type AnchorStore,
  AnchorStoreError,
  type AnchorStoreErrorCode,
  type AnchorSummary,
  type AnchorsAtSize,
  type TsaAnchorRecord,
} from '../../ports/anchor-store.ts';
import type { AnchoredSizeLister } from '../../ports/export-store.ts';
import { FaultPlan } from './faults.ts';

interface AtSize {
  summary: AnchorSummary | undefined;
  readonly tsas: Map<string, TsaAnchorRecord>;
}

type Granted = TsaAnchorRecord & { status: 'granted' };

const key = (logId: string, size: number) => `${logId}\0${size}`;
const byName = (a: TsaAnchorRecord, b: TsaAnchorRecord) => (a.tsa < b.tsa ? -1 : a.tsa > b.tsa ? 1 : 0);

/** The record as a store keeps it: the fields of its status only, messages capped as on DynamoDB. */
function stored(r: TsaAnchorRecord, attempts: number): TsaAnchorRecord {
  const base = { logId: r.logId, size: r.size, tsa: r.tsa, attempts, updatedAt: r.updatedAt };
  if (r.status === 'granted') {
    const g = r.granted;
    if (!g) throw new TypeError('a granted record carries its token');
    return {
      ...base,
      status: 'granted',
      granted: {
        genTime: g.genTime,
        serialNumber: g.serialNumber,
        policy: g.policy,
        signerSubject: g.signerSubject,
        token: Uint8Array.from(g.token),
        chainPem: g.chainPem,
        responseKey: g.responseKey,
        chainKey: g.chainKey,
      },
    };
  }
  const f = r.failure ?? { code: 'UNKNOWN', message: '' };
  return { ...base, status: 'failed', failure: { code: f.code, message: f.message.slice(0, 2000) } };
}

export class MemoryAnchorStore implements AnchorStore {
  readonly #current = new Map<string, AtSize>();
  readonly #legacy = new Map<string, AtSize>();
  readonly #anchored = new Map<string, number>();
  readonly #legacyAnchored = new Map<string, number>();
  readonly faults = new FaultPlan<AnchorStoreErrorCode>(
    (code, message) => new AnchorStoreError(code, message),
  );

  read(logId: string, size: number): Promise<AnchorsAtSize> {
    return this.faults.run('read', logId, (): AnchorsAtSize => {
      let at = this.#current.get(key(logId, size));
      const legacy = at === undefined;
      if (legacy) at = this.#legacy.get(key(logId, size));
      if (!at) return { summary: undefined, tsas: [] };
      const mark = <T>(r: T): T => (legacy ? { ...r, legacy: true } : r);
      return {
        summary: at.summary && mark(structuredClone(at.summary)),
        tsas: [...at.tsas.values()].map((r) => mark(structuredClone(r))).sort(byName),
      };
    });
  }

  putGranted(r: Granted): Promise<boolean> {
    return this.#write('putGranted', r, (old) => old?.status !== 'granted');
  }

  replaceGranted(r: Granted, staleToken: Uint8Array): Promise<boolean> {
    return this.#write('replaceGranted', r, (old) => {
      const token = old?.status === 'granted' ? old.granted?.token : undefined;
      return token !== undefined && bytesEqual(token, staleToken);
    });
  }

  putFailed(r: TsaAnchorRecord & { status: 'failed' }): Promise<boolean> {
    return this.#write('putFailed', r, (old) => old?.status !== 'granted');
  }

  #write(op: string, r: TsaAnchorRecord, condition: (old: TsaAnchorRecord | undefined) => boolean) {
    if (r.status === 'granted' && !r.granted)
      return Promise.reject(new TypeError('a granted record carries its token'));
    return this.faults.run(op, r.logId, () => {
      const at = this.#at(r.logId, r.size, false);
      const old = at?.tsas.get(r.tsa);
      if (!condition(old)) return false;
      this.#at(r.logId, r.size, true)?.tsas.set(r.tsa, stored(r, (old?.attempts ?? 0) + r.attempts));
      return true;
    });
  }

  #at(logId: string, size: number, create: boolean): AtSize | undefined {
    const k = key(logId, size);
    let at = this.#current.get(k);
    if (!at && create) {
      at = { summary: undefined, tsas: new Map() };
      this.#current.set(k, at);
    }
    return at;
  }

  putSummary(summary: AnchorSummary): Promise<void> {
    return this.faults.run('putSummary', summary.logId, () => {
      const at = this.#at(summary.logId, summary.size, true);
      if (at) at.summary = kept(summary);
    });
  }

  markAnchored(logId: string, size: number): Promise<void> {
    return this.faults.run('markAnchored', logId, () => {
      if ((this.#anchored.get(logId) ?? -1) < size) this.#anchored.set(logId, size);
    });
  }

  newestAnchoredSize(logId: string): Promise<number | undefined> {
    return this.faults.run(
      'newestAnchoredSize',
      logId,
      () => this.#anchored.get(logId) ?? this.#legacyAnchored.get(logId),
    );
  }

  /**
   * Checkpoint sizes in [min, max] whose summary counts a granted token,
   * ascending, at most `limit` (current and legacy locations merged).
   * Failures are AnchorStoreErrors, as on DynamoDB.
   */
  readonly anchoredSizes: AnchoredSizeLister = (logId, min, max, limit) =>
    this.faults.run('anchoredSizes', logId, () => {
      if (max < min || limit <= 0) return [];
      const sizes = new Set<number>();
      for (const m of [this.#current, this.#legacy])
        for (const at of m.values())
          if (
            at.summary?.logId === logId &&
            at.summary.granted > 0 &&
            at.summary.size >= min &&
            at.summary.size <= max
          )
            sizes.add(at.summary.size);
      return [...sizes].sort((a, b) => a - b).slice(0, limit);
    });

  /** Anchors (summary and TSA records) where a deployment from before issue #11 kept them. */
  plantLegacy(summary: AnchorSummary | undefined, tsas: readonly TsaAnchorRecord[], anchored?: number): void {
    const logId = summary?.logId ?? tsas[0]?.logId;
    const size = summary?.size ?? tsas[0]?.size;
    if (logId === undefined || size === undefined) throw new TypeError('plantLegacy: nothing to plant');
    this.#legacy.set(key(logId, size), {
      summary: summary && kept(summary),
      tsas: new Map(tsas.map((r) => [r.tsa, stored(r, r.attempts)])),
    });
    if (anchored !== undefined) this.#legacyAnchored.set(logId, anchored);
  }
}

function kept(s: AnchorSummary): AnchorSummary {
  return {
    logId: s.logId,
    size: s.size,
    checkpoint: s.checkpoint,
    quorum: s.quorum,
    tsaCount: s.tsaCount,
    granted: s.granted,
    quorumMet: s.quorumMet,
    updatedAt: s.updatedAt,
  };
}
