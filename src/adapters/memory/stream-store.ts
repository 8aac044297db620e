/**
 * StreamStore in memory (src/ports/stream-store.ts): tests and the contract
 * suite's reference. Values are copied in and out, so a caller can never
 * change stored state by mutating what it holds.
 */
import type { StoredCursor, StreamCursor, StreamDeadLetter, StreamStore } from '../../ports/stream-store.ts';

export class MemoryStreamStore implements StreamStore {
  readonly #cursors = new Map<string, StoredCursor>();
  readonly #dead = new Map<string, StreamDeadLetter>();

  async readCursor(stream: string): Promise<StoredCursor | undefined> {
    const c = this.#cursors.get(stream);
    return c ? structuredClone(c) : undefined;
  }

  async writeCursor(cursor: StreamCursor, expectedVersion: number): Promise<boolean> {
    const version = this.#cursors.get(cursor.stream)?.version ?? 0;
    if (version !== expectedVersion) return false;
    this.#cursors.set(cursor.stream, structuredClone({ cursor, version: version + 1 }));
    return true;
  }

  async putDeadLetter(letter: StreamDeadLetter): Promise<void> {
    this.#dead.set(letter.id, structuredClone(letter));
  }

  async readDeadLetter(id: string): Promise<StreamDeadLetter | undefined> {
    const l = this.#dead.get(id);
    return l ? structuredClone(l) : undefined;
  }

  async listDeadLetters(
    opts: { stream?: string; state?: StreamDeadLetter['state'] } = {},
  ): Promise<StreamDeadLetter[]> {
    return [...this.#dead.values()]
      .filter(
        (l) =>
          (opts.stream === undefined || l.stream === opts.stream) &&
          (opts.state === undefined || l.state === opts.state),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, 100)
      .map((l) => structuredClone(l));
  }
}
