/**
 * Issue #11, query side: records at the size limit must come back through
 * GET /v1/logs/{logId}/events. A Lambda answers at most 6 MB, so a page of
 * 100 records of 65,535 bytes (the default limit) must be split by bytes, not
 * only by count, and the cursor must still walk every record exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { QueryRecord } from '../../src/app/query.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { canonicalBytes } from '../../src/core/canonical.ts';
import { MAX_RECORD_BYTES, ZERO_HASH_B64 } from '../../src/core/record.ts';
import { type QEnv, queryEnv } from './query-harness.ts';

/** AWS Lambda's synchronous response payload limit (bytes). */
const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
const LOG = 'big-records';
const COUNT = 100;

let env: QEnv;

/** An event whose record is MAX_RECORD_BYTES at `index` (receivedAt is fixed width). */
function fullEvent(index: number): Record<string, unknown> {
  const e = {
    occurredAt: '2025-10-01T00:00:00.000Z',
    actor: { type: 'human', id: 'alice' },
    action: 'tool.call',
    outcome: 'success',
    metadata: { pad: '' },
  };
  const size = canonicalBytes({
    v: 1,
    logId: LOG,
    index,
    receivedAt: '2025-10-01T08:00:00.000Z',
    submitter: 'svc-big',
    prev: ZERO_HASH_B64,
    event: e,
  }).length;
  e.metadata.pad = 'p'.repeat(MAX_RECORD_BYTES - size);
  return e;
}

beforeAll(async () => {
  env = queryEnv();
  await env.logRegistry.createLog(LOG);
  for (let b = 0; b < COUNT / 25; b++) {
    env.clock.t += 1000;
    const events = Array.from({ length: 25 }, (_, k) => fullEvent(b * 25 + k));
    const r = await env.ingest.append({
      logId: LOG,
      submitter: 'svc-big',
      body: utf8(JSON.stringify({ events })),
    });
    expect(r.status).toBe(201);
  }
});

async function walk(params: {
  from: string;
  to: string;
}): Promise<{ pages: number; records: QueryRecord[] }> {
  const svc = env.service({ settleMs: 0 });
  const records: QueryRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await svc.query(LOG, { ...params, ...(cursor ? { cursor } : {}) });
    pages++;
    // The handler answers JSON.stringify(page): it must fit one Lambda response.
    expect(utf8(JSON.stringify(page)).length).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    records.push(...page.records);
    cursor = page.cursor;
  } while (cursor !== undefined && pages < 10);
  return { pages, records };
}

describe('query pages of records at the size limit', () => {
  const range = { from: '2025-10-01T00:00:00.000Z', to: '2025-10-02T00:00:00.000Z' };

  it('read from the log: every page fits a Lambda response, and the cursor returns all records once', async () => {
    const { pages, records } = await walk(range);
    expect(pages).toBeGreaterThan(1);
    expect(records.map((r) => r.index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('read from the projection: the same', async () => {
    await env.projector().project(LOG);
    const { pages, records } = await walk(range);
    expect(pages).toBeGreaterThan(1);
    expect(records.map((r) => r.index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });
});
