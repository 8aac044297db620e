/**
 * Terminal-escape injection: what `anchorlog verify`, `checkpoint` and `prove`
 * print from a hostile bundle, token or server (a TSA name, a checkpoint
 * origin, a record) reaches the terminal with every control, format and
 * separator character escaped (src/cli/printable.ts), so it can neither
 * drive the terminal (ESC/CSI/OSC, BEL), overwrite or forge a line (CR, LF,
 * U+2028) nor reorder what is shown (bidi controls). The --json output keeps
 * the exact values: it parses to the same strings.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { createPki, issueToken, response } from '../../src/adapters/memory/tsa-pki.ts';
import { runCheckpoint } from '../../src/cli/checkpoint.ts';
import { runMain } from '../../src/cli/main.ts';
import { printable, printableJson } from '../../src/cli/printable.ts';
import { runProve } from '../../src/cli/prove.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { encodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { formatCheckpoint, signNote, vkeyFromSpki } from '../../src/core/note/index.ts';
import { encodeRecord, leafHash, ZERO_HASH_B64 } from '../../src/core/record.ts';
import { checkpointNote, exportBundle, makeLog } from '../core/bundle/fixture.ts';
import { captureIo } from './support.ts';

/** What must never reach a terminal raw (newline aside, which separates our own lines). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const rawUnsafe = (text: string) => UNSAFE.test(text.replace(/\n/g, ''));

// OSC: set the window title; BEL; CSI: clear the screen; CR + LF: a forged verdict line.
const HOSTILE_CN = '\u001b]0;pwned\u0007\u001b[2J\rBundle: OK\n  - forged claim';
// A key name may hold C1 and bidi characters (not spaces, not '+'): CSI as one code point, RLO.
const HOSTILE_ORIGIN = 'evil\u009b2J\u202egol.example/tenant-a';

const pem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${(toBase64(der).match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;

describe('printable', () => {
  it('escapes controls, format characters and separators, one \\uXXXX per UTF-16 unit', () => {
    expect(printable('a\u001b[31mb\r\nc\u0007')).toBe('a\\u001b[31mb\\u000d\\u000ac\\u0007');
    expect(printable('\u009b2J \u007f \u202e \u2028 \u200b \ufeff')).toBe(
      '\\u009b2J \\u007f \\u202e \\u2028 \\u200b \\ufeff',
    );
    // A tag character (astral, Cf) becomes its surrogate pair; a lone surrogate is escaped too.
    expect(printable('x\u{e0041}y\ud800z')).toBe('x\\udb40\\udc41y\\ud800z');
    // Letters of every script, emoji and ordinary punctuation stay as they are.
    expect(printable('Zürich 東京 🙂 "q" \\ tab-free')).toBe('Zürich 東京 🙂 "q" \\ tab-free');
  });

  it('printableJson: valid JSON of the same value, with nothing unsafe left raw', () => {
    const value = { tsaName: HOSTILE_CN, origin: HOSTILE_ORIGIN, n: [1, '\u2028'] };
    const text = printableJson(value, 2);
    expect(rawUnsafe(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('anchorlog verify: a hostile TSA name and origin', () => {
  const files: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    const signer = LocalNoteSigner.generate(HOSTILE_ORIGIN);
    const log = { ...makeLog(10, { signer }), origin: HOSTILE_ORIGIN };
    const note = await checkpointNote(log, 10);
    const pki = await createPki({ tsaCn: HOSTILE_CN });
    const token = await issueToken(pki, { data: utf8(note), genTime: new Date('2025-06-01T01:00:00Z') });
    files['/hostile.tar'] = await exportBundle(log, {
      fromTime: '2025-06-01T00:02:00.000Z',
      toTime: '2025-06-01T00:08:00.000Z',
      notes: [note],
      anchors: [
        { size: 10, tsa: 'tsa', response: response({ token }), chain: [pki.tsa.der, pki.intermediate.der] },
      ],
    });
    const vkey = vkeyFromSpki(HOSTILE_ORIGIN, signer.publicKeySpki);
    files['/trust.json'] = utf8(JSON.stringify({ logKeys: [vkey], tsaRoots: [pem(pki.root.der)] }));
    // Pins another log: the refusal quotes the bundle's origin.
    files['/wrong-key.json'] = utf8(
      JSON.stringify({
        logKeys: [vkeyFromSpki('other.example/tenant-a', signer.publicKeySpki)],
        tsaRoots: [pem(pki.root.der)],
      }),
    );
  });

  async function verify(...argv: string[]) {
    const io = captureIo(files);
    const code = await runMain(['verify', ...argv], io);
    return { code, out: io.out(), err: io.err() };
  }

  it('the text report shows the escapes, forges no line and drives no terminal', async () => {
    const r = await verify('/hostile.tar', '--trust', '/trust.json');
    expect(r.code, r.err).toBe(0);
    expect(rawUnsafe(r.out)).toBe(false);
    expect(rawUnsafe(r.err)).toBe(false);
    expect(r.out.split('\n').filter((l) => l.startsWith('Bundle:'))).toHaveLength(1);
    expect(r.out).not.toMatch(/^ {2}- forged claim/m);
    expect(r.out).toContain('\\u001b]0;pwned\\u0007\\u001b[2J\\u000dBundle: OK\\u000a  - forged claim');
    expect(r.out).toContain('evil\\u009b2J\\u202egol.example/tenant-a');
  });

  it('--json keeps the exact values and nothing unsafe raw', async () => {
    const r = await verify('/hostile.tar', '--trust', '/trust.json', '--json');
    expect(rawUnsafe(r.out)).toBe(false);
    const doc = JSON.parse(r.out);
    expect(doc.origin).toBe(HOSTILE_ORIGIN);
    expect(doc.anchors[0].tsaName).toContain(HOSTILE_CN);
  });

  it('a failure quoting the hostile origin is escaped too', async () => {
    const r = await verify('/hostile.tar', '--trust', '/wrong-key.json');
    expect(r.out).toContain('evil\\u009b2J\\u202egol.example/tenant-a');
    expect(r.code).toBe(1);
    expect(r.out).toContain('ORIGIN_NOT_PINNED');
    expect(rawUnsafe(r.out)).toBe(false);
    expect(rawUnsafe(r.err)).toBe(false);
    const j = await verify('/hostile.tar', '--trust', '/wrong-key.json', '--json');
    expect(rawUnsafe(j.out)).toBe(false);
    expect(JSON.parse(j.out).error.message).toContain(HOSTILE_ORIGIN);
  });
});

describe('anchorlog checkpoint / prove: a hostile server', () => {
  const LOG = 'tenant-a';
  const signer = LocalNoteSigner.generate(HOSTILE_ORIGIN);
  const vkey = vkeyFromSpki(HOSTILE_ORIGIN, signer.publicKeySpki);
  const record = encodeRecord({
    v: 1,
    logId: LOG,
    index: 0,
    receivedAt: '2025-06-01T00:00:00.000Z',
    submitter: 'svc',
    prev: ZERO_HASH_B64,
    event: {
      occurredAt: '2025-06-01T00:00:00.000Z',
      actor: { type: 'agent', id: 'a\u202e1' },
      action: 'tool.call',
      target: { type: 'file', id: 'f\u009b2J' },
      outcome: 'success',
    },
  });
  let note = '';
  const served = (): Record<string, BodyInit> => ({
    [`/v1/logs/${LOG}/checkpoint`]: note,
    '/v1/logs/tenant-b/checkpoint': note,
    [`/v1/keys?log=${LOG}`]: JSON.stringify({ keys: [{ vkey }] }),
    [`/v1/logs/${LOG}/tile/entries/000.p/1`]: encodeEntryBundle([record]).slice().buffer,
    [`/v1/logs/${LOG}/proof/inclusion?index=0&size=1`]: JSON.stringify({ index: 0, size: 1, hashes: [] }),
  });
  // The hostile party is the server: a fetch that answers as it would.
  const deps: ReadApiDeps = {
    env: { ANCHORLOG_API_URL: 'http://hostile.test', ANCHORLOG_API_KEY: 'k' },
    fetch: async (input) => {
      const url = new URL(String(input));
      const body = served()[`${url.pathname}${url.search}`];
      return body === undefined ? new Response('{}', { status: 404 }) : new Response(body, { status: 200 });
    },
  };

  beforeAll(async () => {
    note = await signNote(formatCheckpoint({ origin: HOSTILE_ORIGIN, size: 1, rootHash: leafHash(record) }), [
      signer,
    ]);
  });

  it('checkpoint: the origin is printed escaped', async () => {
    const io = captureIo();
    expect(await runCheckpoint(['--log', LOG, '--vkey', vkey], io, deps), io.err()).toBe(0);
    expect(rawUnsafe(io.out())).toBe(false);
    expect(io.out()).toContain('origin:  evil\\u009b2J\\u202egol.example/tenant-a');
    const j = captureIo();
    expect(await runCheckpoint(['--log', LOG, '--vkey', vkey, '--json'], j, deps)).toBe(0);
    expect(rawUnsafe(j.out())).toBe(false);
    expect(JSON.parse(j.out()).origin).toBe(HOSTILE_ORIGIN);
  });

  it('prove: the origin and the record are printed escaped', async () => {
    const io = captureIo();
    expect(await runProve(['--log', LOG, '--index', '0', '--vkey', vkey], io, deps), io.err()).toBe(0);
    expect(rawUnsafe(io.out())).toBe(false);
    expect(io.out()).toContain('a\\u202e1');
    expect(io.out()).toContain('f\\u009b2J');
    const j = captureIo();
    expect(await runProve(['--log', LOG, '--index', '0', '--vkey', vkey, '--json'], j, deps)).toBe(0);
    expect(rawUnsafe(j.out())).toBe(false);
    expect(JSON.parse(j.out()).record.event.actor.id).toBe('a\u202e1');
  });

  it('a failure quoting server text is escaped', async () => {
    // The server answers for log tenant-b with tenant-a's checkpoint: the refusal quotes its origin.
    const io = captureIo();
    expect(await runCheckpoint(['--log', 'tenant-b', '--vkey', vkey], io, deps)).toBe(1);
    expect(io.err()).toContain('ORIGIN_MISMATCH');
    expect(io.err()).toContain('evil\\u009b2J\\u202egol.example/tenant-a');
    expect(rawUnsafe(io.err())).toBe(false);
    const j = captureIo();
    expect(await runCheckpoint(['--log', 'tenant-b', '--vkey', vkey, '--json'], j, deps)).toBe(1);
    expect(rawUnsafe(j.out())).toBe(false);
    expect(JSON.parse(j.out()).message).toContain(HOSTILE_ORIGIN);
  });
});
