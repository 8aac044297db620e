// The witness's add-checkpoint decision (tlog-witness §add-checkpoint) and the request/response bodies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../../src/core/bytes.ts';
import { emptyRoot } from '../../../src/core/merkle/hasher.ts';
import { formatCheckpoint, parseNote, signNote } from '../../../src/core/note/index.ts';
import {
  type AddCheckpointRequest,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  formatConflictBody,
  parseAddCheckpointRequest,
  parseConflictBody,
  parseCosignatureResponse,
  type WitnessedHead,
} from '../../../src/core/witness/index.ts';
import { testLog } from './support.ts';

const SPEC_EXAMPLE_HEAD =
  'old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\n';

describe('add-checkpoint bodies', () => {
  it('round-trips a request, proof lines and all', async () => {
    const log = testLog();
    log.append(10);
    const checkpoint = await log.checkpoint();
    const req = { oldSize: 4, proof: log.proof(4, 10), checkpoint };
    const body = formatAddCheckpointRequest(req);
    expect(body.startsWith(`old 4\n${toBase64(req.proof[0] as Uint8Array)}\n`)).toBe(true);
    const back = parseAddCheckpointRequest(body);
    expect(back.oldSize).toBe(4);
    expect(back.proof.map(toBase64)).toEqual(req.proof.map(toBase64));
    expect(back.checkpoint).toBe(checkpoint);
  });

  it('parses the framing of the spec example', async () => {
    const log = testLog();
    log.append(1);
    const r = parseAddCheckpointRequest(`${SPEC_EXAMPLE_HEAD}${await log.checkpoint()}`);
    expect(r.oldSize).toBe(20852014);
    expect(r.proof).toHaveLength(2);
  });

  it.each([
    ['no old line', 'new 1\n\n'],
    ['leading zero', 'old 01\n\n'],
    ['negative', 'old -1\n\n'],
    ['bad base64 proof line', 'old 1\n!!!!\n\n'],
    ['short proof hash', 'old 1\nAAAA\n\n'],
    ['no blank line', 'old 1\n'],
    ['no note', 'old 0\n\nnot a note'],
    ['64 proof lines', `old 1\n${`${toBase64(new Uint8Array(32))}\n`.repeat(64)}\n`],
  ])('refuses a request with %s (MALFORMED_REQUEST)', async (_, head) => {
    const log = testLog();
    log.append(1);
    const body = head.endsWith('\n\n') ? `${head}${await log.checkpoint()}` : head;
    expect(() => parseAddCheckpointRequest(body)).toThrow(
      expect.objectContaining({ code: 'MALFORMED_REQUEST' }),
    );
  });

  it('parses 409 bodies strictly', () => {
    expect(parseConflictBody(formatConflictBody(42))).toBe(42);
    for (const bad of ['42', '42\n\n', ' 42\n', '042\n', '-1\n', 'x\n', ''])
      expect(() => parseConflictBody(bad)).toThrow(expect.objectContaining({ code: 'MALFORMED_RESPONSE' }));
  });

  it('parses 200 bodies as signature lines; garbage is MALFORMED_RESPONSE', () => {
    const text = 'o\n1\nAAAA\n';
    const line = `— w.test ${toBase64(new Uint8Array(76).fill(7))}\n`;
    expect(parseCosignatureResponse(text, line)).toHaveLength(1);
    for (const bad of ['', 'hello\n', line.slice(0, -1), `${line}\n${line}`, '<html></html>\n'])
      expect(() => parseCosignatureResponse(text, bad)).toThrow(
        expect.objectContaining({ code: 'MALFORMED_RESPONSE' }),
      );
  });

  it('never throws anything but WitnessError on arbitrary request bodies (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        try {
          parseAddCheckpointRequest(s);
        } catch (err) {
          expect((err as { name?: string }).name).toBe('WitnessError');
        }
      }),
    );
  });
});

describe('decideAddCheckpoint', () => {
  async function setup() {
    const log = testLog();
    const logs = new Map([[log.origin, [log.verifier]]]);
    const state = new Map<string, WitnessedHead>();
    const decide = (req: AddCheckpointRequest) => {
      const d = decideAddCheckpoint(req, logs, (o) => state.get(o));
      if (d.status === 200) state.set(log.origin, d.next);
      return d;
    };
    return { log, decide, state };
  }

  it('first checkpoint from old 0, then a consistent extension', async () => {
    const { log, decide } = await setup();
    log.append(5);
    expect(decide({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() }).status).toBe(200);
    log.append(7);
    expect(decide({ oldSize: 5, proof: log.proof(5, 12), checkpoint: await log.checkpoint() }).status).toBe(
      200,
    );
    // The same checkpoint again, from its own size: cosigned again (same root).
    expect(decide({ oldSize: 12, proof: [], checkpoint: await log.checkpoint() }).status).toBe(200);
  });

  it('409 with the witness size when the old size is not what it cosigned', async () => {
    const { log, decide } = await setup();
    log.append(5);
    decide({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() });
    log.append(3);
    const d = decide({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() });
    expect(d).toMatchObject({ status: 409, size: 5 });
  });

  it('422 for a bad proof, a proof from 0, and the same size with another root (a fork)', async () => {
    const { log, decide } = await setup();
    log.append(5);
    decide({ oldSize: 0, proof: [], checkpoint: await log.checkpoint() });
    log.append(3);
    const cp = await log.checkpoint();
    const proof = log.proof(5, 8);
    const bad = proof.map((h, i) => (i === 0 ? h.map((b) => b ^ 1) : h));
    expect(decide({ oldSize: 5, proof: bad, checkpoint: cp }).status).toBe(422);
    expect(decide({ oldSize: 5, proof: proof.slice(1), checkpoint: cp }).status).toBe(422);
    // A fork: another log history under the same key, same size 5.
    const forked = await signNote(
      formatCheckpoint({
        origin: log.origin,
        size: 5,
        rootHash: fromBase64(toBase64(new Uint8Array(32).fill(3))),
      }),
      [log.signer],
    );
    expect(decide({ oldSize: 5, proof: [], checkpoint: forked }).status).toBe(422);
  });

  it('422 for a size-0 checkpoint without the empty root; 200 with it', async () => {
    const { log, decide } = await setup();
    const zero = (root: Uint8Array) =>
      signNote(formatCheckpoint({ origin: log.origin, size: 0, rootHash: root }), [log.signer]);
    expect(decide({ oldSize: 0, proof: [], checkpoint: await zero(new Uint8Array(32)) }).status).toBe(422);
    expect(decide({ oldSize: 0, proof: [], checkpoint: await zero(emptyRoot()) }).status).toBe(200);
  });

  it('404 unknown origin, 403 unsigned or badly signed, 400 old size above the checkpoint', async () => {
    const { log, decide } = await setup();
    log.append(2);
    const other = testLog('anchorlog.test/other');
    other.append(2);
    expect(decide({ oldSize: 0, proof: [], checkpoint: await other.checkpoint() }).status).toBe(404);
    const impostor = testLog(log.origin);
    impostor.append(2);
    expect(decide({ oldSize: 0, proof: [], checkpoint: await impostor.checkpoint() }).status).toBe(403);
    const good = await log.checkpoint();
    const sig = parseNote(good).signatures[0];
    if (!sig) throw new Error('unsigned');
    const broken = good.replace(
      / [A-Za-z0-9+/=]+\n$/,
      ` ${toBase64(new Uint8Array(4 + 70).fill(1).map((b, i) => (i < 4 ? (sig.keyId[i] as number) : b)))}\n`,
    );
    expect(decide({ oldSize: 0, proof: [], checkpoint: broken }).status).toBe(403);
    expect(decide({ oldSize: 3, proof: [], checkpoint: good }).status).toBe(400);
  });
});
