/**
 * Runs tasks with the same key one after another, tasks with different keys
 * concurrently. Used to serialize appends to one log *within one process*:
 * concurrent appends would otherwise race for the same tip, and all but one
 * would lose the conditional commit and retry — correct, but wasted work.
 * Across processes (Lambda containers) the conditional commit still decides;
 * this is only an optimisation, never relied on for correctness.
 */
export class KeyedSerializer {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
