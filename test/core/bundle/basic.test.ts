import { describe, expect, it } from 'vitest';
import { BundleError, verifyBundle, writeBundle } from '../../../src/core/bundle/index.ts';
import { consistencyProof, inclusionProof } from '../../../src/core/merkle/index.ts';
import {
  anchorsFor,
  checkpointNote,
  exportBundle,
  find,
  makeLog,
  members,
  text,
  trustFor,
} from './fixture.ts';

const at = (min: number) => new Date(Date.parse('2025-06-01T00:00:00.000Z') + min * 60_000).toISOString();

describe('bundle: round trips', () => {
  const log = makeLog(50);
  const trust = trustFor(log);

  it('a range in the middle, several checkpoints, several records chunks', async () => {
    const bundle = await exportBundle(log, {
      fromTime: at(10),
      toTime: at(30),
      checkpoints: [20, 45, 50],
      chunkBytes: 1500,
    });
    const paths = (await members(bundle)).map((m) => m.path);
    expect(paths.filter((p) => p.startsWith('records/')).length).toBeGreaterThan(3);
    const r = await verifyBundle(bundle, trust);
    expect(r).toMatchObject({
      ok: true,
      mode: 'range',
      range: { firstIndex: 10, lastIndex: 29 },
      records: { count: 20, firstReceivedAt: at(10), lastReceivedAt: at(29) },
      completeness: { proved: true, start: 'record', end: 'record' },
      checkpoint: { size: 50 },
      trustedBundleKeys: false,
      trustedBundleTsaRoots: false,
      warnings: [],
    });
    expect(r.checkpoints.map((c) => c.size)).toEqual([20, 45, 50]);
    expect(r.anchors.map((a) => a.tsa)).toEqual(['test-ecdsa', 'test-rsa']);
    expect(r.proved.join('\n')).toMatch(/complete: 20 record/);
  });

  it('a range from the start of the log', async () => {
    const r = await verifyBundle(await exportBundle(log, { fromTime: at(-5), toTime: at(7) }), trust);
    expect(r).toMatchObject({
      range: { firstIndex: 0, lastIndex: 6 },
      completeness: { start: 'log-start', end: 'record' },
    });
  });

  it('a range up to the end of the checkpoint (flagged: later records not covered)', async () => {
    const r = await verifyBundle(await exportBundle(log, { fromTime: at(40), toTime: at(90) }), trust);
    expect(r).toMatchObject({
      range: { firstIndex: 40, lastIndex: 49 },
      completeness: { proved: false, start: 'record', end: 'checkpoint-end' },
    });
    expect(r.warnings.join('\n')).toMatch(/not covered/);
  });

  it('an empty range is proved empty by its two neighbours', async () => {
    const r = await verifyBundle(await exportBundle(log, { fromTime: at(10.2), toTime: at(10.8) }), trust);
    expect(r).toMatchObject({ range: { firstIndex: 11, lastIndex: 10 }, records: { count: 0 } });
  });

  it('the whole log', async () => {
    const r = await verifyBundle(await exportBundle(log, { fromTime: at(-1), toTime: at(100) }), trust);
    expect(r).toMatchObject({ range: { firstIndex: 0, lastIndex: 49 }, records: { count: 50 } });
  });

  it('a filtered export proves inclusion only, and says so', async () => {
    const b = await exportBundle(log, {
      fromTime: at(0),
      toTime: at(40),
      filter: { actionPrefix: 'access.' },
      chunkBytes: 1000,
    });
    const r = await verifyBundle(b, trust);
    expect(r).toMatchObject({ mode: 'filtered', completeness: { proved: false }, records: { count: 14 } });
    expect(r.warnings.join('\n')).toMatch(/NOT that every record/);
  });

  it('a filter by actor (alone, and AND-ed with an action prefix) round-trips and verifies', async () => {
    // Actors are agent-(i % 7): agent-3 holds 3, 10, 17, 24, 31, 38; access.* is i % 3 === 0.
    for (const [filter, indexes] of [
      [{ actorId: 'agent-3' }, [3, 10, 17, 24, 31, 38]],
      [{ actionPrefix: 'access.', actorId: 'agent-3' }, [3, 24]],
    ] as const) {
      const b = await exportBundle(log, { fromTime: at(0), toTime: at(40), filter, chunkBytes: 1000 });
      const r = await verifyBundle(b, trust);
      expect(r).toMatchObject({ mode: 'filtered', filter, completeness: { proved: false } });
      expect(r.records.count).toBe(indexes.length);
      expect(r.filterText).toContain('actor "agent-3"');
      expect(r.proved.join('\n')).toContain('actor "agent-3"');
      const h = JSON.parse(text(find(await members(b), 'header.json'))) as {
        filter: unknown;
        version: number;
      };
      expect(h).toMatchObject({ version: 2, filter });
    }
  });
});

describe('bundle writer: refuses inconsistent input', () => {
  const log = makeLog(20);
  async function write(over: Record<string, unknown>) {
    const note = await checkpointNote(log, 20);
    const input = {
      logId: log.logId,
      origin: log.origin,
      createdAt: '2026-01-01T00:00:00.000Z',
      range: { fromTime: at(5), toTime: at(10), firstIndex: 5, lastIndex: 9 },
      logKeySpki: log.signer.publicKeySpki,
      checkpoints: [note],
      anchors: [],
      records: log.records.slice(5, 10),
      before: log.records[4],
      after: log.records[10],
      getInclusionProof: async (i: number, s: number) => inclusionProof(log.leaves, i, s),
      getConsistencyProof: async (a: number, b: number) => consistencyProof(log.leaves, a, b),
      ...over,
    };
    try {
      for await (const _ of writeBundle(input)) {
        // drain
      }
    } catch (e) {
      return e;
    }
    return undefined;
  }
  it.each([
    ['a gap in the records', { records: [...log.records.slice(5, 7), ...log.records.slice(8, 10)] }],
    ['records out of order', { records: [log.records[6], log.records[5], ...log.records.slice(7, 10)] }],
    ['too few records', { records: log.records.slice(5, 9) }],
    [
      'a record outside the time range',
      { range: { fromTime: at(5), toTime: at(9), firstIndex: 5, lastIndex: 9 } },
    ],
    [
      'a before-neighbour inside the range',
      { range: { fromTime: at(4), toTime: at(10), firstIndex: 5, lastIndex: 9 } },
    ],
    ['no before-neighbour', { before: null }],
    [
      'a checkpoint older than the records',
      { range: { fromTime: at(5), toTime: at(30), firstIndex: 5, lastIndex: 20 } },
    ],
  ])('%s', async (_n, over) => {
    const e = await write(over);
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).code).toBe('INVALID_INPUT');
  });
  it('accepts the consistent input (control)', async () => {
    expect(await write({ anchors: await anchorsFor(await checkpointNote(log, 20), 20) })).toBeUndefined();
  });
});
