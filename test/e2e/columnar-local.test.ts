/**
 * The columnar query index in the local stack, end to end over HTTP: demo
 * events → seal → the project job writes Parquet into the index bucket (moto
 * S3) → `anchorlog query --sql` and `anchorlog query` filters, answered by
 * DuckDB in the query routes; hostile SQL is a 400 with its reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { cli, startTestStack } from './helpers.ts';

let stack: LocalStack;
const COUNT = 300;

beforeAll(async () => {
  stack = await startTestStack();
  const client = new AuditClient({
    apiUrl: stack.info.apiUrl,
    apiKey: stack.info.apiKey,
    logId: stack.info.logId,
  });
  await Promise.all(demoEvents({ count: COUNT, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
  await client.close();
  await stack.sealNow();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const api = () => ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];

describe('columnar index in the local stack', () => {
  it('anchorlog query --sql answers from the Parquet index; every row has its leafIndex', async () => {
    const r = await cli(
      'query',
      '--log',
      stack.info.logId,
      '--sql',
      'SELECT leafIndex, action, count(*) OVER () AS total FROM events ORDER BY leafIndex',
      '--max-rows',
      '10000',
      '--json',
      ...api(),
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as {
      rows: Array<{ leafIndex: string; total: string }>;
      indexedSize: number;
    };
    expect(doc.indexedSize).toBe(COUNT);
    expect(doc.rows.map((x) => Number(x.leafIndex))).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('the filters of GET …/events come from the same index, including outcome', async () => {
    const sql = await cli(
      'query',
      '--log',
      stack.info.logId,
      '--sql',
      "SELECT leafIndex FROM events WHERE outcome = 'failure' ORDER BY leafIndex",
      '--json',
      ...api(),
    );
    const want = (JSON.parse(sql.out) as { rows: Array<{ leafIndex: string }> }).rows.map((x) =>
      Number(x.leafIndex),
    );
    expect(want.length).toBeGreaterThan(0);
    const got = await cli('query', '--log', stack.info.logId, '--outcome', 'failure', '--json', ...api());
    expect(got.code).toBe(0);
    expect(
      (JSON.parse(got.out) as { records: Array<{ index: number }> }).records.map((r) => r.index),
    ).toEqual(want);
  });

  it.each([
    ["COPY events TO '/tmp/anchorlog-e2e.csv'", 'SQL_NOT_READ_ONLY'],
    ["SELECT 1 AS leafIndex, * FROM read_text('/etc/passwd')", 'SQL_FORBIDDEN'],
    ['SELECT 1 AS leafIndex; SELECT 2 AS leafIndex', 'SQL_MULTIPLE_STATEMENTS'],
  ])('POST /sql refuses %s with 400 %s', async (sql, reason) => {
    const res = await fetch(`${stack.info.apiUrl}/v1/logs/${stack.info.logId}/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.info.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { reason: string; path: string } }).error).toMatchObject({
      reason,
      path: '/sql',
    });
  });

  it('anchorlog index rebuild needs admin; with it, the index is rebuilt to the same answer', async () => {
    const denied = await cli('index', 'rebuild', '--log', stack.info.logId, ...api());
    expect(denied.code).toBe(1);
    const r = await cli(
      'index',
      'rebuild',
      '--log',
      stack.info.logId,
      '--json',
      '--api',
      stack.info.apiUrl,
      '--key',
      stack.info.adminKey,
    );
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, done: true, nextIndex: COUNT });
    const after = await cli(
      'query',
      '--log',
      stack.info.logId,
      '--sql',
      'SELECT count(*) AS n, max(leafIndex) AS leafIndex FROM events',
      '--json',
      ...api(),
    );
    expect(JSON.parse(after.out).rows).toEqual([{ n: String(COUNT), leafIndex: String(COUNT - 1) }]);
  });
});
