/**
 * The stream job's wiring (src/compose/streams.ts): secrets read once at cold
 * start — missing, empty or malformed ones are ConfigErrors naming the stream,
 * never quoting a value — the config setting's errors, and the operator
 * commands, garbage included.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { MemorySecretSource } from '../../src/adapters/memory/secret-source.ts';
import { MemoryStreamStore } from '../../src/adapters/memory/stream-store.ts';
import { StreamService } from '../../src/app/streams.ts';
import { createStreamSinks, runStreamCommand, streamJob } from '../../src/compose/streams.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { parseStreams } from '../../src/core/streams/spec.ts';

const specs = parseStreams(
  JSON.stringify({
    streams: [
      { name: 'siem', logId: 'acme', kind: 'splunk-hec', url: 'https://hec.example.com', secret: 'hec' },
      { name: 'hook', logId: 'acme', kind: 'webhook', url: 'https://hook.example.com', secret: 'hook' },
      { name: 'lake', logId: 'other', kind: 's3', bucket: 'audit-lake' },
    ],
  }),
);
const clock = new ManualClock();
const clients = { s3: new S3Client({ region: 'us-east-1' }) };
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=';

describe('createStreamSinks', () => {
  it('one sink per stream, credentials read from the secret source', async () => {
    const secrets = new MemorySecretSource({ hec: 'a-token', hook: WHSEC });
    const sinks = await createStreamSinks(specs, { clients, clock, secrets });
    expect([...sinks.keys()]).toEqual(['siem', 'hook', 'lake']);
    expect(sinks.get('lake')?.kind).toBe('s3');
  });

  it.each([
    ['a missing secret', { hook: WHSEC }, 'SECRET_UNREADABLE', 'stream siem'],
    ['an empty secret', { hec: '  ', hook: WHSEC }, 'INVALID_SECRET', 'stream siem'],
    [
      'a webhook secret that is not whsec_',
      { hec: 't', hook: 'not-a-key-value' },
      'INVALID_SECRET',
      'stream hook',
    ],
  ])('%s → ConfigError naming the stream, not the value', async (_, values, code, names) => {
    const err = await createStreamSinks(specs, {
      clients,
      clock,
      secrets: new MemorySecretSource(values),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(code);
    expect((err as ConfigError).message).toContain(names);
    expect((err as ConfigError).message).not.toContain('not-a-key-value');
  });
});

describe('ANCHORLOG_STREAMS in loadConfig', () => {
  const base = {
    ANCHORLOG_TABLE: 't',
    ANCHORLOG_ARCHIVE_BUCKET: 'b',
    ANCHORLOG_SIGNING_KEY_ID: 'k',
    ANCHORLOG_ORIGIN_PREFIX: 'example.com/log',
  };
  it('garbage is INVALID_SETTING naming the path; a secret value is SECRET_IN_ENVIRONMENT', () => {
    const load = (v: string) => {
      try {
        loadConfig({ ...base, ANCHORLOG_STREAMS: v });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    };
    const bad = load(JSON.stringify({ streams: [{ name: 'x', logId: 'a', kind: 'nope' }] }));
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad?.code).toBe('INVALID_SETTING');
    expect(bad?.message).toContain('ANCHORLOG_STREAMS.streams[0].kind');
    const secret = load(
      JSON.stringify({ streams: [{ ...JSON.parse(JSON.stringify(specs[1])), secret: WHSEC }] }),
    );
    expect(secret?.code).toBe('SECRET_IN_ENVIRONMENT');
  });
});

describe('operator commands', () => {
  const service = new StreamService({
    logs: new MemoryLogStore(),
    sealState: new MemorySealStateStore(),
    store: new MemoryStreamStore(),
    streams: specs,
    sinks: new Map(
      specs.map((s) => [s.name, { name: s.name, kind: s.kind, send: async () => ({ ok: true as const }) }]),
    ),
    clock,
    sleep: clock.sleep,
    random: () => 0.5,
  });
  it.each([
    [{ streams: {} }],
    [{ streams: null }],
    [{ streams: { deadLetters: { state: 'bogus' } } }],
    [{ streams: { deadLetters: { stream: 7 } } }],
    [{ streams: { skip: { stream: 'siem' } } }],
    [{ streams: { skip: 'all' } }],
  ])('%j → BAD_COMMAND', async (command) => {
    await expect(runStreamCommand(service, command as never)).rejects.toMatchObject({ code: 'BAD_COMMAND' });
  });
  it('lists dead letters; skipping a stream that is not blocked is a CONFLICT; an unknown stream NOT_FOUND', async () => {
    expect(await runStreamCommand(service, { streams: { deadLetters: {} } })).toEqual([]);
    await expect(
      runStreamCommand(service, { streams: { skip: { stream: 'siem', id: 'siem/0' } } }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      runStreamCommand(service, { streams: { skip: { stream: 'nope', id: 'nope/0' } } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
  it('the job lists only the logs that have streams', async () => {
    const job = streamJob({ clock, logStore: new MemoryLogStore() }, service);
    expect(await job.listLogs?.()).toEqual(['acme', 'other']);
  });
});
