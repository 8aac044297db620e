/**
 * The RuleStore contract (src/ports/rule-store.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRuleDocument, type RuleDocument } from '../../src/core/detect/rule.ts';
import {
  type PendingRuleChange,
  type RuleStore,
  RuleStoreError,
  type RuleVersion,
} from '../../src/ports/rule-store.ts';
import { uniqueId } from './support.ts';

/** A valid rule document (parseRuleDocument accepts it). */
export function ruleDocument(id: string, version = 1, over: Record<string, unknown> = {}): RuleDocument {
  return parseRuleDocument({
    schema: 'anchorlog.rule/v1',
    id,
    version,
    title: `rule ${id} — version ${version} ✓`,
    severity: 'high',
    owner: 'secops',
    runbook: 'https://runbooks.example/rules',
    match: "event.action == 'data.export'",
    kind: 'threshold',
    threshold: {
      aggregate: 'count',
      groupBy: 'event.actor.id',
      window: '1h',
      windowType: 'sliding',
      op: '>',
      value: 10,
    },
    labels: { pack: 'ai-platform' },
    suppress: [
      { from: '2026-04-01T22:00:00.000Z', to: '2026-04-02T02:00:00.000Z', reason: 'CHG-1 «migration»' },
    ],
    ...over,
  });
}

export function pendingChange(doc: RuleDocument): PendingRuleChange {
  return {
    document: doc,
    audit: {
      id: `rule/${doc.id}/v${doc.version}`,
      action: 'rule.update',
      changes: { before: {}, after: doc },
    },
  };
}

export function committed(doc: RuleDocument, index = 1): RuleVersion {
  return {
    document: doc,
    change: {
      action: doc.version === 1 ? 'rule.create' : 'rule.update',
      by: 'admin-1',
      at: '2026-03-01T12:00:00.000Z',
      eventId: `rule/${doc.id}/v${doc.version}`,
      recorded: { seq: index + 1, index },
    },
  };
}

async function expectStoreError(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RuleStoreError);
  expect((err as RuleStoreError).code).toBe(code);
}

export interface RuleStoreUnderTest {
  readonly store: RuleStore;
  /** A store of its own with no rules yet (listing is over the whole store). */
  readonly empty: () => Promise<RuleStore>;
}

export function ruleStoreContract(name: string, make: () => Promise<RuleStoreUnderTest>): void {
  describe(`RuleStore contract: ${name}`, () => {
    let store: RuleStore;
    let empty: () => Promise<RuleStore>;
    beforeAll(async () => {
      ({ store, empty } = await make());
    });

    /** Stage and promote version `n` of `id` (the committed version must be n − 1). */
    async function commit(id: string, n: number, over: Record<string, unknown> = {}): Promise<RuleVersion> {
      const doc = ruleDocument(id, n, over);
      await store.stage(pendingChange(doc));
      const v = committed(doc, n);
      await store.promote(v);
      return v;
    }

    it('stage → promote: a staged creation has no current version until promoted', async () => {
      const id = uniqueId('rule-a');
      expect(await store.get(id)).toBeUndefined();
      const doc = ruleDocument(id);
      await store.stage(pendingChange(doc));
      expect(await store.get(id)).toEqual({ ruleId: id, pending: pendingChange(doc) });
      expect(await store.getVersion(id, 1)).toBeUndefined();
      await store.promote(committed(doc));
      expect(await store.get(id)).toEqual({ ruleId: id, current: committed(doc) });
      expect(await store.getVersion(id, 1)).toEqual(committed(doc));
    });

    it('round-trips documents exactly (unicode, nested blocks, every optional field)', async () => {
      const id = uniqueId('rule-full');
      const over = {
        description: 'line one\nline two\t— “quoted” 🚨',
        destinations: ['secops-pager', 'slack-alerts'],
        dedup: { window: '6h', key: 'event.actor.id' },
        enabled: false,
        logs: ['prod', 'system'],
      };
      const v = await commit(id, 1, over);
      expect(await store.getVersion(id, 1)).toEqual(v);
      expect((await store.get(id))?.current?.document).toEqual(ruleDocument(id, 1, over));
    });

    it('a change is staged on top of the committed version, keeping it in effect', async () => {
      const id = uniqueId('rule-b');
      const v1 = await commit(id, 1);
      const doc2 = ruleDocument(id, 2, { severity: 'critical' });
      await store.stage(pendingChange(doc2));
      expect(await store.get(id)).toEqual({ ruleId: id, current: v1, pending: pendingChange(doc2) });
      await store.promote(committed(doc2, 2));
      expect(await store.get(id)).toEqual({ ruleId: id, current: committed(doc2, 2) });
      expect(await store.getVersion(id, 1)).toEqual(v1);
    });

    it('stage is conditional on version = committed + 1 with nothing staged → CONFLICT, writing nothing', async () => {
      const id = uniqueId('rule-c');
      await expectStoreError(store.stage(pendingChange(ruleDocument(id, 2))), 'CONFLICT');
      expect(await store.get(id)).toBeUndefined();
      const v1 = await commit(id, 1);
      // A second creation, a stale writer (version 1 again) and a skipped version.
      await expectStoreError(store.stage(pendingChange(ruleDocument(id, 1, { title: 'other' }))), 'CONFLICT');
      await expectStoreError(store.stage(pendingChange(ruleDocument(id, 3))), 'CONFLICT');
      expect(await store.get(id)).toEqual({ ruleId: id, current: v1 });
      // Two editors who both read version 1: the first stages, the second loses.
      await store.stage(pendingChange(ruleDocument(id, 2, { title: 'editor A' })));
      await expectStoreError(
        store.stage(pendingChange(ruleDocument(id, 2, { title: 'editor B' }))),
        'CONFLICT',
      );
      expect((await store.get(id))?.pending?.document.title).toBe('editor A');
    });

    it('promote is conditional on the version being the staged one → CONFLICT, head unchanged', async () => {
      const id = uniqueId('rule-d');
      const doc1 = ruleDocument(id);
      await expectStoreError(store.promote(committed(doc1)), 'CONFLICT');
      expect(await store.get(id)).toBeUndefined();
      await store.stage(pendingChange(doc1));
      await expectStoreError(store.promote(committed(ruleDocument(id, 2))), 'CONFLICT');
      await store.promote(committed(doc1));
      // A second promotion of the same version (a concurrent roll-forward that lost).
      await expectStoreError(store.promote(committed(doc1, 9)), 'CONFLICT');
      expect(await store.get(id)).toEqual({ ruleId: id, current: committed(doc1) });
    });

    it('keeps every version; history is newest first, a page at a time', async () => {
      const id = uniqueId('rule-e');
      const all: RuleVersion[] = [];
      for (let n = 1; n <= 7; n++) all.push(await commit(id, n, { title: `title ${n}` }));
      const newestFirst = [...all].reverse();
      for (const limit of [1, 3, 7, 100]) {
        const seen: RuleVersion[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.history(id, { limit, ...(cursor ? { cursor } : {}) });
          expect(page.versions.length).toBeLessThanOrEqual(limit);
          seen.push(...page.versions);
          cursor = page.cursor;
          pages++;
        } while (cursor && pages < 20);
        expect(seen).toEqual(newestFirst);
      }
      for (const v of all) expect(await store.getVersion(id, v.document.version)).toEqual(v);
      expect(await store.getVersion(id, 8)).toBeUndefined();
      expect(await store.history(uniqueId('never'), { limit: 10 })).toEqual({ versions: [] });
    });

    it('lists every head in id order, staged creations included, a page at a time', async () => {
      const fresh = await empty();
      expect(await fresh.list({ limit: 10 })).toEqual({ heads: [] });
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const id of [...ids].reverse()) {
        const doc = ruleDocument(id);
        await fresh.stage(pendingChange(doc));
        if (id !== 'list-3') await fresh.promote(committed(doc));
      }
      for (const limit of [3, 7, 100]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await fresh.list({ limit, ...(cursor ? { cursor } : {}) });
          expect(page.heads.length).toBeLessThanOrEqual(limit);
          seen.push(...page.heads.map((h) => h.ruleId));
          cursor = page.cursor;
          pages++;
        } while (cursor && pages < 10);
        expect(seen).toEqual(ids);
      }
      const { heads } = await fresh.list({ limit: 100 });
      expect(heads[0]).toEqual({ ruleId: 'list-0', current: committed(ruleDocument('list-0')) });
      expect(heads[3]).toEqual({ ruleId: 'list-3', pending: pendingChange(ruleDocument('list-3')) });
    });

    it('rejects cursors it did not issue and limits out of 1–100', async () => {
      await expectStoreError(store.list({ limit: 10, cursor: 'not a cursor!' }), 'INVALID_CURSOR');
      await expectStoreError(store.list({ limit: 10, cursor: 'QUJD' }), 'INVALID_CURSOR'); // "ABC": not an id
      await expectStoreError(store.history('r', { limit: 10, cursor: 'not a cursor!' }), 'INVALID_CURSOR');
      await expectStoreError(store.history('r', { limit: 10, cursor: 'djA' }), 'INVALID_CURSOR'); // "v0"
      for (const limit of [0, 101, 1.5]) {
        await expect(store.list({ limit })).rejects.toBeInstanceOf(RangeError);
        await expect(store.history('r', { limit })).rejects.toBeInstanceOf(RangeError);
      }
    });

    it('stores copies', async () => {
      const id = uniqueId('rule-copy');
      const doc = JSON.parse(JSON.stringify(ruleDocument(id))) as RuleDocument & { title: string };
      const change = pendingChange(doc);
      await store.stage(change);
      doc.title = 'changed after stage';
      (change.audit as { id: string }).id = 'changed';
      const head = await store.get(id);
      expect(head?.pending?.document.title).toBe(ruleDocument(id).title);
      expect(head?.pending?.audit.id).toBe(`rule/${id}/v1`);
      const back = head?.pending?.document as { title: string };
      back.title = 'changed after get';
      expect((await store.get(id))?.pending?.document.title).toBe(ruleDocument(id).title);
    });
  });
}
