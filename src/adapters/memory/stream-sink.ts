/**
 * A StreamSink in memory (src/ports/stream-sink.ts): keeps every chunk it
 * takes; tests script its answers. Held to test/contracts/stream-sink.contract.ts.
 */
import type { AttemptResult } from '../../core/deliver/progress.ts';
import type { StreamKind } from '../../core/streams/spec.ts';
import type { StreamSend, StreamSink } from '../../ports/stream-sink.ts';

export class MemoryStreamSink implements StreamSink {
  readonly name: string;
  readonly kind: StreamKind;
  readonly calls: StreamSend[] = [];
  /** Chunks taken (answered ok), in order. */
  readonly taken: StreamSend[] = [];
  /** The destination's answer to call number `call` (1-based). Default: taken. */
  answer: (s: StreamSend, call: number) => AttemptResult = () => ({ ok: true, status: 200 });

  constructor(name: string, kind: StreamKind = 'webhook') {
    this.name = name;
    this.kind = kind;
  }

  async send(s: StreamSend): Promise<AttemptResult> {
    this.calls.push(s);
    const a = this.answer(s, this.calls.length);
    if (a.ok) this.taken.push(s);
    return a;
  }
}
