// `anchorlog prove --format tlog-proof -o FILE` → `anchorlog verify FILE --trust TRUST.json`: the
// round trip over a real read API (in-memory stores, real seal and ProofService serving the
// witnesses' cosignatures, docs/witnessing.md §Serving), then every tamper of the file → exit 1
// with its code, garbage → a clear error, and the usage rules of the new options.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProofService } from '../../src/app/proofs.ts';
import { cosignatureKey } from '../../src/app/witness.ts';
import { runProve } from '../../src/cli/prove.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { runVerify } from '../../src/cli/verify.ts';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { formatSignatureLine, parseNote } from '../../src/core/note/signed-note.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import { TLOG_PROOF_HEADER } from '../../src/core/tlog-proof/index.ts';
import { cosignerFromSecret, formatCosignerKey, signCosignature } from '../../src/core/witness/index.ts';
import type { LocalHttpServer } from '../../src/local/http-server.ts';
import {
  type Auth,
  auth,
  entriesFromBundles,
  growAndSeal,
  ORIGIN_PREFIX,
  type ReadEnv,
  readEnv,
  serveReadApi,
} from '../app/proofs-fixture.ts';
import { captureIo } from './support.ts';

const LOG = 'tproof';
const witness = (name: string) => {
  const keyName = `${name}.witness.test`;
  const secret = sha256(utf8(keyName));
  return { name, keyName, secret, cosigner: cosignerFromSecret(keyName, secret) };
};
const W = [witness('wit-a'), witness('wit-b'), witness('wit-c')];
const COSIGNED_AT = Math.floor(Date.now() / 1000) - 3600;

let env: ReadEnv;
let a: Auth;
let server: LocalHttpServer;
let dir: string;
let vkey: string;
let records: Uint8Array[];
const SIZE = 57;

const deps = (): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: server.url, ANCHORLOG_API_KEY: a.readerKey },
  fetch: globalThis.fetch,
});

const trustFile = async (extra: object = {}) => {
  const p = join(dir, `trust-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(
    p,
    JSON.stringify({
      logKeys: [vkey],
      witnesses: W.map((w) => formatCosignerKey(w.cosigner)),
      witnessQuorum: 2,
      ...extra,
    }),
  );
  return p;
};

async function prove(args: string[]) {
  const io = captureIo();
  const code = await runProve(['--log', LOG, '--vkey', vkey, ...args], io, deps());
  return { code, out: io.out(), err: io.err() };
}

async function verify(file: string, args: string[] = []) {
  const io = captureIo();
  const code = await runVerify([file, ...args], io);
  return { code, out: io.out(), err: io.err() };
}

/** Verify `text` written to a file; the failure code from --json (or 'ok'). */
async function verdictOf(text: string, name = 'edited.tlog-proof'): Promise<{ exit: number; code: string }> {
  const p = join(dir, name);
  await writeFile(p, text);
  const r = await verify(p, ['--trust', await trustFile(), '--json']);
  const doc = JSON.parse(r.out) as { ok: boolean; error?: { code: string } };
  return { exit: r.code, code: doc.error?.code ?? 'ok' };
}

let proofText: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anchorlog-tlog-proof-'));
  env = await readEnv();
  await growAndSeal(env, LOG, [20, SIZE - 20]);
  // Witnesses a and b cosign the published checkpoint, where the anchor job archives it.
  const cp = await env.archive.getCheckpoint(LOG);
  if (!cp) throw new Error('nothing published');
  const text = parseNote(cp.text).text;
  for (const w of W.slice(0, 2))
    await env.archive.putImmutable(
      cosignatureKey(LOG, SIZE, w.name),
      utf8(`${formatSignatureLine(signCosignature(w.keyName, w.secret, text, COSIGNED_AT))}\n`),
    );
  env.proofs = new ProofService({
    archive: env.counting,
    originPrefix: ORIGIN_PREFIX,
    publicKeys: async () => [env.signer.publicKeySpki],
    witnesses: W.map((w) => ({ name: w.name, cosigner: w.cosigner })),
  });
  a = await auth(env, [LOG]);
  server = await serveReadApi(env, a);
  vkey = vkeyFromSpki(`${ORIGIN_PREFIX}/${LOG}`, env.signer.publicKeySpki);
  records = await entriesFromBundles(env, LOG, SIZE);
  const out = join(dir, '42.tlog-proof');
  const r = await prove(['--index', '42', '--format', 'tlog-proof', '-o', out]);
  expect(r.code, r.err).toBe(0);
  proofText = fromUtf8(await readFile(out));
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const editLine = (text: string, n: number, f: (l: string) => string) =>
  text
    .split('\n')
    .map((l, i) => (i === n ? f(l) : l))
    .join('\n');
const flipB64 = (b64: string, at: number) => {
  const b = fromBase64(b64);
  b[at] = (b[at] as number) ^ 1;
  return toBase64(b);
};

describe('anchorlog prove --format tlog-proof', () => {
  it('writes the C2SP layout: header, the record as extra, index, path, the cosigned checkpoint', () => {
    const lines = proofText.split('\n');
    expect(lines[0]).toBe(TLOG_PROOF_HEADER);
    expect(lines[1]).toBe(`extra ${toBase64(records[42] as Uint8Array)}`);
    expect(lines[2]).toBe('index 42');
    const blank = lines.indexOf('', 3);
    expect(blank).toBe(3 + 6); // a path of 6 hashes in a tree of 57
    expect(lines[blank + 1]).toBe(`${ORIGIN_PREFIX}/${LOG}`);
    expect(lines.filter((l) => l.startsWith('— wit-a.witness.test '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('— wit-b.witness.test '))).toHaveLength(1);
  });

  it('prints the usual verdict and names the file; --json has output', async () => {
    const out = join(dir, '7.tlog-proof');
    const r = await prove(['--index', '7', '--format', 'tlog-proof', '--output', out, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).output).toEqual({ format: 'tlog-proof', file: out });
    const t = await prove(['--index', '7', '--format', 'tlog-proof', '-o', out]);
    expect(t.out).toMatch(/written: +.*7\.tlog-proof \(tlog-proof\)/);
  });

  it('with --record the given record goes in the file', async () => {
    const rec = join(dir, 'r.json');
    await writeFile(rec, records[3] as Uint8Array);
    const out = join(dir, '3.tlog-proof');
    expect((await prove(['--index', '3', '--record', rec, '--format', 'tlog-proof', '-o', out])).code).toBe(
      0,
    );
    expect(fromUtf8(await readFile(out)).split('\n')[1]).toBe(`extra ${toBase64(records[3] as Uint8Array)}`);
  });

  it('usage: --format needs -o and the reverse; not with --size or --leaf-hash', async () => {
    const out = join(dir, 'x.tlog-proof');
    expect((await prove(['--index', '1', '--format', 'tlog-proof'])).code).toBe(2);
    expect((await prove(['--index', '1', '-o', out])).code).toBe(2);
    expect((await prove(['--index', '1', '--format', 'json', '-o', out])).code).toBe(2);
    expect((await prove(['--index', '1', '--format', 'tlog-proof', '-o', out, '--size', '20'])).code).toBe(2);
    const leaf = toBase64(new Uint8Array(32));
    expect(
      (await prove(['--index', '1', '--format', 'tlog-proof', '-o', out, '--leaf-hash', leaf])).code,
    ).toBe(2);
  });
});

describe('anchorlog verify FILE.tlog-proof', () => {
  it('round trip: exit 0 with the quorum pinned; reports the record and each witness', async () => {
    const r = await verify(join(dir, '42.tlog-proof'), ['--trust', await trustFile()]);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/^Proof: OK/);
    expect(r.out).toMatch(/witnesses: +2 of 3 pinned cosigned \(quorum 2\)/);
    expect(r.out).toMatch(/wit-c\.witness\.test\+[0-9a-f]{8}: missing/);
    const j = JSON.parse(
      (await verify(join(dir, '42.tlog-proof'), ['--trust', await trustFile(), '--json'])).out,
    );
    expect(j).toMatchObject({
      ok: true,
      format: 'tlog-proof',
      index: 42,
      size: SIZE,
      logId: LOG,
      cosigned: 2,
    });
    expect(j.record.index).toBe(42);
  });

  it('detected by its header line whatever the name; a bundle path is unchanged', async () => {
    expect(await verdictOf(proofText, 'proof.txt')).toEqual({ exit: 0, code: 'ok' });
    // Not a tlog-proof and not a tar: the bundle verifier's own error, as before.
    const r = await verdictOf('hello\n', 'junk.tar');
    expect(r.exit).toBe(1);
    expect(r.code).not.toBe('NOT_TLOG_PROOF');
  });

  it('quorum not met → exit 1 WITNESS_QUORUM_NOT_MET; no witnesses pinned → 0, reported as not checked', async () => {
    const f = join(dir, '42.tlog-proof');
    const r = await verify(f, ['--trust', await trustFile({ witnessQuorum: 3 })]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Proof: FAILED/);
    expect(r.out).toMatch(/WITNESS_QUORUM_NOT_MET/);
    const bare = join(dir, 'bare.json');
    await writeFile(bare, JSON.stringify({ logKeys: [vkey] }));
    const n = await verify(f, ['--trust', bare]);
    expect(n.code, n.err).toBe(0);
    expect(n.out).toMatch(/none pinned/);
  });

  it('without --trust logKeys: exit 2 (the file carries no key to fall back on)', async () => {
    expect((await verify(join(dir, '42.tlog-proof'))).code).toBe(2);
  });

  it('every tamper → exit 1 with its code', async () => {
    const lines = proofText.split('\n');
    const blank = lines.indexOf('', 3);
    const rec = fromUtf8(records[42] as Uint8Array);
    const witB = lines.findIndex((l) => l.startsWith('— wit-b.witness.test '));
    const cases: [string, string][] = [
      [
        editLine(proofText, 1, () => `extra ${toBase64(utf8(rec.replace(/"t-\d+"/, '"t-x"')))}`),
        'INCLUSION_PROOF_INVALID',
      ],
      [editLine(proofText, 4, (l) => flipB64(l, 31)), 'INCLUSION_PROOF_INVALID'],
      [editLine(proofText, 2, () => 'index 41'), 'RECORD_INDEX_MISMATCH'],
      [editLine(proofText, blank + 2, () => String(SIZE + 1)), 'INVALID_SIGNATURE'],
      [
        editLine(proofText, witB, (l) => {
          const [dash, name, sig] = l.split(' ');
          return `${dash} ${name} ${flipB64(sig as string, 40)}`;
        }),
        'WITNESS_QUORUM_NOT_MET',
      ],
      // A proof hash dropped: the path is too short for (42, 57).
      [lines.filter((_, i) => i !== 3).join('\n'), 'BAD_PROOF_SIZE'],
    ];
    for (const [text, code] of cases) expect(await verdictOf(text)).toEqual({ exit: 1, code });
  });

  it('garbage → exit 1 with a clear code, never a crash', async () => {
    const cases: [string, string][] = [
      ['', 'NOT_TLOG_PROOF'],
      ['{"not":"a proof"}\n', 'NOT_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\n`, 'MALFORMED_TLOG_PROOF'],
      [`${TLOG_PROOF_HEADER}\nindex 0\n\n`, 'MALFORMED_TLOG_PROOF'],
      [proofText.slice(0, proofText.length - 20), 'MALFORMED_SIGNATURE_LINE'],
    ];
    for (const [text, code] of cases) expect(await verdictOf(text)).toEqual({ exit: 1, code });
    const p = join(dir, 'bin.tlog-proof');
    await writeFile(p, new Uint8Array([0, 1, 2, 255]));
    const r = await verify(p, ['--trust', await trustFile()]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Proof: FAILED\ncode: +NOT_TLOG_PROOF/);
  });
});
