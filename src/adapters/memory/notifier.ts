/**
 * Notifier in memory (src/ports/notifier.ts): a destination that records every
 * notification it is sent, with answers a test can script (a receiver that
 * fails, refuses, or asks to retry later).
 */
import type { AttemptResult } from '../../core/deliver/progress.ts';
import type { Notification, Notifier } from '../../ports/notifier.ts';

export class MemoryNotifier implements Notifier {
  readonly calls: Notification[] = [];
  /** The destination's answer to call number `call` (1-based). Default: accepted. */
  answer: (n: Notification, call: number) => AttemptResult = () => ({ ok: true, status: 200 });

  constructor(
    readonly name: string,
    readonly kind: Notifier['kind'] = 'webhook',
  ) {}

  async send(n: Notification): Promise<AttemptResult> {
    this.calls.push(n);
    // A script that throws plays a buggy notifier (the service must survive one); scripts that
    // play a destination return an AttemptResult, as the port requires.
    return this.answer(n, this.calls.length);
  }

  /** Notification ids received, in order (repeats included). */
  get ids(): string[] {
    return this.calls.map((c) => c.id);
  }
}
