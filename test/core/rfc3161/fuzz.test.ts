/**
 * The parser and verifier face attacker-controlled bytes: whatever they are
 * fed, they may only resolve or reject with TimestampError — never throw a
 * TypeError/RangeError from deep inside asn1js or pkijs, never hang.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePemCertificates,
  parseTimestamp,
  TimestampError,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';
import { REAL_CASES, vectorPath } from './cases.ts';

const sample = REAL_CASES.filter((c) =>
  ['freetsa-2024-resp', 'globalsign-2021-TimeStampToken', 'sigstage-sha256', 'globalsign-rejection'].includes(
    c.name,
  ),
);
const seeds = sample.map((c) => new Uint8Array(readFileSync(vectorPath(c.token))));
const roots = decodePemCertificates(readFileSync(vectorPath('certs/FreeTSA_Root_CA.pem'), 'utf8'));

function onlyTimestampErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof TimestampError)) throw e;
  }
}

/** Mutations of a valid encoding: flip, overwrite, truncate, insert, delete. */
const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    edits: fc.array(
      fc.record({
        kind: fc.constantFrom('flip', 'set', 'truncate', 'insert', 'delete'),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ seed, edits }) => {
    let b = Array.from(seeds[seed] as Uint8Array);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.kind === 'flip') b[at] = (b[at] ?? 0) ^ (1 << (e.byte & 7));
      else if (e.kind === 'set') b[at] = e.byte;
      else if (e.kind === 'truncate') b = b.slice(0, at);
      else if (e.kind === 'insert') b.splice(at, 0, e.byte);
      else b.splice(at, 1);
    }
    return new Uint8Array(b);
  });

describe('fuzz: RFC 3161 parsing', () => {
  it('random bytes: parseTimestamp only throws TimestampError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) =>
        onlyTimestampErrors(() => parseTimestamp(bytes)),
      ),
      { numRuns: 2000 },
    );
  });

  it('random DER-ish prefixes: a SEQUENCE header over random content', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        const bytes = new Uint8Array([0x30, body.length < 128 ? body.length : 0x7f, ...body]);
        onlyTimestampErrors(() => parseTimestamp(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated real tokens: parseTimestamp only throws TimestampError', () => {
    fc.assert(
      fc.property(mutated, (bytes) => onlyTimestampErrors(() => parseTimestamp(bytes))),
      { numRuns: 300 },
    );
  });

  it('mutated real tokens: verifyTimestamp resolves or rejects with TimestampError', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (bytes) => {
        try {
          await verifyTimestamp(bytes, { expected: { digest: new Uint8Array(64) }, roots });
        } catch (e) {
          expect(e).toBeInstanceOf(TimestampError);
        }
      }),
      { numRuns: 200 },
    );
  });
});
