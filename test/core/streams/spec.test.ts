/**
 * ANCHORLOG_STREAMS parsing (src/core/streams/spec.ts): every garbage document
 * is a StreamConfigError whose message names the JSON path; secret values are
 * SECRET_IN_CONFIG; filters select by action prefix and drop fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dropFields,
  parseStreams,
  STREAM_LIMITS,
  StreamConfigError,
  selects,
} from '../../../src/core/streams/spec.ts';

const hec = {
  name: 'siem',
  logId: 'acme',
  kind: 'splunk-hec',
  url: 'https://hec.example.com:8088',
  secret: 'anchorlog/hec',
};
const doc = (...streams: unknown[]) => JSON.stringify({ streams });

function error(text: string): StreamConfigError {
  try {
    parseStreams(text);
  } catch (e) {
    expect(e).toBeInstanceOf(StreamConfigError);
    return e as StreamConfigError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('parseStreams', () => {
  it('unset or blank: no streams; a full document: every kind with its defaults', () => {
    expect(parseStreams(undefined)).toEqual([]);
    expect(parseStreams('  ')).toEqual([]);
    const s = parseStreams(
      doc(
        hec,
        {
          name: 'dd',
          logId: 'acme',
          kind: 'datadog',
          secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-AbCdEf',
        },
        {
          name: 'hook',
          logId: 'other',
          kind: 'webhook',
          url: 'https://siem.example/hooks/anchorlog',
          secret: 'hook-secret',
        },
        { name: 'lake', logId: 'acme', kind: 's3', bucket: 'audit-lake' },
      ),
    );
    expect(s.map((x) => x.kind)).toEqual(['splunk-hec', 'datadog', 'webhook', 's3']);
    expect(s[0]).toMatchObject({
      sourcetype: 'anchorlog:record',
      ack: false,
      maxAttempts: 8,
      maxEvents: 500,
    });
    expect(s[1]).toMatchObject({
      url: 'https://http-intake.logs.datadoghq.com',
      service: 'anchorlog',
      maxEvents: 500,
    });
    expect(s[3]).toMatchObject({ prefix: 'streams/', maxBytes: STREAM_LIMITS.s3.defaultBytes });
  });

  it.each([
    ['not JSON', '{', 'ANCHORLOG_STREAMS: is not JSON'],
    ['not an object', '[]', 'ANCHORLOG_STREAMS: must be a JSON object'],
    ['unknown top-level field', JSON.stringify({ streams: [], extra: 1 }), '.extra: unknown field'],
    ['streams not a list', JSON.stringify({ streams: {} }), '.streams: must be a list'],
    ['stream not an object', doc(3), '.streams[0]: must be an object'],
    ['bad name', doc({ ...hec, name: 'Bad Name' }), '.streams[0].name'],
    ['bad log id', doc({ ...hec, logId: '../x' }), '.streams[0].logId'],
    [
      'unknown kind',
      doc({ ...hec, kind: 'syslog' }),
      '.streams[0].kind: must be one of splunk-hec, datadog, webhook, s3',
    ],
    [
      'http to a remote host',
      doc({ ...hec, url: 'http://hec.example.com' }),
      '.streams[0].url: must be https://',
    ],
    ['not a URL', doc({ ...hec, url: 'hec' }), '.streams[0].url: is not a URL'],
    [
      'a query string',
      doc({ ...hec, url: 'https://h.example/?a=1' }),
      '.streams[0].url: must not have a ?query',
    ],
    ['missing secret', doc({ ...hec, secret: undefined }), '.streams[0].secret: must name a secret'],
    ['unknown field', doc({ ...hec, colour: 'red' }), '.streams[0].colour: unknown field'],
    [
      "maxEvents over Datadog's 1,000",
      doc({ name: 'd', logId: 'a', kind: 'datadog', secret: 's', maxEvents: 1001 }),
      '.streams[0].maxEvents: must be an integer from 1 to 1000',
    ],
    [
      "maxBytes over Datadog's 5 MB",
      doc({ name: 'd', logId: 'a', kind: 'datadog', secret: 's', maxBytes: 5_000_001 }),
      '.streams[0].maxBytes',
    ],
    ['maxAttempts 0', doc({ ...hec, maxAttempts: 0 }), '.streams[0].maxAttempts'],
    ['ack not boolean', doc({ ...hec, ack: 'yes' }), '.streams[0].ack'],
    ['filter not an object', doc({ ...hec, filter: [] }), '.streams[0].filter: must be an object'],
    [
      'bad action prefix',
      doc({ ...hec, filter: { includeActions: ['a b'] } }),
      '.streams[0].filter.includeActions[0]',
    ],
    [
      'dropping the index',
      doc({ ...hec, filter: { dropFields: ['index'] } }),
      '.streams[0].filter.dropFields[0]: index is always delivered',
    ],
    ['bad bucket', doc({ name: 'l', logId: 'a', kind: 's3', bucket: 'No_Such' }), '.streams[0].bucket'],
    ['duplicate names', doc(hec, hec), '.streams[1].name: siem is configured twice'],
  ])('%s → INVALID_STREAMS naming the path', (_, text, message) => {
    const e = error(text);
    expect(e.code).toBe('INVALID_STREAMS');
    expect(e.message).toContain(message);
  });

  it.each([
    ['a whsec_ secret', { ...hec, kind: 'webhook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
    ['a GUID (a HEC token)', { ...hec, secret: '12345678-1234-1234-1234-123456789abc' }],
    [
      '32 hex digits (a Datadog API key)',
      { ...hec, kind: 'datadog', secret: '0123456789abcdef0123456789abcdef' },
    ],
    ['a token field', { ...hec, token: 'x' }],
    ['credentials in the URL', { ...hec, url: 'https://user:pw@hec.example.com' }],
  ])('%s → SECRET_IN_CONFIG, never echoing it', (_, stream) => {
    const e = error(doc(stream));
    expect(e.code).toBe('SECRET_IN_CONFIG');
    expect(e.message).not.toMatch(/whsec_Mf|12345678-1234|0123456789abcdef|pw@/);
  });

  it('never throws anything but StreamConfigError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseStreams(JSON.stringify({ streams: [v] }));
        } catch (e) {
          expect(e).toBeInstanceOf(StreamConfigError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('filters', () => {
  const f = { includeActions: ['access', 'tool.call'], excludeActions: ['access.revoke'], dropFields: [] };
  it('include by prefix at a dot boundary; exclude wins', () => {
    expect(selects(f, 'access')).toBe(true);
    expect(selects(f, 'access.grant')).toBe(true);
    expect(selects(f, 'accessory')).toBe(false);
    expect(selects(f, 'access.revoke')).toBe(false);
    expect(selects(f, 'access.revoke.all')).toBe(false);
    expect(selects(f, 'tool.call')).toBe(true);
    expect(selects(f, 'tool.list')).toBe(false);
    expect(selects({ ...f, includeActions: [] }, 'anything')).toBe(true);
  });
  it('drops dotted paths from a copy; absent paths are ignored', () => {
    const d = { index: 1, submitter: 's', event: { action: 'a', context: { prompt: 'p', model: 'm' } } };
    const out = dropFields(d, ['submitter', 'event.context.prompt', 'event.missing.deep']);
    expect(out).toEqual({ index: 1, event: { action: 'a', context: { model: 'm' } } });
    expect(d.submitter).toBe('s');
  });
});
