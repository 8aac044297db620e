/**
 * The StreamSink contract (src/ports/stream-sink.ts), run against the memory
 * sink (test/contracts/memory.test.ts) and the S3 and HTTP sinks on the
 * emulator and the local HEC receiver (test/contracts/aws.test.ts): a taken
 * chunk resolves ok and is what the destination holds; a repeat of a chunk is
 * taken again (at least once); a destination that refuses resolves ok:false
 * with a code and a message — it never rejects.
 */
import { describe, expect, it } from 'vitest';
import type { StreamChunk, StreamDocument } from '../../src/core/streams/payloads.ts';
import type { StreamSink } from '../../src/ports/stream-sink.ts';

export interface StreamSinkFixture {
  /** A sink whose destination takes everything. */
  readonly sink: StreamSink;
  /** A sink whose destination refuses (missing bucket, 5xx, …). */
  readonly refusing: StreamSink;
  /** The body that sink expects for a chunk (its kind's framing). */
  body(chunk: StreamChunk): Uint8Array;
  /** Leaf indexes the destination holds, in order taken. */
  held(): Promise<number[]>;
}

function doc(index: number): StreamDocument {
  return {
    v: 1,
    logId: 'acme',
    index,
    receivedAt: '2026-03-01T12:00:00.000Z',
    submitter: 'svc',
    prev: 'AAAA',
    leafHash: 'BBBB',
    event: {
      occurredAt: '2026-03-01T12:00:00.000Z',
      actor: { type: 'agent', id: 'a' },
      action: 'tool.call',
      outcome: 'success',
    },
  } as unknown as StreamDocument;
}

export function streamSinkContract(name: string, make: () => Promise<StreamSinkFixture>): void {
  describe(`StreamSink contract: ${name}`, () => {
    it('a taken chunk resolves ok; a repeat is taken again; the destination holds them in order', async () => {
      const f = await make();
      const a: StreamChunk = { stream: 's', logId: 'acme', fromIndex: 0, toIndex: 2, docs: [doc(0), doc(1)] };
      const b: StreamChunk = { stream: 's', logId: 'acme', fromIndex: 2, toIndex: 3, docs: [doc(2)] };
      expect((await f.sink.send({ chunk: a, body: f.body(a), attempt: 1 })).ok).toBe(true);
      expect((await f.sink.send({ chunk: a, body: f.body(a), attempt: 2 })).ok).toBe(true);
      expect((await f.sink.send({ chunk: b, body: f.body(b), attempt: 1 })).ok).toBe(true);
      const held = await f.held();
      expect([...new Set(held)]).toEqual([0, 1, 2]);
    });

    it('a refusing destination resolves ok:false with a code and a message; it never rejects', async () => {
      const f = await make();
      const c: StreamChunk = { stream: 's', logId: 'acme', fromIndex: 0, toIndex: 1, docs: [doc(0)] };
      const r = await f.refusing.send({ chunk: c, body: f.body(c), attempt: 1 });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.code).toMatch(/^[A-Z_]+$/);
      expect(r.message.length).toBeGreaterThan(0);
      expect(typeof r.retryable).toBe('boolean');
    });
  });
}
