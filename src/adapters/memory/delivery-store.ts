/**
 * DeliveryStore in memory (src/ports/delivery-store.ts): tests and the
 * contract suite's reference. Values are copied in and out, so a caller can
 * never change stored state by mutating what it holds. Expiry is not
 * enforced (the port only says "at least until").
 */
import type { DeadLetter } from '../../core/deliver/progress.ts';
import {
  DEAD_LETTER_PAGE_MAX,
  type DeadLetterPage,
  type DeliveryStore,
  type StoredProgress,
} from '../../ports/delivery-store.ts';

export class MemoryDeliveryStore implements DeliveryStore {
  readonly #leases = new Map<string, { owner: string; untilMs: number }>();
  readonly #progress = new Map<string, StoredProgress & { expiresAtMs?: number }>();
  readonly #dead = new Map<string, DeadLetter>();

  async acquireLease(logId: string, owner: string, untilMs: number, nowMs: number): Promise<boolean> {
    const held = this.#leases.get(logId);
    if (held && held.owner !== owner && held.untilMs > nowMs) return false;
    this.#leases.set(logId, { owner, untilMs });
    return true;
  }

  async releaseLease(logId: string, owner: string): Promise<void> {
    if (this.#leases.get(logId)?.owner === owner) this.#leases.delete(logId);
  }

  async readProgress(logId: string, entryIds: readonly string[]): Promise<Map<string, StoredProgress>> {
    const out = new Map<string, StoredProgress>();
    for (const id of entryIds) {
      const p = this.#progress.get(`${logId}\u0000${id}`);
      if (p) out.set(id, structuredClone({ progress: p.progress, version: p.version }));
    }
    return out;
  }

  async writeProgress(
    logId: string,
    progress: StoredProgress['progress'],
    expectedVersion: number,
    expiresAtMs?: number,
  ): Promise<boolean> {
    const key = `${logId}\u0000${progress.entryId}`;
    if ((this.#progress.get(key)?.version ?? 0) !== expectedVersion) return false;
    this.#progress.set(key, {
      progress: structuredClone(progress),
      version: expectedVersion + 1,
      ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
    });
    return true;
  }

  async putDeadLetter(letter: DeadLetter): Promise<void> {
    if (this.#dead.get(letter.id)?.state === 'redriven') return;
    this.#dead.set(letter.id, structuredClone(letter));
  }

  async readDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const d = this.#dead.get(id);
    return d === undefined ? undefined : structuredClone(d);
  }

  async listDeadLetters(
    opts: { state?: DeadLetter['state']; after?: string; limit?: number } = {},
  ): Promise<DeadLetterPage> {
    const limit = Math.min(Math.max(1, opts.limit ?? DEAD_LETTER_PAGE_MAX), DEAD_LETTER_PAGE_MAX);
    const ids = [...this.#dead.keys()]
      .sort()
      .filter((id) => opts.after === undefined || id > opts.after)
      .filter((id) => opts.state === undefined || this.#dead.get(id)?.state === opts.state);
    const items = ids.slice(0, limit).map((id) => structuredClone(this.#dead.get(id) as DeadLetter));
    const last = items.at(-1);
    return ids.length > limit && last ? { items, next: last.id } : { items };
  }

  async updateDeadLetter(letter: DeadLetter, expectedRedrives: number): Promise<boolean> {
    const d = this.#dead.get(letter.id);
    if (!d || d.redrives !== expectedRedrives) return false;
    this.#dead.set(letter.id, structuredClone(letter));
    return true;
  }
}
