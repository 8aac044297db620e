// C2SP tlog-proof files (src/core/tlog-proof): parse/format round trip (fast-check), offline
// verification against pinned log and witness keys, one stable code per tamper, and garbage in
// → a typed error, never a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../../src/core/bytes.ts';
import { AnchorlogError } from '../../../src/core/errors.ts';
import { inclusionProof } from '../../../src/core/merkle/proof-from-leaves.ts';
import { rootOfRange } from '../../../src/core/merkle/root.ts';
import { formatCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { signNote } from '../../../src/core/note/sign.ts';
import { formatNote, formatSignatureLine, parseNote } from '../../../src/core/note/signed-note.ts';
import { ecdsaP256Verifier, verifierFromSpki } from '../../../src/core/note/verifiers.ts';
import {
  encodeRecord,
  formatReceivedAt,
  type LogRecord,
  leafHash,
  ZERO_HASH_B64,
} from '../../../src/core/record.ts';
import {
  formatTlogProof,
  parseTlogProof,
  startsWithHeader,
  TLOG_PROOF_HEADER,
  type TlogProof,
  TlogProofError,
  verifyTlogProof,
} from '../../../src/core/tlog-proof/index.ts';
import { cosignerFromSecret, signCosignature, witnessPolicy } from '../../../src/core/witness/index.ts';
import { seed } from '../witness/support.ts';

const LOG = 'tp';
const ORIGIN = `anchorlog.test/${LOG}`;
const signer = LocalNoteSigner.generate(ORIGIN);
const logKey = ecdsaP256Verifier(ORIGIN, signer.publicKeySpki);
const W = [1, 2, 3].map((i) => ({ name: `witness-${i}.test`, secret: seed(60 + i) }));
const cosigners = W.map((w) => cosignerFromSecret(w.name, w.secret));
const NOW = 1_790_000_000;

/** `n` chained records of log `LOG`, as ingest writes them. */
function records(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = ZERO_HASH_B64;
  for (let index = 0; index < n; index++) {
    const r: LogRecord = {
      v: 1,
      logId: LOG,
      index,
      receivedAt: formatReceivedAt(Date.UTC(2026, 11, 3) + index),
      submitter: 'app:tlog-proof-test',
      prev,
      event: {
        occurredAt: '2026-12-03T12:00:00.000Z',
        actor: { type: 'agent', id: `agent-${index}` },
        action: 'tool.call',
        outcome: 'success',
      },
    };
    const b = encodeRecord(r);
    out.push(b);
    prev = toBase64(leafHash(b));
  }
  return out;
}

const RECORDS = records(13);
const LEAVES = RECORDS.map(leafHash);

/** The checkpoint of the whole log, cosigned by witnesses `by`. */
async function checkpoint(by: number[] = [0, 1], logSigner = signer, at = NOW - 60): Promise<string> {
  const note = await signNote(
    formatCheckpoint({
      origin: ORIGIN,
      size: LEAVES.length,
      rootHash: rootOfRange(LEAVES, 0, LEAVES.length),
    }),
    [logSigner],
  );
  const text = parseNote(note).text;
  return (
    note +
    by
      .map((i) => {
        const w = W[i] as (typeof W)[number];
        return `${formatSignatureLine(signCosignature(w.name, w.secret, text, at))}\n`;
      })
      .join('')
  );
}

async function proofFile(index: number, by?: number[], logSigner = signer, at?: number): Promise<string> {
  return formatTlogProof({
    extra: RECORDS[index] as Uint8Array,
    index,
    proof: inclusionProof(LEAVES, index, LEAVES.length),
    checkpoint: await checkpoint(by, logSigner, at),
  });
}

const trust = (quorum = 2, origins?: string[]) => ({
  logKeys: [logKey],
  ...(origins ? { origins } : {}),
  witnesses: witnessPolicy(cosigners, quorum),
});

/** The code of what `f` throws (an AnchorlogError; anything else fails the test). */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AnchorlogError);
    return (e as AnchorlogError).code;
  }
  throw new Error('did not throw');
}

const verify = (file: string | Uint8Array, t = trust()) =>
  verifyTlogProof(typeof file === 'string' ? utf8(file) : file, t, { now: NOW });

/** Replace line `n` (0-based) of the file. */
const editLine = (file: string, n: number, f: (l: string) => string) =>
  file
    .split('\n')
    .map((l, i) => (i === n ? f(l) : l))
    .join('\n');

const flipB64 = (b64: string, at: number) => {
  const b = fromBase64(b64);
  b[at] = (b[at] as number) ^ 1;
  return toBase64(b);
};

describe('tlog-proof: verify', () => {
  it('every record of the log verifies, with the record and the witness report', async () => {
    for (let index = 0; index < RECORDS.length; index++) {
      const r = verify(await proofFile(index));
      expect(r.index).toBe(index);
      expect(r.record.index).toBe(index);
      expect(r.logId).toBe(LOG);
      expect(r.size).toBe(13);
      expect(r.cosigned).toBe(2);
      expect(r.witnesses.map((w) => w.status)).toEqual(['cosigned', 'cosigned', 'missing']);
    }
  });

  it('the file follows the spec layout: header, extra, index, hashes, blank line, checkpoint', async () => {
    const lines = (await proofFile(5)).split('\n');
    expect(lines[0]).toBe(TLOG_PROOF_HEADER);
    expect(lines[1]).toBe(`extra ${toBase64(RECORDS[5] as Uint8Array)}`);
    expect(lines[2]).toBe('index 5');
    expect(lines[7]).toBe('');
    expect(lines[8]).toBe(ORIGIN);
  });

  it('quorum boundaries: 2 of 3 pinned meets k=2, fails k=3; k=0 needs none', async () => {
    const f = await proofFile(3, [0, 2]);
    expect(verify(f, trust(2)).cosigned).toBe(2);
    expect(codeOf(() => verify(f, trust(3)))).toBe('WITNESS_QUORUM_NOT_MET');
    const none = await proofFile(3, []);
    expect(verify(none, trust(0)).cosigned).toBe(0);
    expect(codeOf(() => verify(none, trust(1)))).toBe('WITNESS_QUORUM_NOT_MET');
  });

  it('an Ed25519 log key (note type 0x01) verifies the same way', async () => {
    const ed = LocalNoteSigner.generate(ORIGIN, 'ed25519');
    const f = await proofFile(11, [0, 1], ed);
    const edKey = verifierFromSpki(ORIGIN, ed.publicKeySpki);
    expect(verify(f, { ...trust(), logKeys: [edKey] }).cosigned).toBe(2);
    expect(codeOf(() => verify(f))).toBe('NO_TRUSTED_SIGNATURE');
  });

  it('cosignatures from the future do not count toward the quorum', async () => {
    const f = await proofFile(1, [0, 1], signer, NOW + 3600);
    expect(codeOf(() => verify(f))).toBe('WITNESS_QUORUM_NOT_MET');
    expect(verify(f, trust(0)).witnesses.map((w) => w.status)).toEqual(['future', 'future', 'missing']);
  });

  it('tampers, each with its own code', async () => {
    const f = await proofFile(6);
    // A record byte (the JSON stays canonical: a letter of the actor id) → the leaf moves.
    const rec = fromUtf8(RECORDS[6] as Uint8Array).replace('agent-6', 'agent-7');
    expect(codeOf(() => verify(editLine(f, 1, () => `extra ${toBase64(utf8(rec))}`)))).toBe(
      'INCLUSION_PROOF_INVALID',
    );
    // A proof hash.
    expect(codeOf(() => verify(editLine(f, 3, (l) => flipB64(l, 0))))).toBe('INCLUSION_PROOF_INVALID');
    // The index line (the record still says 6).
    expect(codeOf(() => verify(editLine(f, 2, () => 'index 7')))).toBe('RECORD_INDEX_MISMATCH');
    // The checkpoint body (its size line).
    expect(codeOf(() => verify(editLine(f, 8, () => '14')))).toBe('INVALID_SIGNATURE');
    // A witness cosignature (its Ed25519 signature bytes).
    const lines = f.split('\n');
    const w2 = lines.findIndex((l) => l.startsWith('— witness-2.test '));
    const [dash, name, sig] = (lines[w2] as string).split(' ');
    lines[w2] = `${dash} ${name} ${flipB64(sig as string, 20)}`;
    expect(codeOf(() => verify(lines.join('\n')))).toBe('WITNESS_QUORUM_NOT_MET');
    // Not canonical record bytes → the record's own code.
    expect(codeOf(() => verify(editLine(f, 1, () => `extra ${toBase64(utf8(`${rec} `))}`)))).toBe(
      'INVALID_RECORD',
    );
  });

  it('wrong trust: another log key, an unpinned origin, no record', async () => {
    const f = await proofFile(2);
    const other = ecdsaP256Verifier(ORIGIN, LocalNoteSigner.generate(ORIGIN).publicKeySpki);
    expect(codeOf(() => verify(f, { ...trust(), logKeys: [other] }))).toBe('NO_TRUSTED_SIGNATURE');
    expect(codeOf(() => verify(f, trust(2, ['anchorlog.test/other'])))).toBe('ORIGIN_NOT_PINNED');
    expect(verify(f, trust(2, [ORIGIN])).origin).toBe(ORIGIN);
    const p = parseTlogProof(utf8(f));
    const { extra: _, ...bare } = p;
    expect(codeOf(() => verifyTlogProof(bare, trust(), { now: NOW }))).toBe('RECORD_MISSING');
  });

  it('a record of another log, proved in that log, is refused for this origin', async () => {
    const f = await proofFile(0);
    const rec = fromUtf8(RECORDS[0] as Uint8Array).replace(`"logId":"${LOG}"`, '"logId":"other"');
    expect(codeOf(() => verify(editLine(f, 1, () => `extra ${toBase64(utf8(rec))}`)))).toBe(
      'RECORD_LOG_MISMATCH',
    );
  });
});

describe('tlog-proof: parse', () => {
  it('garbage → a typed error, never a crash', async () => {
    const good = await proofFile(4);
    const cases: [string | Uint8Array, string][] = [
      ['', 'NOT_TLOG_PROOF'],
      [new Uint8Array([0x75, 0x73, 0x74, 0x61, 0x72, 0xff, 0x00]), 'NOT_TLOG_PROOF'],
      ['c2sp.org/tlog-proof@v2\nindex 0\n\n', 'NOT_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 01\n\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex -1\n\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 99999999999999999999\n\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nextra !!\nindex 0\n\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 0\nAAAA\n\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 0\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 0\n\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 0\n\nnot a note`, 'MISSING_SEPARATOR'],
      [good.replace('\r', ''), 'ok'],
      [good.replaceAll('\n', '\r\n'), 'NOT_TLOG_PROOF'],
      [`${good}trailing`, 'MALFORMED_SIGNATURE_LINE'],
      [
        `${TLOG_PROOF_HEADER}\nindex 0\n${`${toBase64(new Uint8Array(32))}\n`.repeat(64)}\n`,
        'TLOG_PROOF_TOO_LARGE',
      ],
    ];
    for (const [input, code] of cases) {
      const bytes = typeof input === 'string' ? utf8(input) : input;
      if (code === 'ok') expect(() => parseTlogProof(bytes)).not.toThrow();
      else
        expect(
          codeOf(() => parseTlogProof(bytes)),
          JSON.stringify(input).slice(0, 80),
        ).toBe(code);
    }
  });

  it('header sniffing', async () => {
    expect(() => parseTlogProof(utf8('GIF89a'))).toThrow(TlogProofError);
    expect(startsWithHeader(utf8(await proofFile(1)))).toBe(true);
    expect(startsWithHeader(utf8(TLOG_PROOF_HEADER))).toBe(false);
    expect(startsWithHeader(new Uint8Array(512))).toBe(false);
  });

  it('property: format ∘ parse is the identity on files, parse ∘ format on proofs', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const note = fc
      .record({
        origin: fc.stringMatching(/^[a-z0-9.]{1,20}\/[a-z0-9-]{1,12}$/),
        size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        root: hash,
        sigs: fc.array(
          fc.record({
            name: fc.stringMatching(/^[a-z0-9.-]{1,16}$/),
            key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
            sig: fc.uint8Array({ minLength: 1, maxLength: 72 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
      })
      .map(({ origin, size, root, sigs }) =>
        formatNote(
          formatCheckpoint({ origin, size, rootHash: root }),
          sigs.map((s) => ({ name: s.name, keyId: s.key, signature: s.sig })),
        ),
      );
    const proof: fc.Arbitrary<TlogProof> = fc
      .record({
        extra: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
        index: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        proof: fc.array(hash, { maxLength: 63 }),
        checkpoint: note,
      })
      .map(({ extra, ...rest }) => (extra === undefined ? rest : { extra, ...rest }));
    fc.assert(
      fc.property(proof, (p) => {
        const text = formatTlogProof(p);
        const back = parseTlogProof(utf8(text));
        expect(back).toEqual(p);
        expect(formatTlogProof(back)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary bytes and mutated files never throw anything but a typed error', async () => {
    const good = utf8(await proofFile(9));
    const mutated = fc
      .array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((edits) => {
        const b = good.slice();
        for (const [at, v] of edits) b[at] = v;
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated), (bytes) => {
        try {
          verifyTlogProof(bytes, trust(), { now: NOW });
        } catch (e) {
          expect(e).toBeInstanceOf(AnchorlogError);
        }
      }),
      { numRuns: 400 },
    );
  });
});
