/**
 * The RoleStore contract (src/ports/role-store.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/role.ts';
import {
  type PendingRoleChange,
  type RoleStore,
  RoleStoreError,
  type RoleVersion,
} from '../../src/ports/role-store.ts';
import { uniqueId } from './support.ts';

/** A valid role (validateRoleInput accepts its content). */
export function roleDoc(
  id: string,
  version = 1,
  over: Partial<Omit<Role, 'scopes'>> & { scopes?: Record<string, string[]> } = {},
): Role {
  return {
    id,
    version,
    description: `role ${id} — version ${version} ✓`,
    purpose: 'writes the billing agent’s tool-call events',
    scopes: { 'tenant-a': ['events:write', 'events:read'] },
    ...over,
  } as Role;
}

export function pendingChange(role: Role): PendingRoleChange {
  return {
    role,
    audit: {
      id: `role/${role.id}/v${role.version}`,
      action: 'role.update',
      changes: { before: {}, after: role },
    },
  };
}

export function committed(role: Role, index = 1): RoleVersion {
  return {
    role,
    change: {
      action: role.version === 1 ? 'role.create' : 'role.update',
      by: 'admin-1',
      at: '2026-03-01T12:00:00.000Z',
      eventId: `role/${role.id}/v${role.version}`,
      recorded: { seq: index + 1, index },
    },
  };
}

async function expectStoreError(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RoleStoreError);
  expect((err as RoleStoreError).code).toBe(code);
}

export interface RoleStoreUnderTest {
  readonly store: RoleStore;
  /** A store of its own with no roles yet (listing is over the whole store). */
  readonly empty: () => Promise<RoleStore>;
}

export function roleStoreContract(name: string, make: () => Promise<RoleStoreUnderTest>): void {
  describe(`RoleStore contract: ${name}`, () => {
    let store: RoleStore;
    let empty: () => Promise<RoleStore>;
    beforeAll(async () => {
      ({ store, empty } = await make());
    });

    /** Stage and promote version `n` of `id` (the committed version must be n − 1). */
    async function commit(id: string, n: number, over: Record<string, unknown> = {}): Promise<RoleVersion> {
      const doc = roleDoc(id, n, over);
      await store.stage(pendingChange(doc));
      const v = committed(doc, n);
      await store.promote(v);
      return v;
    }

    it('stage → promote: a staged creation has no current version until promoted', async () => {
      const id = uniqueId('role-a');
      expect(await store.get(id)).toBeUndefined();
      const doc = roleDoc(id);
      await store.stage(pendingChange(doc));
      expect(await store.get(id)).toEqual({ roleId: id, pending: pendingChange(doc) });
      expect(await store.getVersion(id, 1)).toBeUndefined();
      await store.promote(committed(doc));
      expect(await store.get(id)).toEqual({ roleId: id, current: committed(doc) });
      expect(await store.getVersion(id, 1)).toEqual(committed(doc));
    });

    it('round-trips roles exactly (unicode, patterns, every scope target kind)', async () => {
      const id = uniqueId('role-full');
      const over = {
        description: 'line one — “quoted” 🚨 and a long tail '.repeat(8).trim(),
        scopes: { '*': ['events:read'], 'tenant-*': ['events:write', 'export'], system: ['admin'] },
      };
      const v = await commit(id, 1, over);
      expect(await store.getVersion(id, 1)).toEqual(v);
      expect((await store.get(id))?.current?.role).toEqual(roleDoc(id, 1, over));
    });

    it('a change is staged on top of the committed version, keeping it in effect', async () => {
      const id = uniqueId('role-b');
      const v1 = await commit(id, 1);
      const doc2 = roleDoc(id, 2, { purpose: 'changed purpose' });
      await store.stage(pendingChange(doc2));
      expect(await store.get(id)).toEqual({ roleId: id, current: v1, pending: pendingChange(doc2) });
      await store.promote(committed(doc2, 2));
      expect(await store.get(id)).toEqual({ roleId: id, current: committed(doc2, 2) });
      expect(await store.getVersion(id, 1)).toEqual(v1);
    });

    it('stage is conditional on version = committed + 1 with nothing staged → CONFLICT, writing nothing', async () => {
      const id = uniqueId('role-c');
      await expectStoreError(store.stage(pendingChange(roleDoc(id, 2))), 'CONFLICT');
      expect(await store.get(id)).toBeUndefined();
      const v1 = await commit(id, 1);
      // A second creation, a stale writer (version 1 again) and a skipped version.
      await expectStoreError(
        store.stage(pendingChange(roleDoc(id, 1, { description: 'other' }))),
        'CONFLICT',
      );
      await expectStoreError(store.stage(pendingChange(roleDoc(id, 3))), 'CONFLICT');
      expect(await store.get(id)).toEqual({ roleId: id, current: v1 });
      // Two editors who both read version 1: the first stages, the second loses.
      await store.stage(pendingChange(roleDoc(id, 2, { description: 'editor A' })));
      await expectStoreError(
        store.stage(pendingChange(roleDoc(id, 2, { description: 'editor B' }))),
        'CONFLICT',
      );
      expect((await store.get(id))?.pending?.role.description).toBe('editor A');
    });

    it('promote is conditional on the version being the staged one → CONFLICT, head unchanged', async () => {
      const id = uniqueId('role-d');
      const doc1 = roleDoc(id);
      await expectStoreError(store.promote(committed(doc1)), 'CONFLICT');
      expect(await store.get(id)).toBeUndefined();
      await store.stage(pendingChange(doc1));
      await expectStoreError(store.promote(committed(roleDoc(id, 2))), 'CONFLICT');
      await store.promote(committed(doc1));
      // A second promotion of the same version (a concurrent roll-forward that lost).
      await expectStoreError(store.promote(committed(doc1, 9)), 'CONFLICT');
      expect(await store.get(id)).toEqual({ roleId: id, current: committed(doc1) });
    });

    it('keeps every version; history is newest first, a page at a time', async () => {
      const id = uniqueId('role-e');
      const all: RoleVersion[] = [];
      for (let n = 1; n <= 7; n++) all.push(await commit(id, n, { description: `description ${n}` }));
      const newestFirst = [...all].reverse();
      for (const limit of [1, 3, 7, 100]) {
        const seen: RoleVersion[] = [];
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
      for (const v of all) expect(await store.getVersion(id, v.role.version)).toEqual(v);
      expect(await store.getVersion(id, 8)).toBeUndefined();
      expect(await store.history(uniqueId('never'), { limit: 10 })).toEqual({ versions: [] });
    });

    it('lists every head in id order, staged creations included, a page at a time', async () => {
      const fresh = await empty();
      expect(await fresh.list({ limit: 10 })).toEqual({ heads: [] });
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const id of [...ids].reverse()) {
        const doc = roleDoc(id);
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
          seen.push(...page.heads.map((h) => h.roleId));
          cursor = page.cursor;
          pages++;
        } while (cursor && pages < 10);
        expect(seen).toEqual(ids);
      }
      const { heads } = await fresh.list({ limit: 100 });
      expect(heads[0]).toEqual({ roleId: 'list-0', current: committed(roleDoc('list-0')) });
      expect(heads[3]).toEqual({ roleId: 'list-3', pending: pendingChange(roleDoc('list-3')) });
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
      const id = uniqueId('role-copy');
      const doc = JSON.parse(JSON.stringify(roleDoc(id))) as Role & { description: string };
      const change = pendingChange(doc);
      await store.stage(change);
      doc.description = 'changed after stage';
      (change.audit as { id: string }).id = 'changed';
      const head = await store.get(id);
      expect(head?.pending?.role.description).toBe(roleDoc(id).description);
      expect(head?.pending?.audit.id).toBe(`role/${id}/v1`);
      const back = head?.pending?.role as { description: string };
      back.description = 'changed after get';
      expect((await store.get(id))?.pending?.role.description).toBe(roleDoc(id).description);
    });
  });
}
