/**
 * Fault injection for the in-memory adapters, the memory twin of
 * src/adapters/memory/faulty-dynamo.ts and send-faults.ts (which fault real
 * SDK clients): a table of rules decides, per call of a port method, whether
 * it
 *   - fails before it takes effect (`when: 'before'`, the default): nothing
 *     is written, the call rejects with the port's error; or
 *   - takes effect and then fails (`when: 'after'`): the write is durable but
 *     the caller hears an error, as after a timeout on a write that landed.
 * That is how a memory adapter raises the transient codes of its port
 * (THROTTLED, UNAVAILABLE, MISCONFIGURED, …), which no in-process store ever
 * meets on its own, so use cases can test their error paths in milliseconds.
 *
 * Every call is also recorded (`calls`), so a test can count what a use case
 * asked of a store without wrapping it.
 */

export interface FaultRule<C extends string> {
  /** Port method name ('commitBatch', 'putImmutable', …), or '*' for every method. */
  readonly op: string;
  /** The port error code the call rejects with. */
  readonly code: C;
  /** 'before' (default): nothing happens. 'after': the call takes effect, then rejects. */
  readonly when?: 'before' | 'after';
  /** Narrows the rule to calls whose key (what the adapter names: a log id, an object key) passes. */
  readonly match?: (key: string) => boolean;
  /** Matching calls to let through before firing (default 0). */
  readonly skip?: number;
  /** How many times to fire (default 1; Infinity for always). */
  readonly times?: number;
}

export interface MemoryCall {
  readonly op: string;
  /** What the call was about (a log id, an object key, …), as the adapter names it. */
  readonly key: string;
}

export interface FiredMemoryFault<C extends string> extends MemoryCall {
  readonly code: C;
  readonly when: 'before' | 'after';
}

interface RuleState<C extends string> {
  readonly rule: FaultRule<C>;
  seen: number;
  fired: number;
}

/** Makes the port's error for an injected fault. */
export type FaultErrorFactory<C extends string> = (code: C, message: string) => Error;

export class FaultPlan<C extends string> {
  readonly #make: FaultErrorFactory<C>;
  readonly #rules: RuleState<C>[] = [];
  /** Every call, faulted or not, in the order made. */
  readonly calls: MemoryCall[] = [];
  /** Every fault fired, in order. */
  readonly fired: FiredMemoryFault<C>[] = [];

  constructor(make: FaultErrorFactory<C>) {
    this.#make = make;
  }

  /** Adds a rule; rules are consulted in the order added, the first that fires wins. */
  fail(rule: FaultRule<C>): this {
    this.#rules.push({ rule, seen: 0, fired: 0 });
    return this;
  }

  /** Removes every rule and forgets recorded calls. */
  clear(): void {
    this.#rules.length = 0;
    this.calls.length = 0;
    this.fired.length = 0;
  }

  /** Number of recorded calls of `op` (every method when omitted). */
  count(op?: string): number {
    return op === undefined ? this.calls.length : this.calls.filter((c) => c.op === op).length;
  }

  /**
   * Records the call and returns the rule that fires for it, if any. For
   * adapters whose faults are not errors thrown around a function (the
   * timestamper turns them into transport behaviour).
   */
  pick(op: string, key: string): FaultRule<C> | undefined {
    this.calls.push({ op, key });
    for (const s of this.#rules) {
      if (s.rule.op !== '*' && s.rule.op !== op) continue;
      if (s.rule.match && !s.rule.match(key)) continue;
      s.seen++;
      if (s.seen <= (s.rule.skip ?? 0)) continue;
      if (s.fired >= (s.rule.times ?? 1)) continue;
      s.fired++;
      this.fired.push({ op, key, code: s.rule.code, when: s.rule.when ?? 'before' });
      return s.rule;
    }
    return undefined;
  }

  /**
   * Runs one port call under the plan. Always asynchronous, so concurrent
   * callers interleave at every store call as they would over a network.
   */
  async run<T>(op: string, key: string, fn: () => T | Promise<T>): Promise<T> {
    await Promise.resolve();
    const rule = this.pick(op, key);
    const when = rule?.when ?? 'before';
    if (rule && when === 'before') throw this.#make(rule.code, `injected ${rule.code} before ${op}(${key})`);
    const out = await fn();
    if (rule) throw this.#make(rule.code, `injected ${rule.code} after ${op}(${key}) took effect`);
    return out;
  }
}
