/**
 * The stream job (docs/streams.md): every configured stream of every log (or
 * of the logs the trigger names) → the sealed records after its cursor → its
 * destination. Its own function, run after each seal (the seal function's
 * asynchronous-invocation destination) and on a schedule as the retry clock,
 * rather than inside the seal or projection run: it talks to the Internet and
 * reads the streams' secrets, which the sealer never should, and a SIEM that
 * hangs (up to its timeout, per attempt) cannot eat the sealer's time.
 *
 * The function also answers operators: `{"streams": {"deadLetters": {"stream"?, "state"?}}}`
 * lists dead letters; `{"streams": {"skip": {"stream": "…", "id": "…"}}}` moves a
 * blocked stream past its dead letter (docs/streams.md "Dead letters").
 */
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { DynamoStreamStore } from '../adapters/aws/dynamo-stream-store.ts';
import { HttpStreamSink } from '../adapters/streams/http-stream-sink.ts';
import { S3StreamSink } from '../adapters/streams/s3-stream-sink.ts';
import { type StreamOutcome, StreamService, type StreamServiceOptions } from '../app/streams.ts';
import { ConfigError } from '../config.ts';
import { parseWebhookSecrets } from '../core/deliver/webhook-signature.ts';
import { AnchorlogError } from '../core/errors.ts';
import type { StreamSpec } from '../core/streams/spec.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import { type Clock, systemSleep } from '../ports/clock.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { SecretError, type SecretSource } from '../ports/secret-source.ts';
import type { StreamSink } from '../ports/stream-sink.ts';
import type { StreamDeadLetter } from '../ports/stream-store.ts';
import type { AwsClients } from './aws.ts';
import { createSecretSource } from './aws.ts';
import { emfMetrics } from './metrics.ts';
import type { Services } from './services.ts';

export type StreamJobOutcome =
  | ({ ok: true } & StreamOutcome)
  | { ok: false; logId: string; stream: string; code: string; message: string };

export interface StreamJobSummary {
  streams: number;
  delivered: number;
  blocked: number;
}

export interface StreamJobOptions {
  /** Default: EMF lines on stdout. */
  readonly metrics?: MetricsSink;
  /** Where stream secrets are read (default Secrets Manager). */
  readonly secrets?: SecretSource;
  /** Per HTTP attempt (default 10 s). */
  readonly timeoutMs?: number;
  readonly retry?: StreamServiceOptions['retry'];
  readonly maxInRunWaitMs?: number;
}

type StreamServices = Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>;

/** Stop starting chunks this long before the Lambda timeout: one attempt (its timeout) and the cursor write must fit. */
const STREAM_SAFETY_MS = 20_000;

async function secretText(source: SecretSource, spec: StreamSpec & { secret: string }): Promise<string> {
  try {
    const text = (await source.readText(spec.secret)).trim();
    if (text === '')
      throw new ConfigError(
        `the secret of stream ${spec.name} (ANCHORLOG_STREAMS) is empty`,
        'INVALID_SECRET',
      );
    return text;
  } catch (err) {
    if (err instanceof SecretError && err.code !== 'UNAVAILABLE')
      throw new ConfigError(
        `cannot read the secret ${spec.secret} of stream ${spec.name} (ANCHORLOG_STREAMS): ${err.code}`,
        'SECRET_UNREADABLE',
      );
    throw err;
  }
}

/**
 * One sink per configured stream, with its credential read once (here, at cold
 * start). A secret that is missing or not what its stream needs is a
 * ConfigError naming the stream, never quoting the value.
 */
export async function createStreamSinks(
  specs: readonly StreamSpec[],
  deps: { clients: Pick<AwsClients, 's3'>; clock: Clock; secrets: SecretSource; timeoutMs?: number },
): Promise<Map<string, StreamSink>> {
  const out = new Map<string, StreamSink>();
  const timeout = deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {};
  for (const s of specs) {
    switch (s.kind) {
      case 's3':
        out.set(
          s.name,
          new S3StreamSink({ name: s.name, client: deps.clients.s3, bucket: s.bucket, prefix: s.prefix }),
        );
        break;
      case 'splunk-hec': {
        const token = await secretText(deps.secrets, s);
        out.set(
          s.name,
          new HttpStreamSink({
            name: s.name,
            kind: 'splunk-hec',
            url: s.url,
            token,
            clock: deps.clock,
            ...(s.ack ? { ack: { sleep: systemSleep } } : {}),
            ...timeout,
          }),
        );
        break;
      }
      case 'datadog':
        out.set(
          s.name,
          new HttpStreamSink({
            name: s.name,
            kind: 'datadog',
            url: s.url,
            apiKey: await secretText(deps.secrets, s),
            clock: deps.clock,
            ...timeout,
          }),
        );
        break;
      case 'webhook': {
        let keys: ReturnType<typeof parseWebhookSecrets>;
        try {
          keys = parseWebhookSecrets(await secretText(deps.secrets, s));
        } catch (err) {
          if (err instanceof ConfigError) throw err;
          throw new ConfigError(
            `the secret of stream ${s.name} (ANCHORLOG_STREAMS) is not a webhook signing secret: ${err instanceof Error ? err.message : 'invalid'}`,
            'INVALID_SECRET',
          );
        }
        out.set(
          s.name,
          new HttpStreamSink({
            name: s.name,
            kind: 'webhook',
            url: s.url,
            keys,
            clock: deps.clock,
            ...timeout,
          }),
        );
        break;
      }
    }
  }
  return out;
}

/** The stream use case over the table, with the streams' secrets read (once, here). */
export async function createStreamService(
  services: StreamServices,
  opts: StreamJobOptions = {},
): Promise<StreamService> {
  const { config, clients, clock, logStore } = services;
  const streams = config.streams ?? [];
  const sinks = await createStreamSinks(streams, {
    clients,
    clock,
    secrets: opts.secrets ?? createSecretSource(config),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return new StreamService({
    logs: logStore,
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    store: new DynamoStreamStore({ client: clients.ddb, tableName: config.tableName }),
    streams,
    sinks,
    clock,
    sleep: systemSleep,
    random: Math.random,
    metrics: opts.metrics ?? emfMetrics(),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.maxInRunWaitMs !== undefined ? { maxInRunWaitMs: opts.maxInRunWaitMs } : {}),
  });
}

/** The stream job: every stream of the selected logs, until the deadline. */
export function streamJob(
  services: Pick<Services, 'clock' | 'logStore'>,
  streams: StreamService,
): ScheduledJob<StreamJobOutcome, StreamJobSummary> {
  return {
    name: 'stream',
    clock: services.clock,
    safetyMs: STREAM_SAFETY_MS,
    // Only the logs that have streams: a deployment without streams lists nothing.
    listLogs: async () => [...new Set(streams.streams.map((s) => s.logId))],
    run: (logIds, deadlineMs) => streams.runLogs(logIds, deadlineMs),
    notable: (o) => o.ok && (o.delivered > 0 || o.status === 'retrying' || o.status === 'blocked'),
    summarize: (outcomes) => ({
      streams: outcomes.length,
      delivered: outcomes.reduce((n, o) => n + (o.ok ? o.delivered : 0), 0),
      blocked: outcomes.filter((o) => o.ok && o.status === 'blocked').length,
    }),
  };
}

export type StreamCommand = {
  readonly streams:
    | { readonly deadLetters: { readonly stream?: string; readonly state?: StreamDeadLetter['state'] } }
    | { readonly skip: { readonly stream: string; readonly id: string } };
};

export type StreamCommandErrorCode = 'BAD_COMMAND';
export class StreamCommandError extends AnchorlogError<StreamCommandErrorCode> {}

/** Whether an invocation input is an operator's command rather than a schedule input. */
export function isStreamCommand(input: unknown): input is StreamCommand {
  return typeof input === 'object' && input !== null && 'streams' in input;
}

/** Runs an operator's command (docs/streams.md "Dead letters"). */
export async function runStreamCommand(service: StreamService, command: StreamCommand): Promise<unknown> {
  const body = command.streams as Record<string, unknown>;
  if (typeof body?.deadLetters === 'object' && body.deadLetters !== null) {
    const d = body.deadLetters as { stream?: unknown; state?: unknown };
    if (d.stream !== undefined && typeof d.stream !== 'string')
      throw new StreamCommandError('BAD_COMMAND', 'streams.deadLetters.stream must be a stream name');
    if (d.state !== undefined && d.state !== 'open' && d.state !== 'delivered' && d.state !== 'skipped')
      throw new StreamCommandError(
        'BAD_COMMAND',
        'streams.deadLetters.state must be open, delivered or skipped',
      );
    return service.listDeadLetters({
      ...(typeof d.stream === 'string' ? { stream: d.stream } : {}),
      ...(d.state !== undefined ? { state: d.state as StreamDeadLetter['state'] } : {}),
    });
  }
  if (typeof body?.skip === 'object' && body.skip !== null) {
    const s = body.skip as { stream?: unknown; id?: unknown };
    if (typeof s.stream !== 'string' || typeof s.id !== 'string')
      throw new StreamCommandError(
        'BAD_COMMAND',
        'streams.skip needs {"stream": name, "id": dead-letter id}',
      );
    return service.skip(s.stream, s.id);
  }
  throw new StreamCommandError(
    'BAD_COMMAND',
    'streams must be {"deadLetters": {"stream"?, "state"?}} or {"skip": {"stream", "id"}}',
  );
}
