// `anchorlog witnessed`: the served checkpoint's cosignatures against pinned witness keys
// (TRUST.json `witnesses` / `witnessQuorum`, or --witness / --witness-quorum).
import { describe, expect, it } from 'vitest';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { parseTrustFile } from '../../src/cli/trust-file.ts';
import { runWitnessed } from '../../src/cli/witnessed.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { formatSignatureLine, parseNote } from '../../src/core/note/signed-note.ts';
import { formatVerifierKey } from '../../src/core/note/vkey.ts';
import { cosignerFromSecret, formatCosignerKey, signCosignature } from '../../src/core/witness/index.ts';
import { seed, testLog } from '../core/witness/support.ts';
import { captureIo } from './support.ts';

const LOG = 'wlog';
const log = testLog(`anchorlog.test/${LOG}`);
log.append(7);
const W = [1, 2, 3].map((i) => ({ name: `witness-${i}.test`, secret: seed(40 + i) }));
const VKEYS = W.map((w) => formatCosignerKey(cosignerFromSecret(w.name, w.secret)));
const NOW = Math.floor(Date.now() / 1000);

/** The checkpoint with cosignatures of witnesses `by` (indexes into W). */
async function served(by: number[], tamper?: number): Promise<string> {
  const note = await log.checkpoint();
  const text = parseNote(note).text;
  return (
    note +
    by
      .map((i) => {
        const w = W[i] as (typeof W)[number];
        const sig = signCosignature(w.name, w.secret, text, NOW - 60);
        if (i === tamper) sig.signature[30] = (sig.signature[30] as number) ^ 1;
        return `${formatSignatureLine(sig)}\n`;
      })
      .join('')
  );
}

function deps(body: string): ReadApiDeps {
  return {
    env: { ANCHORLOG_API_URL: 'http://api.test', ANCHORLOG_API_KEY: 'k' },
    fetch: async (url) =>
      String(url).endsWith(`/v1/logs/${LOG}/checkpoint`)
        ? new Response(body, { status: 200 })
        : new Response('{}', { status: 404 }),
  };
}

const trust = (extra: object = {}) =>
  utf8(
    JSON.stringify({
      logKeys: [formatVerifierKey(log.verifier)],
      witnesses: VKEYS,
      witnessQuorum: 2,
      ...extra,
    }),
  );

describe('anchorlog witnessed', () => {
  it('exit 0 with the quorum met; reports each witness', async () => {
    const io = captureIo({ 'TRUST.json': trust() });
    const code = await runWitnessed(['--log', LOG, '--trust', 'TRUST.json'], io, deps(await served([0, 1])));
    expect(code, io.err()).toBe(0);
    expect(io.out()).toMatch(/2 of 3 witnesses cosigned, 2 required: MET/);
    expect(io.out()).toMatch(/witness-3\.test\+[0-9a-f]{8}\s+missing/);
  });

  it('exit 1 WITNESS_QUORUM_NOT_MET when one of two required is tampered; the report says invalid', async () => {
    const io = captureIo({ 'TRUST.json': trust() });
    const code = await runWitnessed(
      ['--log', LOG, '--trust', 'TRUST.json', '--json'],
      io,
      deps(await served([0, 1], 1)),
    );
    expect(code).toBe(1);
    const doc = JSON.parse(io.out()) as {
      ok: boolean;
      witnesses: { status: string }[];
      error: { code: string };
    };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('WITNESS_QUORUM_NOT_MET');
    expect(doc.witnesses.map((w) => w.status)).toEqual(['cosigned', 'invalid', 'missing']);
    expect(io.err()).toContain('WITNESS_QUORUM_NOT_MET');
  });

  it('--witness-quorum overrides TRUST.json; --witness adds keys', async () => {
    const io = captureIo({ 'TRUST.json': trust({ witnesses: [VKEYS[0]], witnessQuorum: 1 }) });
    const code = await runWitnessed(
      ['--log', LOG, '--trust', 'TRUST.json', '--witness', VKEYS[2] as string, '--witness-quorum', '2'],
      io,
      deps(await served([0, 2])),
    );
    expect(code, io.err()).toBe(0);
  });

  it('a checkpoint whose log signature fails is refused before any witness counts', async () => {
    const io = captureIo({ 'TRUST.json': trust() });
    const body = (await served([0, 1])).replace('\n7\n', '\n8\n');
    expect(await runWitnessed(['--log', LOG, '--trust', 'TRUST.json'], io, deps(body))).toBe(1);
  });

  it('no witness pinned is a usage error', async () => {
    const io = captureIo({
      'TRUST.json': utf8(JSON.stringify({ logKeys: [formatVerifierKey(log.verifier)] })),
    });
    expect(await runWitnessed(['--log', LOG, '--trust', 'TRUST.json'], io, deps(await served([0])))).toBe(2);
  });
});

describe('TRUST.json witnesses', () => {
  it('parses witnesses and witnessQuorum', () => {
    const t = parseTrustFile(trust(), 'T');
    expect(t.cosigners?.map((c) => c.name)).toEqual(W.map((w) => w.name));
    expect(t.witnessQuorum).toBe(2);
  });

  it.each([
    ['a quorum above the witnesses', { witnessQuorum: 4 }],
    ['a negative quorum', { witnessQuorum: -1 }],
    ['a note key as a witness key', { witnesses: [formatVerifierKey(log.verifier)] }],
    ['one key twice', { witnesses: [VKEYS[0], VKEYS[0]] }],
  ])('refuses %s (usage error)', (_, extra) => {
    expect(() => parseTrustFile(trust(extra), 'T')).toThrow(expect.objectContaining({ code: 'BAD_FILE' }));
  });
});
