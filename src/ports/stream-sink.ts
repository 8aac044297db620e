/**
 * StreamSink port: one configured stream's destination (docs/streams.md).
 * Implemented by src/adapters/streams/http-stream-sink.ts (Splunk HEC,
 * Datadog logs intake, Standard Webhooks) and
 * src/adapters/streams/s3-stream-sink.ts.
 * The key words MUST, MUST NOT and SHOULD are to be interpreted as in RFC 2119.
 */
import type { AttemptResult } from '../core/deliver/progress.ts';
import type { StreamChunk } from '../core/streams/payloads.ts';
import type { StreamKind } from '../core/streams/spec.ts';

export interface StreamSend {
  readonly chunk: StreamChunk;
  /** The chunk's body as its kind frames it (src/core/streams/payloads.ts): the same bytes on every attempt. */
  readonly body: Uint8Array;
  /** 1-based, for logs; the body never depends on it. */
  readonly attempt: number;
}

export interface StreamSink {
  readonly name: string;
  readonly kind: StreamKind;
  /**
   * One attempt. It MUST resolve (never reject) with the outcome of a receiver
   * that failed, hung or answered garbage, classified as retryable or not, and
   * MUST resolve ok only when the receiver has taken the whole chunk. Messages
   * MUST NOT contain a credential.
   */
  send(s: StreamSend): Promise<AttemptResult>;
}
