// Ingest with the event catalog (docs/events.md §Modes): enforce refuses the batch naming the
// event and field, nothing stored; warn stores it, flags the receipts (also on a replay) and
// counts the problems; off checks nothing; the `system` log is never checked.
import { describe, expect, it } from 'vitest';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { StaticCatalogPolicy } from '../../src/app/catalog.ts';
import { AppError } from '../../src/app/errors.ts';
import { type CatalogMode, IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { STARTER_CATALOG_DOCUMENTS } from '../../src/compose/starter-catalog.ts';
import { Catalog } from '../../src/core/catalog.ts';
import { body, readAll, testClock } from './ingest-support.ts';

const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);

async function setup(mode: CatalogMode) {
  const store = new MemoryLogStore();
  const clock = testClock();
  const metrics = new MemoryMetricsSink();
  await new LogRegistry({ store, clock }).createLog('l');
  const svc = new IngestService({
    store,
    clock,
    sleep: (ms) => clock.sleep(ms),
    catalog: new StaticCatalogPolicy(catalog, 'off', new Map([['l', mode]])),
    metrics,
  });
  return { store, svc, metrics };
}

const good = (extra: Record<string, unknown> = {}) => ({
  ...(catalog.entry('tool.call')?.examples[0] as Record<string, unknown>),
  ...extra,
});
const bad = () => good({ metadata: { tool: 'x', server: 's', argumentsDigest: 'nope', resultStatus: 'ok' } });

describe('catalog mode enforce', () => {
  it('refuses the batch with 400 naming the event index and field, and stores nothing', async () => {
    const { store, svc } = await setup('enforce');
    const err = await svc
      .append({ logId: 'l', submitter: 's', body: body([good(), good(), bad()]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_REQUEST');
    expect((err as AppError).path).toMatch(/^\/events\/2\/metadata\/(argumentsDigest|durationMs)$/);
    expect((err as AppError).message).toContain('event 2');
    expect(await readAll(store, 'l')).toEqual([]);
  });

  it('refuses an unknown action at /events/i/action, and accepts a valid batch', async () => {
    const { svc } = await setup('enforce');
    const err = await svc
      .append({ logId: 'l', submitter: 's', body: body([good({ action: 'made.up' })]) })
      .catch((e: unknown) => e as AppError);
    expect((err as AppError).path).toBe('/events/0/action');
    const ok = await svc.append({ logId: 'l', submitter: 's', body: body([good(), good()]) });
    expect(ok.status).toBe(201);
    expect(ok.receipts.every((r) => r.problems === undefined)).toBe(true);
  });
});

describe('catalog mode warn', () => {
  it('stores the batch, flags the bad events in their receipts and counts the problems', async () => {
    const { store, svc, metrics } = await setup('warn');
    const r = await svc.append({
      logId: 'l',
      submitter: 's',
      idempotencyKey: 'k1',
      body: body([good(), bad(), good({ action: 'made.up' })]),
    });
    expect(r.status).toBe(201);
    expect(r.receipts[0]?.problems).toBeUndefined();
    expect(r.receipts[1]?.problems?.map((p) => p.path).sort()).toEqual([
      '/events/1/metadata/argumentsDigest',
      '/events/1/metadata/durationMs',
    ]);
    expect(r.receipts[2]?.problems).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACTION' })]);
    expect((await readAll(store, 'l')).flatMap((b) => b.records)).toHaveLength(3);
    expect(metrics.total('CatalogProblems', { LogId: 'l' })).toBe(3);
    expect(metrics.total('CatalogEventsFlagged', { LogId: 'l' })).toBe(2);
    // A retry gets the same flags with the original receipts.
    const again = await svc.append({
      logId: 'l',
      submitter: 's',
      idempotencyKey: 'k1',
      body: body([good(), bad(), good({ action: 'made.up' })]),
    });
    expect(again.replay).toBe(true);
    expect(again.receipts).toEqual(r.receipts);
  });
});

describe('catalog mode off', () => {
  it('checks nothing beyond Event v1', async () => {
    const { svc, metrics } = await setup('off');
    const r = await svc.append({
      logId: 'l',
      submitter: 's',
      body: body([bad(), good({ action: 'made.up' })]),
    });
    expect(r.receipts.every((x) => x.problems === undefined)).toBe(true);
    expect(metrics.emissions).toEqual([]);
  });

  it('the system log is never checked, whatever the mode', async () => {
    const store = new MemoryLogStore();
    const clock = testClock();
    await new LogRegistry({ store, clock }).createLog('system');
    const svc = new IngestService({
      store,
      clock,
      catalog: new StaticCatalogPolicy(catalog, 'enforce'),
    });
    const r = await svc.appendToSystemLog({
      submitter: 'admin',
      body: body([good({ action: 'rule.create' })]),
    });
    expect(r.status).toBe(201);
  });
});
