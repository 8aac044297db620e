/**
 * Tampering with a real bundle, one way at a time; each must fail with its
 * own stable code (class + code asserted, never message text). Where a naive
 * edit would only trip a member hash, the manifest and SHA256SUMS are fixed
 * up (`repack(…, { fix: true })`) so the deeper check is what fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { BundleError, type BundleErrorCode, type BundleTrust } from '../../../src/core/bundle/index.ts';
import { fromBase64, toBase64, utf8 } from '../../../src/core/bytes.ts';
import { canonicalBytes } from '../../../src/core/canonical.ts';
import { CompactRange, inclusionProof } from '../../../src/core/merkle/index.ts';
import { spkiToPem, vkeyFromSpki } from '../../../src/core/note/index.ts';
import { decodeRecord, leafHash } from '../../../src/core/record.ts';
// Every case on the reference path and on the fast paths, with identical verdicts required.
import { verifyBundle } from './all-paths.ts';
import {
  checkpointNote,
  exportBundle,
  find,
  json,
  lines,
  type Member,
  MINUTE,
  makeLog,
  members,
  repack,
  setJson,
  setLines,
  type TestLog,
  TSA_ROOTS,
  text,
  trustFor,
} from './fixture.ts';

const FROM = '2025-06-01T00:10:00.000Z';
const TO = '2025-06-01T00:30:00.000Z'; // indexes 10..29
const CHUNK = 'records/000000.jsonl';

let log: TestLog;
let other: TestLog;
let bundle: Uint8Array;
let otherBundle: Uint8Array;
let filtered: Uint8Array;
let trust: BundleTrust;

beforeAll(async () => {
  log = makeLog(60);
  other = makeLog(60, { logId: 'tenant-b' });
  bundle = await exportBundle(log, { fromTime: FROM, toTime: TO, checkpoints: [20, 45, 60] });
  otherBundle = await exportBundle(other, { fromTime: FROM, toTime: TO });
  filtered = await exportBundle(log, {
    fromTime: FROM,
    toTime: TO,
    filter: { actionPrefix: 'access.' },
    chunkBytes: 1200,
  });
  trust = trustFor(log);
});

async function rejection(b: Uint8Array, t: BundleTrust | undefined = trust): Promise<BundleError> {
  try {
    await verifyBundle(b, t);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    return e as BundleError;
  }
  throw new Error('bundle verified but should not have');
}

async function expectCode(
  b: Uint8Array,
  code: BundleErrorCode,
  index?: number,
  t?: BundleTrust,
): Promise<BundleError> {
  const e = await rejection(b, t ?? trust);
  expect(e.code, e.message).toBe(code);
  if (index !== undefined) expect(e.index, e.message).toBe(index);
  return e;
}

async function edit(
  fn: (ms: Member[]) => void | Promise<void>,
  opts: { fix?: boolean; manifest?: (m: Record<string, unknown>) => void } = { fix: true },
  src = bundle,
) {
  const ms = await members(src);
  await fn(ms);
  return repack(ms, opts);
}

/** Rewrites one record line through a JSON edit, keeping it canonical. */
function editRecord(ms: Member[], pos: number, f: (r: Record<string, unknown>) => void): void {
  const m = find(ms, CHUNK);
  const ls = lines(m);
  const r = JSON.parse(ls[pos] as string) as Record<string, unknown>;
  f(r);
  ls[pos] = new TextDecoder().decode(canonicalBytes(r));
  setLines(m, ls);
}

describe('bundle tampering: the valid bundles verify', () => {
  it('range and filtered', async () => {
    await expect(verifyBundle(bundle, trust)).resolves.toMatchObject({ ok: true, records: { count: 20 } });
    await expect(verifyBundle(filtered, trust)).resolves.toMatchObject({ ok: true, mode: 'filtered' });
  });
});

describe('bundle tampering: records', () => {
  it('1. an edited record breaks the chain at the next record', async () => {
    const b = await edit((ms) =>
      editRecord(ms, 5, (r) => {
        (r.event as { outcome: string }).outcome = 'failure';
      }),
    );
    await expectCode(b, 'CHAIN_BROKEN', 16);
  });
  it('2. an edited last record breaks the chain at the after-neighbour', async () => {
    const b = await edit((ms) =>
      editRecord(ms, 19, (r) => {
        (r.event as { outcome: string }).outcome = 'denied';
      }),
    );
    await expectCode(b, 'CHAIN_BROKEN', 30);
  });
  it('3. a record in non-canonical form is invalid', async () => {
    const b = await edit((ms) => {
      const m = find(ms, CHUNK);
      const ls = lines(m);
      ls[3] = (ls[3] as string).replace('{', '{ ');
      setLines(m, ls);
    });
    await expectCode(b, 'RECORD_INVALID', 13);
  });
  it('4. a deleted record leaves the range incomplete', async () => {
    const b = await edit(
      (ms) => {
        const m = find(ms, CHUNK);
        const ls = lines(m);
        ls.splice(7, 1);
        setLines(m, ls);
      },
      {
        fix: true,
        manifest: (man) => {
          (man.counts as { records: number }).records = 19;
        },
      },
    );
    await expectCode(b, 'RANGE_INCOMPLETE', 17);
  });
  it('5. an inserted record (forged, correctly chained) is caught', async () => {
    const b = await edit((ms) => {
      const m = find(ms, CHUNK);
      const ls = lines(m);
      const r = JSON.parse(ls[4] as string) as Record<string, unknown>;
      (r.event as { action: string }).action = 'config.update';
      ls.splice(4, 0, new TextDecoder().decode(canonicalBytes(r)));
      setLines(m, ls);
    });
    await expectCode(b, 'CHAIN_BROKEN', 14);
  });
  it('6. reordered records break the chain', async () => {
    const b = await edit((ms) => {
      const m = find(ms, CHUNK);
      const ls = lines(m);
      [ls[8], ls[9]] = [ls[9] as string, ls[8] as string];
      setLines(m, ls);
    });
    await expectCode(b, 'CHAIN_BROKEN', 18);
  });
  it('7. a duplicated record breaks the chain', async () => {
    const b = await edit((ms) => {
      const m = find(ms, CHUNK);
      const ls = lines(m);
      ls.splice(11, 0, ls[10] as string);
      setLines(m, ls);
    });
    await expectCode(b, 'CHAIN_BROKEN', 20);
  });
  it('8. truncated records (last ones dropped, counts fixed) leave the range incomplete', async () => {
    const b = await edit(
      (ms) => {
        const m = find(ms, CHUNK);
        setLines(m, lines(m).slice(0, 16));
      },
      {
        fix: true,
        manifest: (man) => {
          (man.counts as { records: number }).records = 16;
        },
      },
    );
    await expectCode(b, 'RANGE_INCOMPLETE', 26);
  });
  it('9. a record inside the range left out at the start, neighbour and proofs rebuilt to match', async () => {
    // The attacker drops record 10, claims the range starts at 11 and offers record 10 as the "before" neighbour.
    const b = await edit(
      (ms) => {
        const m = find(ms, CHUNK);
        setLines(m, lines(m).slice(1));
        const cr = CompactRange.of(log.leaves.slice(0, 11));
        const p = json(find(ms, 'proofs.json'));
        p.left = cr.hashes().map(toBase64);
        p.before = {
          index: 10,
          record: new TextDecoder().decode(log.records[10]),
          inclusion: inclusionProof(log.leaves, 10, 60).map(toBase64),
        };
        setJson(find(ms, 'proofs.json'), p);
        for (const path of ['header.json']) {
          const h = json(find(ms, path));
          (h.range as { firstIndex: number }).firstIndex = 11;
          setJson(find(ms, path), h);
        }
      },
      {
        fix: true,
        manifest: (man) => {
          (man.range as { firstIndex: number }).firstIndex = 11;
          (man.counts as { records: number }).records = 19;
        },
      },
    );
    await expectCode(b, 'RANGE_INCOMPLETE', 10);
  });
  it('10. a record inside the range left out at the end, offered as the "after" neighbour', async () => {
    const b = await edit(
      (ms) => {
        const m = find(ms, CHUNK);
        setLines(m, lines(m).slice(0, 19));
        const p = json(find(ms, 'proofs.json'));
        p.after = {
          index: 29,
          record: new TextDecoder().decode(log.records[29]),
          inclusion: inclusionProof(log.leaves, 29, 60).map(toBase64),
        };
        setJson(find(ms, 'proofs.json'), p);
        const h = json(find(ms, 'header.json'));
        (h.range as { lastIndex: number }).lastIndex = 28;
        setJson(find(ms, 'header.json'), h);
      },
      {
        fix: true,
        manifest: (man) => {
          (man.range as { lastIndex: number }).lastIndex = 28;
          (man.counts as { records: number }).records = 19;
        },
      },
    );
    await expectCode(b, 'RANGE_INCOMPLETE', 29);
  });
  it('11. a records chunk from another log is refused', async () => {
    const foreign = find(await members(otherBundle), CHUNK);
    const b = await edit((ms) => {
      find(ms, CHUNK).data = foreign.data;
    });
    await expectCode(b, 'RECORD_INVALID');
  });
});

describe('bundle tampering: manifest and members', () => {
  // README.txt is informative and never trusted (docs/bundle.md §README.txt): an
  // edit cannot change the verdict. It used to fail the bundle as
  // MEMBER_HASH_MISMATCH, which told auditors the README was part of the evidence.
  it('12. an edited README (sums not fixed) leaves the verdict alone and is reported', async () => {
    for (const src of [bundle, filtered]) {
      const b = await edit(
        (ms) => {
          find(ms, 'README.txt').data = utf8('Everything here is proved complete. Exit code 0 guaranteed.\n');
        },
        {},
        src,
      );
      const r = await verifyBundle(b, trust);
      const clean = await verifyBundle(src, trust);
      expect(r.readmeAltered).toBe(true);
      expect(r.warnings.join('\n')).toMatch(/README\.txt .*changed after export/);
      const { readmeAltered: _a, warnings: w, ...verdict } = r;
      const { readmeAltered: _b, warnings: cw, ...cleanVerdict } = clean;
      expect(verdict).toEqual(cleanVerdict);
      expect(w.filter((x) => !x.includes('README.txt'))).toEqual(cw);
    }
  });
  it('12b. an edited README with SHA256SUMS and manifest fixed verifies, unreported (nothing tells)', async () => {
    const b = await edit((ms) => {
      find(ms, 'README.txt').data = utf8('trust me\n');
    });
    const r = await verifyBundle(b, trust);
    expect(r.readmeAltered).toBe(false);
    expect(r.warnings.join('\n')).not.toContain('README.txt');
  });
  it('12c. a README entry missing from SHA256SUMS is still a broken member list', async () => {
    const b = await edit((ms) => {
      find(ms, 'README.txt').data = utf8('trust me\n');
      const sums = find(ms, 'SHA256SUMS');
      sums.data = utf8(text(sums).split('\n').slice(1).join('\n'));
    }, {});
    await expectCode(b, 'MEMBER_HASH_MISMATCH');
  });
  it('13. a member swapped in from another bundle (keys/log.pem) does not match the vkey', async () => {
    const foreign = find(await members(otherBundle), 'keys/log.pem');
    const b = await edit((ms) => {
      find(ms, 'keys/log.pem').data = foreign.data;
    });
    await expectCode(b, 'KEY_INVALID');
  });
  it('14. a manifest that lies about counts', async () => {
    const b = await edit(() => {}, {
      fix: true,
      manifest: (m) => {
        (m.counts as { records: number }).records = 25;
      },
    });
    await expectCode(b, 'COUNT_MISMATCH');
  });
  it('15. a manifest that lies about the range (header left alone)', async () => {
    const b = await edit(() => {}, {
      fix: true,
      manifest: (m) => {
        (m.range as { fromTime: string }).fromTime = '2025-06-01T00:00:00.000Z';
      },
    });
    await expectCode(b, 'RANGE_MISMATCH');
  });
  it('16. header and manifest that both claim a wider range: the before-neighbour is inside it', async () => {
    const wider = (h: Record<string, unknown>) => {
      (h.range as { fromTime: string }).fromTime = '2025-06-01T00:05:00.000Z';
    };
    const b = await edit(
      (ms) => {
        const h = json(find(ms, 'header.json'));
        wider(h);
        setJson(find(ms, 'header.json'), h);
      },
      { fix: true, manifest: wider },
    );
    await expectCode(b, 'RANGE_INCOMPLETE', 9);
  });
  it('17. header and manifest that both claim a narrower range: records fall outside it', async () => {
    const narrower = (h: Record<string, unknown>) => {
      (h.range as { toTime: string }).toTime = '2025-06-01T00:20:00.000Z';
    };
    const b = await edit(
      (ms) => {
        const h = json(find(ms, 'header.json'));
        narrower(h);
        setJson(find(ms, 'header.json'), h);
      },
      { fix: true, manifest: narrower },
    );
    // the after-neighbour (record 30) is still at/after toTime; record 20 is the first outside
    await expectCode(b, 'RANGE_MISMATCH', 20);
  });
  it('18. an extra member, or a path outside the layout, is refused', async () => {
    const b = await edit((ms) => {
      ms.splice(2, 0, { path: '../etc/passwd', data: utf8('x') });
    }, {});
    await expectCode(b, 'UNEXPECTED_MEMBER');
  });
  it('19. members out of order are refused', async () => {
    const b = await edit((ms) => {
      const i = ms.findIndex((m) => m.path === 'checkpoints/20.note');
      const [c] = ms.splice(i, 1);
      ms.splice(i + 2, 0, c as Member);
    }, {});
    await expectCode(b, 'UNEXPECTED_MEMBER');
  });
  it('20. a truncated archive is refused', async () => {
    await expectCode(bundle.subarray(0, bundle.length - 2000), 'ARCHIVE_INVALID');
    await expectCode(bundle.subarray(0, 700), 'ARCHIVE_INVALID');
  });
});

describe('bundle tampering: checkpoints', () => {
  it('21. a stale checkpoint (older than the records) as the proof checkpoint', async () => {
    const stale = (h: Record<string, unknown>) => {
      h.checkpoint = 20;
    };
    const b = await edit(
      (ms) => {
        for (const p of ['header.json', 'proofs.json']) {
          const h = json(find(ms, p));
          stale(h);
          setJson(find(ms, p), h);
        }
      },
      { fix: true, manifest: stale },
    );
    await expectCode(b, 'CHECKPOINT_STALE', 29);
  });
  it('22. an altered checkpoint (root changed, signature kept)', async () => {
    const b = await edit((ms) => {
      const m = find(ms, 'checkpoints/60.note');
      const ls = text(m).split('\n');
      const root = fromBase64(ls[2] as string);
      root[0] = (root[0] as number) ^ 1;
      ls[2] = toBase64(root);
      m.data = utf8(ls.join('\n'));
    });
    await expectCode(b, 'CHECKPOINT_SIGNATURE_INVALID');
  });
  it('23. a forged signature under the log key name and ID', async () => {
    const b = await edit((ms) => {
      const m = find(ms, 'checkpoints/60.note');
      const t = text(m);
      const sigLine = t.split('\n')[4] as string;
      const raw = fromBase64(sigLine.split(' ')[2] as string);
      raw[raw.length - 5] = (raw[raw.length - 5] as number) ^ 0xff;
      m.data = utf8(t.replace(sigLine, `${sigLine.split(' ').slice(0, 2).join(' ')} ${toBase64(raw)}`));
    });
    await expectCode(b, 'CHECKPOINT_SIGNATURE_INVALID');
  });
  it('24. a checkpoint re-signed with another key', async () => {
    const mallory = LocalNoteSigner.generate(log.origin);
    const note = await checkpointNote(log, 60, mallory);
    const b = await edit((ms) => {
      find(ms, 'checkpoints/60.note').data = utf8(note);
    });
    await expectCode(b, 'UNTRUSTED_KEY');
    await expectCode(b, 'UNTRUSTED_KEY', undefined, {}); // the bundle's own key does not sign it either
  });
  it('25. a forged bundle (own key, own checkpoint) verifies only without pinning, flagged', async () => {
    const mallory = LocalNoteSigner.generate(log.origin);
    const forged = makeLog(60, { signer: mallory });
    const b = await exportBundle(forged, { fromTime: FROM, toTime: TO });
    await expectCode(b, 'UNTRUSTED_KEY', undefined, trust);
    const r = await verifyBundle(b, { tsaRoots: TSA_ROOTS });
    expect(r.trustedBundleKeys).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/taken from the bundle/);
    // keys/ swapped for Mallory's: the real checkpoints no longer verify against the bundle's key,
    // and with pinning the swap is harmless (and reported).
    const swapped = await edit((ms) => {
      find(ms, 'keys/log.vkey').data = utf8(`${vkeyFromSpki(log.origin, mallory.publicKeySpki)}\n`);
      find(ms, 'keys/log.pem').data = utf8(spkiToPem(mallory.publicKeySpki));
    });
    await expectCode(swapped, 'UNTRUSTED_KEY', undefined, { tsaRoots: TSA_ROOTS });
    const pinned = await verifyBundle(swapped, trust);
    expect(pinned.warnings.join('\n')).toMatch(/not one of the pinned log keys/);
  });
  it('26. a broken consistency proof between checkpoints', async () => {
    const b = await edit((ms) => {
      const c = json(find(ms, 'consistency.json')) as { proofs: { hashes: string[] }[] };
      const h = fromBase64((c.proofs[0] as { hashes: string[] }).hashes[0] as string);
      h[3] = (h[3] as number) ^ 1;
      (c.proofs[0] as { hashes: string[] }).hashes[0] = toBase64(h);
      setJson(find(ms, 'consistency.json'), c);
    });
    await expectCode(b, 'CONSISTENCY_FAILED');
  });
  it('27. a broken range proof (left edge) fails inclusion', async () => {
    const b = await edit((ms) => {
      const p = json(find(ms, 'proofs.json')) as { left: string[] };
      const h = fromBase64(p.left[0] as string);
      h[0] = (h[0] as number) ^ 1;
      p.left[0] = toBase64(h);
      setJson(find(ms, 'proofs.json'), p);
    });
    await expectCode(b, 'INCLUSION_FAILED', 10);
  });
});

describe('bundle tampering: time-stamps', () => {
  it('28. an altered time-stamp', async () => {
    const b = await edit((ms) => {
      const m = find(ms, 'anchors/60/test-ecdsa.tsr');
      const d = m.data.slice();
      d[d.length - 10] = (d[d.length - 10] as number) ^ 0x01;
      m.data = d;
    });
    await expectCode(b, 'TIMESTAMP_INVALID');
  });
  it('29. missing time-stamps', async () => {
    const none = await edit(
      (ms) => {
        for (let i = ms.length - 1; i >= 0; i--)
          if ((ms[i] as Member).path.startsWith('anchors/')) ms.splice(i, 1);
        // attestations.json indexes the tokens: drop their entries too, so the time claim is what fails.
        const att = find(ms, 'attestations.json');
        const j = json(att) as { attestations: { kind: string }[] };
        setJson(att, { attestations: j.attestations.filter((a) => a.kind !== 'rfc3161') });
      },
      {
        fix: true,
        manifest: (m) => {
          (m.counts as { anchors: number }).anchors = 0;
        },
      },
    );
    await expectCode(none, 'TIMESTAMP_MISSING');
    const oneGone = await edit((ms) => {
      ms.splice(
        ms.findIndex((m) => m.path === 'anchors/60/test-rsa.tsr'),
        1,
      );
    }, {});
    await expectCode(oneGone, 'MISSING_MEMBER');
  });
  it("30. a foreign time-stamp (another bundle's, over other data)", async () => {
    const foreign = find(await members(otherBundle), 'anchors/60/test-ecdsa.tsr');
    const b = await edit((ms) => {
      find(ms, 'anchors/60/test-ecdsa.tsr').data = foreign.data;
    });
    const e = await expectCode(b, 'TIMESTAMP_INVALID');
    expect((e.cause as { code: string }).code).toBe('IMPRINT_MISMATCH');
  });
  it('31. a time-stamp from a TSA whose root is not pinned', async () => {
    const e = await expectCode(bundle, 'TIMESTAMP_INVALID', undefined, {
      ...trust,
      tsaRoots: [TSA_ROOTS[0] as Uint8Array],
    });
    expect((e.cause as { code: string }).code).toBe('UNTRUSTED_ROOT');
  });
  it('32. a time-stamp earlier than the records it covers', async () => {
    // A log whose clock ran ahead: records "received" tomorrow, anchored today.
    const future = makeLog(40, { logId: 'tenant-c', startMs: Date.now() + 24 * 60 * MINUTE });
    const from = future.receivedAt[5] as string;
    const to = future.receivedAt[15] as string;
    const b = await exportBundle(future, { fromTime: from, toTime: to });
    await expectCode(b, 'TIMESTAMP_BEFORE_RECORDS', 4, trustFor(future));
  });
});

describe('bundle tampering: filtered exports', () => {
  it('33. a broken inclusion proof', async () => {
    const b = await edit(
      (ms) => {
        const m = find(ms, 'inclusion/000000.jsonl');
        const ls = lines(m);
        const l = JSON.parse(ls[0] as string) as { index: number; hashes: string[] };
        l.hashes[1] = toBase64(new Uint8Array(32));
        ls[0] = JSON.stringify(l);
        setLines(m, ls);
      },
      { fix: true },
      filtered,
    );
    await expectCode(b, 'INCLUSION_FAILED', 12);
  });
  it('34. an edited filtered record fails its inclusion proof', async () => {
    const b = await edit(
      (ms) => {
        const m = find(ms, CHUNK);
        const ls = lines(m);
        const r = decodeRecord(utf8(ls[0] as string));
        r.event.outcome = 'denied';
        ls[0] = new TextDecoder().decode(canonicalBytes(r));
        setLines(m, ls);
      },
      { fix: true },
      filtered,
    );
    await expectCode(b, 'INCLUSION_FAILED', 12);
  });
  it('35. a record that does not match the filter', async () => {
    const b = await edit(
      (ms) => {
        const h = json(find(ms, 'header.json'));
        (h.filter as { actionPrefix: string }).actionPrefix = 'access.revoke';
        setJson(find(ms, 'header.json'), h);
      },
      {
        fix: true,
        manifest: (m) => {
          (m.filter as { actionPrefix: string }).actionPrefix = 'access.revoke';
        },
      },
      filtered,
    );
    await expectCode(b, 'RANGE_MISMATCH', 12);
  });
  it('35b. a record of another actor smuggled (with a valid inclusion proof) into an actor-filtered bundle', async () => {
    // agent-3 holds 10, 17, 24 in 10..29; record 12 is agent-5's.
    const byActor = await exportBundle(log, { fromTime: FROM, toTime: TO, filter: { actorId: 'agent-3' } });
    expect((await verifyBundle(byActor, trust)).records.count).toBe(3);
    const b = await edit(
      (ms) => {
        const recs = find(ms, CHUNK);
        const ls = lines(recs);
        ls.splice(1, 0, new TextDecoder().decode(log.records[12]));
        setLines(recs, ls);
        const inc = find(ms, 'inclusion/000000.jsonl');
        const il = lines(inc);
        il.splice(
          1,
          0,
          JSON.stringify({ index: 12, hashes: inclusionProof(log.leaves, 12, 60).map(toBase64) }),
        );
        setLines(inc, il);
      },
      { fix: true },
      byActor,
    );
    const e = await expectCode(b, 'RANGE_MISMATCH', 12);
    expect(e.message).toContain('actor "agent-3"');
  });
});

describe('bundle: leaf hashes are what the README says', () => {
  it('prev of line 2 is SHA-256(0x00 ‖ line 1)', async () => {
    const ls = lines(find(await members(bundle), CHUNK));
    const r2 = JSON.parse(ls[1] as string) as { prev: string };
    expect(r2.prev).toBe(toBase64(leafHash(utf8(ls[0] as string))));
  });
});
