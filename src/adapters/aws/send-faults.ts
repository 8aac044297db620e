/**
 * Fault injection for any AWS SDK v3 client, at its `send` (STYLE: sunlight's
 * testlog / tessera's fault tables). Tests wrap the real clients that talk to
 * the emulator, so the code under test runs its real paths; only the outcome of
 * chosen calls changes:
 *
 *   fail-before   the request is never sent: nothing persists, the caller gets an error
 *   fail-after    the request is sent and succeeds, then the caller gets an error
 *                 (a timeout after a successful write)
 *   kill-before   the process dies before sending: this call and every later one
 *                 on any client of the same injector never settle
 *   kill-after    the request lands, then the process dies (as above)
 *
 * Calls are numbered 1, 2, … across all clients of one injector, in the order
 * `send` is invoked (synchronous, so deterministic even under Promise.all).
 */

export type FaultMode = 'fail-before' | 'fail-after' | 'kill-before' | 'kill-after';

export interface SendCall {
  /** 1-based across every client of the injector, counted while armed. */
  readonly n: number;
  /** e.g. "PutObjectCommand". */
  readonly command: string;
  readonly client: string;
}

export type FaultPlan = (call: SendCall) => FaultMode | undefined;

/** What a client must look like to be wrapped. */
export interface Sendable {
  // biome-ignore lint/suspicious/noExplicitAny: wraps any SDK client's overloaded send
  send(command: any, ...rest: any[]): Promise<any>;
}

export class InjectedFault extends Error {
  readonly call: SendCall;
  readonly mode: FaultMode;
  constructor(call: SendCall, mode: FaultMode) {
    super(`injected ${mode} at call ${call.n} (${call.client} ${call.command})`);
    this.name = 'InjectedFault';
    this.call = call;
    this.mode = mode;
    // Look like an SDK network failure to classifiers (retryable, no HTTP status).
    (this as { $fault?: string }).$fault = 'server';
  }
}

export class SendFaultInjector {
  #plan: FaultPlan = () => undefined;
  #armed = false;
  #n = 0;
  #killed = false;
  #onKilled: (() => void) | undefined;
  readonly calls: SendCall[] = [];
  /** Resolves when a kill fault fires: the run is over, abandon it. */
  readonly killed: Promise<void>;

  constructor() {
    this.killed = new Promise<void>((resolve) => {
      this.#onKilled = resolve;
    });
  }

  /** Starts counting calls and applying `plan` (default: record only). */
  arm(plan: FaultPlan = () => undefined): void {
    this.#plan = plan;
    this.#armed = true;
    this.#n = 0;
    this.calls.length = 0;
  }

  disarm(): void {
    this.#armed = false;
  }

  get isKilled(): boolean {
    return this.#killed;
  }

  /** Replaces `client.send` on this instance (the prototype stays untouched) and returns the client. */
  wrap<C extends Sendable>(client: C, name: string): C {
    const original = client.send.bind(client);
    const hang = () => new Promise<never>(() => {});
    // biome-ignore lint/suspicious/noExplicitAny: mirrors the SDK's overloaded send
    client.send = (async (command: any, ...rest: any[]) => {
      if (this.#killed) return hang();
      if (!this.#armed) return original(command, ...rest);
      const call: SendCall = {
        n: ++this.#n,
        command: String(command?.constructor?.name ?? 'unknown'),
        client: name,
      };
      this.calls.push(call);
      const mode = this.#plan(call);
      if (mode === 'fail-before') throw new InjectedFault(call, mode);
      if (mode === 'kill-before') return this.#kill();
      const out = await original(command, ...rest);
      if (mode === 'fail-after') throw new InjectedFault(call, mode);
      if (mode === 'kill-after') return this.#kill();
      if (this.#killed) return hang();
      return out;
    }) as C['send'];
    return client;
  }

  #kill(): Promise<never> {
    this.#killed = true;
    this.#onKilled?.();
    return new Promise<never>(() => {});
  }
}
