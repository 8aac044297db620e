/**
 * What each kind of stream sends for one chunk of records (docs/streams.md
 * "Wire formats"). Pure functions of the chunk, so every attempt (and every
 * redelivery after a crash) sends the same bytes; only a webhook's timestamp
 * header changes per attempt.
 *
 * The unit is a StreamDocument: the sealed record as the log holds it plus its
 * RFC 6962 leaf hash, so a receiver can ask the log for an inclusion proof of
 * any event it holds (`anchorlog prove --index`), minus the stream's dropped
 * fields.
 */
import { toBase64 } from '../bytes.ts';
import { type LogRecord, leafHash } from '../record.ts';
import { dropFields, type StreamSpec } from './spec.ts';

export type StreamDocument = LogRecord & { readonly leafHash: string };

/** The delivered document of one record (dropped fields removed). */
export function streamDocument(
  record: LogRecord,
  bytes: Uint8Array,
  drop: readonly string[],
): StreamDocument {
  const doc: StreamDocument = { ...record, leafHash: toBase64(leafHash(bytes)) };
  return dropFields(doc, drop);
}

/** One chunk: records [fromIndex, toIndex) of a log, of which `docs` passed the filter (in order). */
export interface StreamChunk {
  readonly stream: string;
  readonly logId: string;
  readonly fromIndex: number;
  /** Exclusive. */
  readonly toIndex: number;
  readonly docs: readonly StreamDocument[];
}

/**
 * The chunk's idempotency key (webhook-id, the S3 key, HEC's channel payload):
 * stable across retries of the same range; no dots (Standard Webhooks joins id,
 * timestamp and body with dots before signing).
 */
export function chunkId(c: Pick<StreamChunk, 'stream' | 'logId' | 'fromIndex' | 'toIndex'>): string {
  return `${c.stream}_${c.logId}_${c.fromIndex}_${c.toIndex}`.replace(/\./g, '-');
}

const epochSeconds = (receivedAt: string): number => Date.parse(receivedAt) / 1000;

/**
 * One item of the body as the kind frames it; the chunk builder sums their
 * sizes to keep a request under the stream's maxBytes.
 *
 *  - Splunk HEC (/services/collector/event): one JSON event object per record,
 *    `time` in epoch seconds (ms as decimals), the record as `event`; a batch
 *    is the objects concatenated (we put a newline between them).
 *  - Datadog (/api/v2/logs): one log object per record: ddsource, service,
 *    ddtags, a short `message`, `date`, and the record under `anchorlog`.
 *  - Webhook and S3: the document itself.
 */
export function encodeItem(spec: StreamSpec, doc: StreamDocument): string {
  switch (spec.kind) {
    case 'splunk-hec':
      return JSON.stringify({
        time: epochSeconds(doc.receivedAt),
        host: 'anchorlog',
        source: spec.source ?? `anchorlog:${doc.logId}`,
        sourcetype: spec.sourcetype,
        ...(spec.index !== undefined ? { index: spec.index } : {}),
        event: doc,
      });
    case 'datadog': {
      const actor = doc.event?.actor?.id;
      return JSON.stringify({
        ddsource: 'anchorlog',
        service: spec.service,
        ...(spec.ddtags !== undefined ? { ddtags: spec.ddtags } : {}),
        hostname: 'anchorlog',
        date: doc.receivedAt,
        message: `${doc.event?.action ?? '?'}${actor !== undefined ? ` by ${actor}` : ''} (${doc.logId}#${doc.index})`,
        anchorlog: doc,
      });
    }
    case 'webhook':
    case 's3':
      return JSON.stringify(doc);
  }
}

/** Bytes a body adds around its items (brackets, separators, the webhook envelope); an upper bound. */
export function envelopeBytes(spec: StreamSpec, items: number): number {
  switch (spec.kind) {
    case 'splunk-hec':
    case 's3':
      return items;
    case 'datadog':
      return 2 + items;
    case 'webhook':
      return 512 + items;
  }
}

/** The request body of a chunk from its encoded items. */
export function assembleBody(spec: StreamSpec, chunk: StreamChunk, items: readonly string[]): string {
  switch (spec.kind) {
    case 'splunk-hec':
      return items.join('\n');
    case 's3':
      return items.length === 0 ? '' : `${items.join('\n')}\n`;
    case 'datadog':
      return `[${items.join(',')}]`;
    case 'webhook': {
      // Standard Webhooks' suggested shape: type, timestamp, data. The timestamp is
      // the last record's receivedAt (not the attempt's), so the body is the same on retry.
      const last = chunk.docs.at(-1)?.receivedAt ?? new Date(0).toISOString();
      const head = JSON.stringify({
        type: 'anchorlog.records',
        timestamp: last,
        data: {
          stream: chunk.stream,
          logId: chunk.logId,
          fromIndex: chunk.fromIndex,
          toIndex: chunk.toIndex,
        },
      });
      // {"type":…,"data":{…,"records":[…]}}
      return `${head.slice(0, -2)},"records":[${items.join(',')}]}}`;
    }
  }
}

/** The S3 object key of a chunk: by log and leaf range, zero-padded so keys sort in log order. */
export function s3ChunkKey(
  prefix: string,
  chunk: Pick<StreamChunk, 'stream' | 'logId' | 'fromIndex' | 'toIndex'>,
): string {
  const pad = (n: number) => String(n).padStart(16, '0');
  return `${prefix}${chunk.stream}/${chunk.logId}/${pad(chunk.fromIndex)}-${pad(chunk.toIndex)}.ndjson`;
}
