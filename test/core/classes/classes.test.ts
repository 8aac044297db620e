/**
 * Event classes (src/core/classes): definitions, leaves, checkpoint lines, the
 * sealer's plan, class answers proved and verified, and the monitor.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../src/core/bytes.ts';
import {
  type ClassAnswer,
  ClassError,
  type ClassErrorCode,
  ClassMonitor,
  checkClassDefinition,
  classCommitments,
  classLeafHash,
  classLeavesOf,
  classMatches,
  DEFAULT_AI_CLASSES,
  decodeClassLeaf,
  encodeClassLeaf,
  encodeClassLeaves,
  formatClassLine,
  parseClassLine,
  planClasses,
  proveClassAnswer,
  verifyClassAnswer,
} from '../../../src/core/classes/index.ts';
import { emptyRoot, rootOf } from '../../../src/core/merkle/index.ts';
import { formatCheckpoint, parseCheckpoint } from '../../../src/core/note/checkpoint.ts';
import {
  decodeRecord,
  encodeRecord,
  formatReceivedAt,
  type LogRecord,
  leafHash,
  ZERO_HASH_B64,
} from '../../../src/core/record.ts';
import { MINUTE, makeLog, T0, type TestLog } from '../bundle/fixture.ts';
import { classLog, reader } from './helpers.ts';

const ACCESS = { name: 'access', version: 1, action: 'access.*' } as const;
const ACTIONS = ['access.grant', 'access.revoke', 'tool.call', 'config.set', 'accessory.buy'];

function expectClassError(fn: () => unknown, code: ClassErrorCode) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClassError);
    expect((e as ClassError).code).toBe(code);
    return;
  }
  expect.fail(`expected ClassError ${code}`);
}

const at = (minutes: number) => formatReceivedAt(T0 + minutes * MINUTE);

describe('class definitions', () => {
  it('a prefix pattern matches by dotted prefix only; an exact action only itself', () => {
    const ev = (action: string) => ({ action, actor: { type: 'human' as const, id: 'u' } });
    expect(classMatches(ACCESS, ev('access.grant'))).toBe(true);
    expect(classMatches(ACCESS, ev('access.role.grant'))).toBe(true);
    expect(classMatches(ACCESS, ev('accessory.buy'))).toBe(false);
    expect(classMatches(ACCESS, ev('access'))).toBe(false);
    const exp = { name: 'data-export', version: 1, action: 'data.export' };
    expect(classMatches(exp, ev('data.export'))).toBe(true);
    expect(classMatches(exp, ev('data.export.bulk'))).toBe(false);
  });

  it('actor and target type narrow the class', () => {
    const d = { name: 'x', version: 1, action: 'tool.*', actorType: 'agent', targetType: 'dataset' } as const;
    const target = { type: 'dataset', id: 't' };
    expect(classMatches(d, { action: 'tool.call', actor: { type: 'agent', id: 'a' }, target })).toBe(true);
    expect(classMatches(d, { action: 'tool.call', actor: { type: 'human', id: 'a' }, target })).toBe(false);
    expect(classMatches(d, { action: 'tool.call', actor: { type: 'agent', id: 'a' } })).toBe(false);
  });

  it('refuses malformed definitions', () => {
    for (const bad of [
      { name: 'Access', version: 1, action: 'access.*' },
      { name: 'a', version: 0, action: 'access.*' },
      { name: 'a', version: 1, action: 'access*' },
      { name: 'a', version: 1, action: '*' },
      { name: 'a', version: 1, action: 'a.b', targetType: 'has space' },
      { name: 'a', version: 1, action: 'a.b', actorType: 'robot' },
    ])
      expectClassError(() => checkClassDefinition(bad as never), 'INVALID_CLASS');
  });

  it('the default AI-platform set is valid', () => {
    expect(planClasses([], DEFAULT_AI_CLASSES, 0).map((c) => c.def.name)).toEqual([
      'access',
      'admin',
      'agent-tools',
      'config',
      'data-export',
    ]);
  });
});

describe('class leaves and lines', () => {
  it('a leaf is 40 bytes and round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (index, h) => {
          const bytes = encodeClassLeaf({ index, leafHash: h });
          expect(bytes.length).toBe(40);
          const back = decodeClassLeaf(bytes);
          expect(back.index).toBe(index);
          expect(back.leafHash).toEqual(h);
        },
      ),
    );
    expectClassError(() => decodeClassLeaf(new Uint8Array(41)), 'CLASS_PROOF_INVALID');
    const huge = new Uint8Array(40).fill(255);
    expectClassError(() => decodeClassLeaf(huge), 'CLASS_PROOF_INVALID');
  });

  it('encodeClassLeaves gives the bytes of encodeClassLeaf per leaf (uint64 big-endian index, checked by BigInt)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            index: fc.oneof(
              fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
              fc.integer({ min: 0, max: 2 ** 32 + 5 }),
            ),
            leafHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          }),
          { maxLength: 20 },
        ),
        (leaves) => {
          const all = encodeClassLeaves(leaves);
          expect(all.length).toBe(leaves.length);
          leaves.forEach((leaf, i) => {
            const one = all[i] as Uint8Array;
            expect(one).toEqual(encodeClassLeaf(leaf));
            const want = new Uint8Array(8);
            new DataView(want.buffer).setBigUint64(0, BigInt(leaf.index));
            expect(one.subarray(0, 8)).toEqual(want);
            expect(one.subarray(8)).toEqual(leaf.leafHash);
          });
        },
      ),
    );
    const h = new Uint8Array(32);
    expectClassError(() => encodeClassLeaves([{ index: -1, leafHash: h }]), 'CLASS_PROOF_INVALID');
    expectClassError(() => encodeClassLeaves([{ index: 2 ** 53, leafHash: h }]), 'CLASS_PROOF_INVALID');
    expectClassError(
      () => encodeClassLeaves([{ index: 1, leafHash: new Uint8Array(31) }]),
      'CLASS_PROOF_INVALID',
    );
  });

  it('a class line round-trips and only its canonical form parses', () => {
    const def = fc.record(
      {
        name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,31}$/),
        version: fc.integer({ min: 1, max: 999_999 }),
        action: fc.constantFrom('access.*', 'data.export', 'a.b.*'),
        actorType: fc.constantFrom('human', 'agent', 'service', 'system'),
        targetType: fc.stringMatching(/^[A-Za-z0-9._:/-]{1,20}$/),
      },
      { requiredKeys: ['name', 'version', 'action'] },
    );
    fc.assert(
      fc.property(
        def,
        fc.nat(),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (d, fromSize, size, rootHash) => {
          const c = { def: d, fromSize, size, rootHash };
          const line = formatClassLine(c);
          expect(parseClassLine(line)).toEqual(c);
          expectClassError(
            () => parseClassLine(line.replace(` ${fromSize} `, ` 0${fromSize} `)),
            'MALFORMED_CLASS_LINE',
          );
          expectClassError(() => parseClassLine(`${line} x`), 'MALFORMED_CLASS_LINE');
        },
      ),
    );
  });

  it('class lines ride in the checkpoint as C2SP extension lines', () => {
    const c = { def: ACCESS, fromSize: 3, size: 2, rootHash: new Uint8Array(32).fill(7) };
    const text = formatCheckpoint({
      origin: 'anchorlog.test/t',
      size: 10,
      rootHash: new Uint8Array(32),
      extensions: [formatClassLine(c)],
    });
    const cp = parseCheckpoint(text);
    expect(cp.size).toBe(10);
    expect(classCommitments(cp.extensions, cp.size)).toEqual([c]);
    // Other extension lines are ignored; ours must be sorted and fit the tree.
    expect(classCommitments(['Timestamp: 1', formatClassLine(c)], 10)).toHaveLength(1);
    expectClassError(
      () => classCommitments([formatClassLine(c), formatClassLine(c)], 10),
      'MALFORMED_CLASS_LINE',
    );
    expectClassError(
      () => classCommitments([formatClassLine({ ...c, size: 8 })], 10),
      'MALFORMED_CLASS_LINE',
    );
  });
});

describe('the sealer plan', () => {
  const signed = { def: ACCESS, fromSize: 0, size: 4, rootHash: new Uint8Array(32).fill(1) };
  it('continues a signed class, declares a new one at the current size, retires a dropped one', () => {
    const plan = planClasses([signed], [ACCESS, { name: 'config', version: 1, action: 'config.*' }], 9);
    expect(plan[0]).toBe(signed);
    expect(plan[1]).toMatchObject({ fromSize: 9, size: 0, rootHash: emptyRoot() });
    expect(planClasses([signed], [], 9)).toEqual([]);
  });
  it('a higher version starts a new class log; the same version with another rule is a conflict', () => {
    expect(planClasses([signed], [{ ...ACCESS, version: 2, action: 'access.grant' }], 9)[0]).toMatchObject({
      fromSize: 9,
      size: 0,
    });
    expectClassError(
      () => planClasses([signed], [{ ...ACCESS, action: 'access.grant' }], 9),
      'CLASS_CONFLICT',
    );
    expectClassError(
      () => planClasses([{ ...signed, def: { ...ACCESS, version: 3 } }], [ACCESS], 9),
      'CLASS_CONFLICT',
    );
  });
  it('new leaves are the class records at or after the declaration, in index order', () => {
    const log = makeLog(12);
    const recs = log.records.map((b, i) => ({
      record: decodeRecord(b),
      leafHash: log.leaves[i] as Uint8Array,
    }));
    const [leaves] = classLeavesOf([{ def: ACCESS, fromSize: 4, size: 0, rootHash: emptyRoot() }], recs);
    expect(leaves?.map((l) => l.index)).toEqual([6, 9]);
  });

  it('property: the one-pass compiled matching gives each class exactly its records (reference rule)', () => {
    // The rule as docs/classes.md states it, written out independently of classMatcher.
    const inClass = (
      d: (typeof DEFAULT_AI_CLASSES)[number],
      e: { action: string; actor: { type: string } },
    ) =>
      (d.action.endsWith('.*') ? e.action.startsWith(d.action.slice(0, -1)) : e.action === d.action) &&
      (d.actorType === undefined || e.actor.type === d.actorType);
    const actions = [
      'access.grant',
      'accessory.buy',
      'admin.user.create',
      'tool.call',
      'data.export',
      'data.exports',
    ];
    const actors = ['human', 'agent', 'service'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.record({ a: fc.nat(actions.length - 1), t: fc.nat(actors.length - 1) }), {
          maxLength: 60,
        }),
        fc.array(fc.nat(60), { minLength: 5, maxLength: 5 }),
        (events, froms) => {
          const recs = events.map((e, i) => ({
            record: {
              index: i,
              event: {
                action: actions[e.a] as string,
                actor: { type: actors[e.t] as (typeof actors)[number], id: 'x' },
              },
            },
            leafHash: new Uint8Array(32).fill(i),
          }));
          const plan = DEFAULT_AI_CLASSES.map((def, k) => ({
            def,
            fromSize: froms[k] as number,
            size: 0,
            rootHash: emptyRoot(),
          }));
          const got = classLeavesOf(plan, recs);
          plan.forEach((c, k) => {
            const want = recs
              .filter((r) => r.record.index >= c.fromSize && inClass(c.def, r.record.event))
              .map((r) => r.record.index);
            expect(got[k]?.map((l) => l.index)).toEqual(want);
            for (const l of got[k] ?? []) expect(l.leafHash).toBe(recs[l.index]?.leafHash);
          });
        },
      ),
    );
  });
});

/** A log of these actions whose receivedAt steps by `steps` minutes (0: the same millisecond). */
function logOf(actions: readonly string[], steps: readonly number[]): TestLog {
  let t = 0;
  return makeLogTimed(
    actions,
    actions.map((_, i) => {
      t += steps[i] ?? 1;
      return t;
    }),
  );
}

function makeLogTimed(actions: readonly string[], minutes: readonly number[]): TestLog {
  const base = makeLog(0);
  let prev = ZERO_HASH_B64;
  actions.forEach((action, i) => {
    const receivedAt = at(minutes[i] as number);
    const rec: LogRecord = {
      v: 1,
      logId: base.logId,
      index: i,
      receivedAt,
      submitter: 'svc',
      prev,
      event: { occurredAt: receivedAt, actor: { type: 'human', id: 'u' }, action, outcome: 'success' },
    };
    const bytes = encodeRecord(rec);
    base.records.push(bytes);
    base.leaves.push(leafHash(bytes));
    base.receivedAt.push(receivedAt);
    prev = toBase64(leafHash(bytes));
  });
  return base;
}

async function answerFor(
  log: TestLog,
  fromSize: number,
  size: number,
  from: string,
  to: string,
): Promise<ClassAnswer> {
  const { commitment, leaves } = classLog(log, ACCESS, fromSize, size);
  return proveClassAnswer({
    commitment,
    treeSize: size,
    treeRoot: rootOf(log.leaves.slice(0, size)),
    leaves,
    fromTime: from,
    toTime: to,
    read: reader(log, size),
  });
}

const arbLog = fc
  .array(fc.tuple(fc.constantFrom(...ACTIONS), fc.constantFrom(0, 1, 1, 2)), { minLength: 1, maxLength: 40 })
  .map((xs) =>
    logOf(
      xs.map((x) => x[0]),
      xs.map((x) => x[1]),
    ),
  );

describe('class answers', () => {
  it('property: an honest answer verifies and is exactly the class records in [from, to)', async () => {
    await fc.assert(
      fc.asyncProperty(arbLog, fc.nat(90), fc.nat(90), fc.nat(), async (log, f, t, d) => {
        const n = log.records.length;
        const fromSize = d % (n + 1);
        const [from, to] = f <= t ? [at(f), at(t)] : [at(t), at(f)];
        const res = verifyClassAnswer(await answerFor(log, fromSize, n, from, to));
        const want = log.records
          .map((b) => decodeRecord(b))
          .filter(
            (r) =>
              r.index >= fromSize &&
              classMatches(ACCESS, r.event) &&
              from <= r.receivedAt &&
              r.receivedAt < to,
          )
          .map((r) => r.index);
        expect(res.records.map((r) => r.index)).toEqual(want);
        const lastAt = log.receivedAt[n - 1] as string;
        const declaredBefore = fromSize === 0 || (log.receivedAt[fromSize - 1] as string) < from;
        expect(res.complete).toBe(declaredBefore && lastAt >= to);
      }),
      { numRuns: 150 },
    );
  });

  it('property: dropping any carried entry is caught (omission by the exporter)', async () => {
    await fc.assert(
      fc.asyncProperty(arbLog, fc.nat(90), fc.nat(90), fc.nat(), async (log, f, t, k) => {
        const n = log.records.length;
        const [from, to] = f <= t ? [at(f), at(t)] : [at(t), at(f)];
        const a = await answerFor(log, 0, n, from, to);
        fc.pre(a.entries.length > 0);
        const i = k % a.entries.length;
        const dropped = { ...a, entries: a.entries.filter((_, j) => j !== i) };
        const renumbered = {
          ...dropped,
          entries: dropped.entries.map((e, j) => ({ ...e, position: (a.entries[0]?.position ?? 0) + j })),
          after: a.after && { ...a.after, position: a.after.position - 1 },
        };
        for (const bad of [dropped, renumbered]) {
          expect(() => verifyClassAnswer(bad)).toThrow(ClassError);
          try {
            verifyClassAnswer(bad);
          } catch (e) {
            expect(['CLASS_OMISSION', 'CLASS_PROOF_INVALID']).toContain((e as ClassError).code);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a record of another class smuggled in is refused', async () => {
    const log = logOf(
      ['access.grant', 'tool.call', 'access.revoke', 'config.set', 'access.grant'],
      [1, 1, 1, 1, 1],
    );
    const a = await answerFor(log, 0, 5, at(0), at(10));
    const smuggled = {
      ...a,
      entries: [
        ...a.entries.slice(0, 1),
        { position: 1, ...(await reader(log, 5)(1)) },
        ...a.entries.slice(1),
      ],
    };
    expectClassError(() => verifyClassAnswer(smuggled), 'CLASS_SMUGGLED');
    // Replacing a class record by another record keeps the count but not the class.
    const swapped = {
      ...a,
      entries: [
        a.entries[0],
        { position: 1, ...(await reader(log, 5)(3)) },
        a.entries[2],
      ] as ClassAnswer['entries'],
    };
    expectClassError(() => verifyClassAnswer(swapped), 'CLASS_SMUGGLED');
  });

  it('boundary records on both sides close the range; a boundary inside the range is an omission', async () => {
    const log = logOf(
      ['access.grant', 'access.grant', 'access.grant', 'access.grant', 'tool.call'],
      [1, 1, 1, 1, 1],
    );
    const a = await answerFor(log, 0, 5, at(2), at(4));
    expect(a.before?.position).toBe(0);
    expect(a.after?.position).toBe(3);
    expect(verifyClassAnswer(a)).toMatchObject({ complete: true, start: 'before-entry', end: 'after-entry' });
    // Claiming the answer is only record 2 (record 1 presented as "before" but it is inside).
    const late = { ...a, before: a.entries[0] ?? null, entries: a.entries.slice(1) };
    expectClassError(() => verifyClassAnswer(late), 'CLASS_OMISSION');
    const early = { ...a, after: a.entries[1] ?? null, entries: a.entries.slice(0, 1) };
    expectClassError(() => verifyClassAnswer(early), 'CLASS_OMISSION');
    expectClassError(() => verifyClassAnswer({ ...a, before: null }), 'CLASS_OMISSION');
  });

  it('an empty answer is proved empty', async () => {
    const log = logOf(
      ['access.grant', 'tool.call', 'tool.call', 'access.grant', 'tool.call'],
      [1, 1, 1, 1, 1],
    );
    const a = await answerFor(log, 0, 5, at(2), at(4));
    expect(a.entries).toHaveLength(0);
    expect(verifyClassAnswer(a)).toMatchObject({ complete: true, records: [] });
    // A class with no records at all: the class root is the empty root, proved by the end witness.
    const none = logOf(['tool.call', 'tool.call'], [1, 1]);
    expect(verifyClassAnswer(await answerFor(none, 0, 2, at(0), at(2)))).toMatchObject({
      complete: true,
      records: [],
    });
  });

  it('a class declared mid-log: complete after its declaration, not before', async () => {
    const log = logOf(
      ['access.grant', 'access.grant', 'tool.call', 'access.grant', 'access.grant', 'tool.call'],
      [1, 1, 1, 1, 1, 1],
    );
    // Declared at size 3 (record 3 is received at minute 4).
    expect(verifyClassAnswer(await answerFor(log, 3, 6, at(3.5), at(6)))).toMatchObject({
      complete: true,
      start: 'start-witness',
    });
    const early = verifyClassAnswer(await answerFor(log, 3, 6, at(0), at(6)));
    expect(early).toMatchObject({ complete: false, start: 'declared-in-range' });
    expect(early.records.map((r) => r.index)).toEqual([3, 4]);
  });

  it('a class line that does not match the entries fails the range proof', async () => {
    const log = logOf(['access.grant', 'tool.call', 'access.revoke'], [1, 1, 1]);
    const a = await answerFor(log, 0, 3, at(0), at(9));
    expectClassError(
      () => verifyClassAnswer({ ...a, commitment: { ...a.commitment, rootHash: new Uint8Array(32) } }),
      'CLASS_PROOF_INVALID',
    );
  });
});

describe('the class monitor', () => {
  const defs = [ACCESS, { name: 'config', version: 1, action: 'config.*' }];
  const commitmentsAt = (log: TestLog, size: number, skip?: number) =>
    defs.map((d) => {
      const { commitment, leaves } = classLog(log, d, 0, size);
      if (skip === undefined || d !== ACCESS) return commitment;
      const kept = leaves.filter((l) => l.index !== skip);
      return { ...commitment, size: kept.length, rootHash: rootOf(kept.map(classLeafHash)) };
    });

  it('property: an honest sealer passes incrementally; one skipped class record is the first divergence', () => {
    fc.assert(
      fc.property(arbLog, fc.array(fc.nat(), { maxLength: 4 }), fc.nat(), (log, cuts, s) => {
        const n = log.records.length;
        const sizes = [...new Set([...cuts.map((c) => c % (n + 1)), n])].sort((a, b) => a - b);
        let m = ClassMonitor.empty();
        for (const size of sizes) {
          const div = m.check(
            { size, rootHash: rootOf(log.leaves.slice(0, size)), classes: commitmentsAt(log, size) },
            log.records.slice(m.size, size),
          );
          expect(div).toBeUndefined();
          m = ClassMonitor.resume(m.state());
        }
        const accessAt = log.records.map((b) => decodeRecord(b)).filter((r) => classMatches(ACCESS, r.event));
        fc.pre(accessAt.length > 0);
        const skip = (accessAt[s % accessAt.length] as LogRecord).index;
        const fresh = ClassMonitor.empty();
        const div = fresh.check(
          { size: n, rootHash: rootOf(log.leaves), classes: commitmentsAt(log, n, skip) },
          log.records,
        );
        expect(div?.className).toBe('access');
      }),
      { numRuns: 100 },
    );
  });

  it('property: records fed in pieces give exactly what one check gives (state and first divergence)', () => {
    fc.assert(
      fc.property(arbLog, fc.array(fc.nat(), { maxLength: 5 }), fc.option(fc.nat()), (log, cuts, s) => {
        const n = log.records.length;
        const accessAt = log.records.map((b) => decodeRecord(b)).filter((r) => classMatches(ACCESS, r.event));
        const skip = s === null || accessAt.length === 0 ? undefined : accessAt[s % accessAt.length]?.index;
        const cp = { size: n, rootHash: rootOf(log.leaves), classes: commitmentsAt(log, n, skip) };
        const whole = ClassMonitor.empty();
        const expected = whole.check(cp, log.records);
        const pieces = ClassMonitor.empty();
        const run = pieces.begin(cp);
        let at = 0;
        for (const cut of [...cuts.map((c) => c % (n + 1)), n].sort((a, b) => a - b)) {
          run.feed(log.records.slice(at, Math.max(at, cut)));
          at = Math.max(at, cut);
        }
        expect(run.finish()).toEqual(expected);
        expect(pieces.size).toBe(whole.size);
        expect(pieces.state().classes.map((c) => c.range.root())).toEqual(
          whole.state().classes.map((c) => c.range.root()),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('a backdated declaration is a divergence', () => {
    const log = logOf(['access.grant', 'tool.call', 'access.grant', 'tool.call'], [1, 1, 1, 1]);
    const m = ClassMonitor.empty();
    expect(
      m.check({ size: 2, rootHash: rootOf(log.leaves.slice(0, 2)), classes: [] }, log.records.slice(0, 2)),
    ).toBeUndefined();
    const c = classLog(log, ACCESS, 1, 4).commitment;
    expect(
      m.check({ size: 4, rootHash: rootOf(log.leaves), classes: [c] }, log.records.slice(2))?.className,
    ).toBe('access');
  });

  it('records that do not give the signed root are a main-log divergence', () => {
    const log = logOf(['access.grant', 'tool.call'], [1, 1]);
    const div = ClassMonitor.empty().check(
      { size: 2, rootHash: new Uint8Array(32), classes: [] },
      log.records,
    );
    expect(div).toMatchObject({ className: undefined });
  });
});
