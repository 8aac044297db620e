/**
 * Client event ids are scoped to the submitter (docs/ingest.md §4 "Event
 * ids"): one writer cannot register an id another writer will use and get
 * that writer's batches refused with 409 for ever (event-id squatting,
 * issue #11). Against a real DynamoDB (moto).
 *
 * Ids recorded before issue #11 sit under the per-log key: they still
 * de-duplicate the events of the submitter whose record they point at (a
 * retry across the upgrade is not stored twice), and nobody else's.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import type { IngestService } from '../../src/app/ingest.ts';
import { toBase64Url as b64url, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { type MotoEnv, makeEnv, newTable } from './ingest-moto.ts';
import { body, checkInvariants, event, readAll } from './ingest-support.ts';

let env: MotoEnv;
let svc: IngestService;
let table: string;

beforeAll(async () => {
  const { tableName } = await newTable();
  table = tableName;
  env = makeEnv(tableName);
  svc = env.service();
});

// The item keys as docs/ingest.md §2 documents them.
const legacyKey = (logId: string, id: string) => ({
  pk: { S: `L#${logId}#E#${b64url(sha256(utf8(id)))}` },
  sk: { S: 'E' },
});
const scopedKey = (logId: string, submitter: string, id: string) => ({
  pk: { S: `L#${logId}#E#${b64url(sha256(utf8(`anchorlog event id v2\0${submitter}\0${id}`)))}` },
  sk: { S: 'E' },
});

const order = (id: string, actor: string) =>
  event({ id, actor: { type: 'service', id: actor }, action: 'order.update' });

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof AppError ? e.code : String(e)),
  );

describe('event ids are scoped to the submitter', () => {
  it('a hostile producer that registers an id first cannot get an honest batch refused', async () => {
    await env.logRegistry.createLog('squat');
    const noise = order('ord-1002', 'noise');
    const squat = await svc.append({ logId: 'squat', submitter: 'p-hostile', body: body([noise]) });
    const events = [order('ord-1001', 'svc'), order('ord-1002', 'svc'), order('ord-1003', 'svc')];
    const honest = {
      logId: 'squat',
      submitter: 'svc-orders',
      idempotencyKey: 'batch-7f3a',
      body: body(events),
    };
    const first = await svc.append(honest);
    expect(first.status).toBe(201);
    expect(first.receipts.map((r) => r.index)).toEqual([1, 2, 3]);

    // Each writer's ids still de-duplicate its own events: retries replay, never append twice.
    expect(await svc.append(honest)).toMatchObject({ status: 200, replay: true, receipts: first.receipts });
    const again = await svc.append({ logId: 'squat', submitter: 'svc-orders', body: body([events[1]]) });
    expect(again).toMatchObject({ status: 200, replay: true, receipts: [first.receipts[1]] });
    const hostileAgain = await svc.append({ logId: 'squat', submitter: 'p-hostile', body: body([noise]) });
    expect(hostileAgain).toMatchObject({ status: 200, replay: true, receipts: squat.receipts });
    // And an id reused by the same writer for another event is still a conflict.
    expect(
      await codeOf(
        svc.append({ logId: 'squat', submitter: 'svc-orders', body: body([order('ord-1003', 'other')]) }),
      ),
    ).toBe('CONFLICT');

    const { records } = await checkInvariants(env.store, 'squat', [...squat.receipts, ...first.receipts]);
    expect(records).toBe(4);
    const stored = (await readAll(env.store, 'squat')).flatMap((b) =>
      b.records.map((r) => decodeRecord(r.bytes)),
    );
    expect(stored.map((r) => [r.event.id, r.submitter])).toEqual([
      ['ord-1002', 'p-hostile'],
      ['ord-1001', 'svc-orders'],
      ['ord-1002', 'svc-orders'],
      ['ord-1003', 'svc-orders'],
    ]);
  });

  it('an id recorded before issue #11 (per-log key) still de-duplicates its own submitter, and only it', async () => {
    await env.logRegistry.createLog('legacy');
    const e = order('L-1', 'svc');
    const first = await svc.append({ logId: 'legacy', submitter: 'svc-a', body: body([e]) });
    // Turn the deployment back into one from before: only the per-log item, as older code wrote it.
    await env.client.send(
      new DeleteItemCommand({ TableName: table, Key: scopedKey('legacy', 'svc-a', 'L-1') }),
    );
    await env.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...legacyKey('legacy', 'L-1'),
          id: { S: 'L-1' },
          index: { N: String(first.receipts[0]?.index) },
          seq: { N: '1' },
        },
      }),
    );
    // svc-a re-sends the event across the upgrade under a new Idempotency-Key: only the id can tell.
    const retry = svc.append({
      logId: 'legacy',
      submitter: 'svc-a',
      idempotencyKey: 'after',
      body: body([e]),
    });
    expect(await retry).toMatchObject({ status: 200, replay: true, receipts: first.receipts });
    // Someone else's event with that id is not a conflict: the old item is svc-a's.
    const other = await svc.append({ logId: 'legacy', submitter: 'svc-b', body: body([order('L-1', 'b')]) });
    expect(other.status).toBe(201);
    // svc-a reusing the id for another event is.
    expect(
      await codeOf(svc.append({ logId: 'legacy', submitter: 'svc-a', body: body([order('L-1', 'c')]) })),
    ).toBe('CONFLICT');
    const { records } = await checkInvariants(env.store, 'legacy', [...first.receipts, ...other.receipts]);
    expect(records).toBe(2);
  });
});

describe('the system log keeps one id namespace for the whole log', () => {
  // Its ids name admin changes (`principal/<id>/v<n>`): two admins recording the same change
  // must collide, and authentication finds a change's record by id alone (admin-audit.ts).
  it('the same id from two admins is a conflict, and the reader finds the first by id alone', async () => {
    await env.logRegistry.createLog('system');
    const change = (actor: string, note: string) =>
      event({
        id: 'principal/ci/v2',
        actor: { type: 'human', id: actor },
        action: 'principal.rotate',
        metadata: { note },
      });
    const first = await svc.appendToSystemLog({ submitter: 'admin-a', body: body([change('admin-a', 'a')]) });
    expect(
      await codeOf(svc.appendToSystemLog({ submitter: 'admin-b', body: body([change('admin-b', 'b')]) })),
    ).toBe('CONFLICT');
    const { SystemLogAuditReader } = await import('../../src/app/admin-audit.ts');
    const at = await new SystemLogAuditReader(env.store).find('principal/ci/v2');
    expect(at?.index).toBe(first.receipts[0]?.index);
  });
});
