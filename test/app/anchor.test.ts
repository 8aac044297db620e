import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { EmfMetricsSink, toEmf } from '../../src/adapters/metrics/emf-metrics.ts';
import { HttpTimestamper } from '../../src/adapters/tsa/http-timestamper.ts';
import { AnchorService, anchoredCheckpointKey, anchorKeys } from '../../src/app/anchor.ts';
import { AppError } from '../../src/app/errors.ts';
import { fromBase64, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { formatCheckpoint } from '../../src/core/note/checkpoint.ts';
import { signNote } from '../../src/core/note/sign.ts';
import type { Principal } from '../../src/core/principal.ts';
import { ZERO_HASH } from '../../src/core/record.ts';
import { verifyTimestamp } from '../../src/core/rfc3161/verify.ts';
import { anchorRoutes } from '../../src/http/routes/anchors.ts';
import type { HttpRequest } from '../../src/http/types.ts';
import type { ArchiveStore } from '../../src/ports/archive-store.ts';
import type { NoteSigner } from '../../src/ports/signer.ts';
import type { Timestamper } from '../../src/ports/timestamper.ts';
import {
  editImprint,
  editNonce,
  editSha1,
  type FakeTsa,
  forward,
  readText,
  refusedUrl,
  rewritingProxy,
  sendReply,
  startFakeTsa,
} from '../adapters/tsa-fakes.ts';
import { awsClientConfig } from '../support/aws.ts';
import { harnessTsas } from '../support/tsa.ts';

const TABLE = 'anchorlog-anchor-test';
const BUCKET = 'anchorlog-archive-anchor-test';
const tsa = harnessTsas();
const roots = { ecdsa: readText(tsa.ecdsa.rootCertPath), rsa: readText(tsa.rsa.rootCertPath) };

let ddb: DynamoDBClient;
let state: DynamoSealStateStore;
let archive: S3ArchiveStore;
let anchors: DynamoAnchorStore;
const fakes: FakeTsa[] = [];
const clock = new ManualClock();
let work: string;

beforeAll(async () => {
  const cfg = awsClientConfig();
  ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client(cfg);
  await ensureTable(ddb, TABLE);
  await createArchiveBucket(s3, BUCKET, 1);
  state = new DynamoSealStateStore({ client: ddb, tableName: TABLE });
  archive = new S3ArchiveStore({ client: s3, bucket: BUCKET });
  anchors = new DynamoAnchorStore({ client: ddb, tableName: TABLE });
  work = mkdtempSync(join(tmpdir(), 'anchorlog-anchor-test-'));
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

async function fake(f: Promise<FakeTsa>): Promise<FakeTsa> {
  const t = await f;
  fakes.push(t);
  return t;
}

/** A counting pass-through to a real TSA; `broken` makes it answer HTTP 500. */
async function counting(upstream: string) {
  const ctl = { broken: false };
  const f = await fake(
    startFakeTsa(async (body, res) => {
      if (ctl.broken) return void res.writeHead(500).end('down');
      sendReply(res, await forward(upstream, body));
    }),
  );
  return Object.assign(f, { ctl });
}

/** The log signing key the anchor job verifies archived checkpoints with. */
const LOG_KEY = LocalNoteSigner.generate('anchor-test-log-key');
const ORIGIN_PREFIX = 'anchor.test';

/** A key under the note name of one log's origin (as the sealer signs, src/app/seal.ts). */
function signerFor(origin: string, key: LocalNoteSigner = LOG_KEY): NoteSigner {
  return { keyName: origin, keyId: key.keyId, publicKeySpki: key.publicKeySpki, sign: (m) => key.sign(m) };
}

/** Publishes `text` as the log's current archived checkpoint (compare-and-swap, as the sealer does). */
async function publish(logId: string, text: string): Promise<void> {
  const current = await archive.getCheckpoint(logId);
  const r = await archive.putCheckpoint(
    logId,
    text,
    current ? { ifMatch: current.etag } : { ifNoneMatch: '*' },
  );
  expect(r.written).toBe(true);
}

const versions = new Map<string, number>();
/**
 * What a seal run leaves: a checkpoint of `size` signed by the log key in the
 * seal state and, unless `publish` is false (a run that died between its CAS
 * and its publish, or a state someone else wrote), in the archive.
 */
async function sealAt(
  logId: string,
  size: number,
  opts: { publish?: boolean; key?: LocalNoteSigner } = {},
): Promise<string> {
  const origin = `${ORIGIN_PREFIX}/${logId}`;
  const rootHash = sha256(utf8(`${logId}/${size}`));
  const text = await signNote(formatCheckpoint({ origin, size, rootHash }), [signerFor(origin, opts.key)]);
  if (opts.publish !== false) await publish(logId, text);
  const v = (versions.get(logId) ?? 0) + 1;
  const ok = await state.compareAndSwap(
    {
      logId,
      version: v,
      size,
      rootHash,
      rightEdge: new Uint8Array(0),
      seq: v,
      lastLeafHash: ZERO_HASH,
      lastReceivedAt: undefined,
      checkpoint: text,
      publishedVersion: v,
      sealedAt: clock.t,
      halted: undefined,
    },
    v - 1,
  );
  expect(ok).toBe(true);
  versions.set(logId, v);
  return text;
}

async function partition(pk: string): Promise<Record<string, AttributeValue>[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': { S: pk } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

function http(name: string, url: string, rootsPem: string, timeoutMs = 15_000): Timestamper {
  return new HttpTimestamper({ name, url, rootsPem, timeoutMs });
}

function service(timestampers: Timestamper[], quorum: number, opts: { archive?: ArchiveStore } = {}) {
  const metrics = new MemoryMetricsSink();
  const sleeps: number[] = [];
  const svc = new AnchorService({
    archive: opts.archive ?? archive,
    originPrefix: ORIGIN_PREFIX,
    logPublicKeys: [LOG_KEY.publicKeySpki],
    anchors,
    timestampers,
    quorum,
    clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    metrics,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { svc, metrics, sleeps };
}

async function opensslVerify(
  logId: string,
  size: number,
  tsaName: string,
  rootPath: string,
): Promise<string> {
  const tsr = await archive.get(anchorKeys(logId, size, tsaName).response);
  const cp = await archive.get(anchoredCheckpointKey(logId, size));
  if (!tsr || !cp) throw new Error('not archived');
  const dir = mkdtempSync(join(work, `${logId}-${tsaName}-`));
  writeFileSync(join(dir, 'token.tsr'), tsr);
  writeFileSync(join(dir, 'checkpoint'), cp);
  return execFileSync(
    'openssl',
    ['ts', '-verify', '-in', join(dir, 'token.tsr'), '-data', join(dir, 'checkpoint'), '-CAfile', rootPath],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

const principal = (id: string) => ({ id }) as unknown as Principal;
function route() {
  const scopes: string[] = [];
  const [r] = anchorRoutes({
    anchors,
    principals: {
      authorize: (p, _logId, scope) => {
        scopes.push(scope);
        if (p.id === 'nobody') throw new AppError('FORBIDDEN', 'no');
      },
    },
  });
  if (!r) throw new Error('no route');
  const get = (logId: string, query: Record<string, string> = {}, who = 'auditor') => {
    const req: HttpRequest = {
      method: 'GET',
      path: `/v1/logs/${logId}/anchors`,
      headers: {},
      query,
      pathParams: { logId },
      body: new Uint8Array(0),
      principal: principal(who),
      requestId: 'r',
    };
    return r.handle(req);
  };
  return { get, scopes };
}

describe('AnchorService.anchorLog with the two OpenSSL TSAs', () => {
  it('anchors the newest checkpoint; stored tokens pass openssl ts -verify; an idle log makes no TSA call', async () => {
    const ec = await counting(tsa.ecdsa.url);
    const rs = await counting(tsa.rsa.url);
    const { svc, metrics } = service([http('ecdsa', ec.url, roots.ecdsa), http('rsa', rs.url, roots.rsa)], 2);
    const text = await sealAt('happy', 3);

    const out = await svc.anchorLog('happy');
    expect(out).toMatchObject({
      status: 'anchored',
      size: 3,
      granted: 2,
      failures: 0,
      tsaCalls: 2,
      quorum: 2,
    });
    expect(new TextDecoder().decode(await archive.get(anchoredCheckpointKey('happy', 3)))).toBe(text);
    expect(await opensslVerify('happy', 3, 'ecdsa', tsa.ecdsa.rootCertPath)).toContain('Verification: OK');
    expect(await opensslVerify('happy', 3, 'rsa', tsa.rsa.rootCertPath)).toContain('Verification: OK');
    expect((await archive.head(anchorKeys('happy', 3, 'rsa').response))?.lockMode).toBe('COMPLIANCE');
    const chain = new TextDecoder().decode(await archive.get(anchorKeys('happy', 3, 'ecdsa').chain));
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(metrics.total('AnchorTsaGranted', { LogId: 'happy' })).toBe(2);
    expect(metrics.total('AnchorQuorumMissed')).toBe(0);

    // Idle: no TSA call, no write.
    const again = await svc.anchorLog('happy');
    expect(again).toMatchObject({ status: 'already-anchored', tsaCalls: 0, failures: 0 });
    expect([ec.requests(), rs.requests()]).toEqual([1, 1]);

    // The read route.
    const { get, scopes } = route();
    const res = await get('happy');
    expect(res.status).toBe(200);
    const body = JSON.parse(String(res.body));
    expect(scopes).toEqual(['proofs:read']);
    expect(body).toMatchObject({ logId: 'happy', size: 3, checkpoint: text });
    expect(body.quorum).toEqual({ required: 2, tsaCount: 2, granted: 2, met: true });
    expect(body.tsas.map((t: { name: string; status: string }) => [t.name, t.status])).toEqual([
      ['ecdsa', 'granted'],
      ['rsa', 'granted'],
    ]);
    for (const t of body.tsas) {
      expect(t.chain).toHaveLength(2);
      // The token from the API verifies offline against the pinned root, for the checkpoint text.
      const v = await verifyTimestamp(fromBase64(t.token), {
        expected: { data: utf8(text) },
        roots: [fromBase64(t.chain[1].replace(/-----[A-Z ]+-----|\s/g, ''))],
      });
      expect(v.genTime).toBe(t.genTime);
      expect(v.serialNumber).toBe(t.serialNumber);
    }
    expect((await get('happy', { size: '3' })).status).toBe(200);
    await expect(get('happy', { size: '4' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(get('happy', { size: '-1' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(get('happy', {}, 'nobody')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(get('never-anchored')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // A newer checkpoint: only it is anchored, and it becomes the default.
    await sealAt('happy', 8);
    expect(await svc.anchorLog('happy')).toMatchObject({ status: 'anchored', size: 8, tsaCalls: 2 });
    expect(JSON.parse(String((await get('happy')).body)).size).toBe(8);
  });

  it('a log without a checkpoint costs no TSA call', async () => {
    const ec = await counting(tsa.ecdsa.url);
    const { svc } = service([http('ecdsa', ec.url, roots.ecdsa)], 1);
    expect(await svc.anchorLog('unsealed')).toMatchObject({ status: 'no-checkpoint', tsaCalls: 0 });
    expect(ec.requests()).toBe(0);
  });

  it('k of n: one TSA down → anchored with a failure; it is retried every run until it grants', async () => {
    const ec = await counting(tsa.ecdsa.url);
    const rs = await counting(tsa.rsa.url);
    const third = await counting(tsa.ecdsa.url);
    third.ctl.broken = true;
    const { svc, metrics, sleeps } = service(
      [
        http('ecdsa', ec.url, roots.ecdsa),
        http('rsa', rs.url, roots.rsa),
        http('third', third.url, roots.ecdsa),
      ],
      2,
    );
    await sealAt('partial', 5);
    const first = await svc.anchorLog('partial');
    expect(first).toMatchObject({ status: 'anchored', granted: 2, failures: 1 });
    expect(first.tsas.find((t) => t.tsa === 'third')).toMatchObject({
      result: 'failed',
      attempts: 3,
      failure: { code: 'TSA_HTTP_STATUS' },
    });
    // Backoff with full jitter: within the doubling ceilings.
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThan(500);
    expect(sleeps[1]).toBeLessThan(1000);
    expect(await archive.head(anchorKeys('partial', 5, 'third').response)).toBeUndefined();
    expect(metrics.total('AnchorTsaFailure', { Tsa: 'third' })).toBe(1);
    const stored = await anchors.read('partial', 5);
    expect(stored.tsas.find((t) => t.tsa === 'third')).toMatchObject({
      status: 'failed',
      attempts: 3,
      failure: { code: 'TSA_HTTP_STATUS' },
    });

    // Next run: only the failing TSA is asked again.
    const second = await svc.anchorLog('partial');
    expect(second).toMatchObject({ status: 'anchored', failures: 1, tsaCalls: 3 });
    expect([ec.requests(), rs.requests(), third.requests()]).toEqual([1, 1, 6]);

    third.ctl.broken = false;
    expect(await svc.anchorLog('partial')).toMatchObject({
      status: 'anchored',
      granted: 3,
      failures: 0,
      tsaCalls: 1,
    });
    expect(await opensslVerify('partial', 5, 'third', tsa.ecdsa.rootCertPath)).toContain('Verification: OK');
    expect((await anchors.read('partial', 5)).tsas.find((t) => t.tsa === 'third')).toMatchObject({
      status: 'granted',
      attempts: 7,
    });
    expect(await svc.anchorLog('partial')).toMatchObject({ status: 'already-anchored', tsaCalls: 0 });
    expect(third.requests()).toBe(7);
  });

  const faults: Array<
    [string, () => Promise<{ url: string; roots: string; timeoutMs?: number }>, string, number]
  > = [
    ['refused port', async () => ({ url: await refusedUrl(), roots: roots.ecdsa }), 'TSA_UNREACHABLE', 3],
    [
      'HTTP 500',
      async () => ({
        url: (await fake(startFakeTsa((_b, r) => void r.writeHead(500).end()))).url,
        roots: roots.ecdsa,
      }),
      'TSA_HTTP_STATUS',
      3,
    ],
    [
      'hang',
      async () => ({ url: (await fake(startFakeTsa(() => {}))).url, roots: roots.ecdsa, timeoutMs: 300 }),
      'TSA_TIMEOUT',
      3,
    ],
    [
      'garbage',
      async () => ({
        url: (await fake(startFakeTsa((_b, r) => sendReply(r, utf8('not a token'))))).url,
        roots: roots.ecdsa,
      }),
      'MALFORMED',
      1,
    ],
    [
      'rejection status',
      async () => ({ url: (await fake(rewritingProxy(tsa.ecdsa.url, editSha1))).url, roots: roots.ecdsa }),
      'STATUS_NOT_GRANTED',
      1,
    ],
    [
      'other imprint',
      async () => ({ url: (await fake(rewritingProxy(tsa.ecdsa.url, editImprint))).url, roots: roots.ecdsa }),
      'IMPRINT_MISMATCH',
      1,
    ],
    [
      'other nonce',
      async () => ({ url: (await fake(rewritingProxy(tsa.rsa.url, editNonce))).url, roots: roots.rsa }),
      'NONCE_MISMATCH',
      1,
    ],
    ['root not pinned', async () => ({ url: tsa.ecdsa.url, roots: roots.rsa }), 'UNTRUSTED_ROOT', 1],
  ];

  for (const [i, [what, make, code, attempts]] of faults.entries()) {
    it(`a TSA failing by ${what} → ${code}, reported, never stored; below quorum`, async () => {
      const logId = `fault-${i}`;
      const bad = await make();
      const { svc, metrics } = service(
        [http('good', tsa.rsa.url, roots.rsa), http('bad', bad.url, bad.roots, bad.timeoutMs)],
        2,
      );
      await sealAt(logId, 2);
      const out = await svc.anchorLog(logId);
      expect(out).toMatchObject({ status: 'below-quorum', granted: 1, failures: 1 });
      expect(out.tsas.find((t) => t.tsa === 'bad')).toMatchObject({
        result: 'failed',
        attempts,
        failure: { code },
      });
      expect(await archive.head(anchorKeys(logId, 2, 'bad').response)).toBeUndefined();
      expect(await archive.head(anchorKeys(logId, 2, 'bad').chain)).toBeUndefined();
      const rec = await anchors.read(logId, 2);
      expect(rec.summary).toMatchObject({ granted: 1, quorumMet: false, quorum: 2, tsaCount: 2 });
      expect(rec.tsas.map((t) => [t.tsa, t.status, t.failure?.code])).toEqual([
        ['bad', 'failed', code],
        ['good', 'granted', undefined],
      ]);
      expect(metrics.total('AnchorQuorumMissed', { LogId: logId })).toBe(1);
      expect(metrics.total('AnchorTsaFailures', { LogId: logId })).toBe(1);
      const res = await route().get(logId);
      expect(JSON.parse(String(res.body)).quorum).toMatchObject({ met: false, granted: 1 });
    });
  }

  it('recovers a token archived by a run that died before recording it (adopts, asks no TSA)', async () => {
    const ec = await counting(tsa.ecdsa.url);
    const t = http('ecdsa', ec.url, roots.ecdsa);
    const text = await sealAt('crashed', 4);
    const token = await t.timestamp({ digest: sha256(utf8(text)), nonce: new Uint8Array(8).fill(1) });
    await archive.putImmutable(anchorKeys('crashed', 4, 'ecdsa').response, token.response);
    const { svc } = service([t], 1);
    const out = await svc.anchorLog('crashed');
    expect(out).toMatchObject({ status: 'anchored', tsaCalls: 0, tsas: [{ result: 'adopted' }] });
    expect(ec.requests()).toBe(1);
    expect((await anchors.read('crashed', 4)).tsas[0]?.granted?.serialNumber).toBe(token.serialNumber);
  });

  it('anchors recorded before issue #11 (under L#) are shown to readers but never trusted by the job', async () => {
    const logId = 'legacy-anchors';
    const ec = await counting(tsa.ecdsa.url);
    const rs = await counting(tsa.rsa.url);
    const { svc } = service([http('ecdsa', ec.url, roots.ecdsa), http('rsa', rs.url, roots.rsa)], 2);
    await sealAt(logId, 3);
    expect(await svc.anchorLog(logId)).toMatchObject({ status: 'anchored', tsaCalls: 2 });
    // A deployment from before issue #11: the anchor items live under L#<log>.
    const items = await partition(`A#${logId}`);
    expect(items.length).toBe(4); // summary, two TSAs, pointer
    for (const item of items) {
      await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, pk: { S: `L#${logId}` } } }));
      await ddb.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue },
        }),
      );
    }
    // Readers fall back to them (read-only), marked legacy.
    const { get } = route();
    const res = JSON.parse(String((await get(logId)).body));
    expect(res).toMatchObject({ size: 3, quorum: { granted: 2, met: true } });
    expect((await anchors.read(logId, 3)).tsas.map((t) => t.legacy)).toEqual([true, true]);

    // The job does not take "granted" from there: it re-adopts each token from
    // the archive (no TSA call) and records it under A#.
    const again = await svc.anchorLog(logId);
    expect(again).toMatchObject({ status: 'anchored', granted: 2, tsaCalls: 0 });
    expect(again.tsas.map((t) => t.result)).toEqual(['adopted', 'adopted']);
    expect((await anchors.read(logId, 3)).tsas.map((t) => t.legacy)).toEqual([undefined, undefined]);
    expect(await anchors.newestAnchoredSize(logId)).toBe(3);

    // Items planted under L# for a newer checkpoint (anyone with the ingest
    // role could write there) do not stop the job from asking the TSAs.
    await sealAt(logId, 5);
    for (const item of await partition(`A#${logId}`)) {
      const sk = item.sk?.S ?? '';
      if (!sk.includes('#TSA#')) continue;
      await ddb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: {
            ...item,
            pk: { S: `L#${logId}` },
            sk: { S: sk.replace(/^ANCHOR#\d{20}/, `ANCHOR#${'5'.padStart(20, '0')}`) },
          },
        }),
      );
    }
    expect(await svc.anchorLog(logId)).toMatchObject({
      status: 'anchored',
      size: 5,
      granted: 2,
      tsaCalls: 2,
    });
    expect([ec.requests(), rs.requests()]).toEqual([2, 2]);
  });

  it('forged "granted" records do not stop the next checkpoint being time-stamped; the disagreement is reported and repaired', async () => {
    const logId = 'forged-granted';
    const ec = await counting(tsa.ecdsa.url);
    const rs = await counting(tsa.rsa.url);
    const { svc, metrics } = service([http('ecdsa', ec.url, roots.ecdsa), http('rsa', rs.url, roots.rsa)], 2);
    await sealAt(logId, 1);
    expect(await svc.anchorLog(logId)).toMatchObject({ status: 'anchored', tsaCalls: 2 });
    // Whoever can write the anchor items copies size 1's granted records to the next sizes.
    const real = await anchors.read(logId, 1);
    for (let size = 2; size <= 5; size++)
      for (const t of real.tsas)
        await anchors.putGranted({ ...(t as typeof t & { status: 'granted' }), size });

    await sealAt(logId, 2);
    const run = await svc.anchorLog(logId);
    // Before the fix: { status: 'already-anchored', tsaCalls: 0 } and no token for size 2 anywhere.
    expect(run).toMatchObject({ status: 'anchored', size: 2, granted: 2, tsaCalls: 2 });
    expect(run.tsas.map((t) => [t.tsa, t.result, t.recordMismatch])).toEqual([
      ['ecdsa', 'granted', 'NO_ARCHIVED_TOKEN'],
      ['rsa', 'granted', 'NO_ARCHIVED_TOKEN'],
    ]);
    expect(metrics.total('AnchorRecordMismatch', { LogId: logId })).toBe(2);
    expect(await opensslVerify(logId, 2, 'ecdsa', tsa.ecdsa.rootCertPath)).toContain('Verification: OK');
    expect(await opensslVerify(logId, 2, 'rsa', tsa.rsa.rootCertPath)).toContain('Verification: OK');
    // The records now say what the archive holds, so readers and exports get the real tokens.
    for (const t of (await anchors.read(logId, 2)).tsas) {
      const response = await archive.get(anchorKeys(logId, 2, t.tsa).response);
      expect(t.granted?.responseKey).toBe(anchorKeys(logId, 2, t.tsa).response);
      expect(Buffer.from(response ?? []).includes(Buffer.from(t.granted?.token ?? [1]))).toBe(true);
    }
    expect(await svc.anchorLog(logId)).toMatchObject({ status: 'already-anchored', tsaCalls: 0 });
    expect(metrics.total('AnchorRecordMismatch', { LogId: logId })).toBe(2);
  });

  it('a granted record whose token differs from the archived one is re-adopted from the archive (no TSA call)', async () => {
    const logId = 'rewritten-granted';
    const ec = await counting(tsa.ecdsa.url);
    const { svc, metrics } = service([http('ecdsa', ec.url, roots.ecdsa)], 1);
    await sealAt(logId, 3);
    await svc.anchorLog(logId);
    const other = await anchors.read('forged-granted', 1);
    const [mine] = (await anchors.read(logId, 3)).tsas;
    const foreign = other.tsas.find((t) => t.tsa === 'ecdsa');
    if (!mine?.granted || !foreign?.granted) throw new Error('no granted records');
    // Replace the token in the record (the archive keeps the real one).
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          ...(await partition(`A#${logId}`)).find((i) => i.sk?.S?.endsWith('#TSA#ecdsa')),
          token: { B: foreign.granted.token },
        },
      }),
    );
    const fresh = service([http('ecdsa', ec.url, roots.ecdsa)], 1);
    const run = await fresh.svc.anchorLog(logId);
    expect(run).toMatchObject({ status: 'anchored', tsaCalls: 0 });
    expect(run.tsas).toMatchObject([{ result: 'adopted', recordMismatch: 'TOKEN_DIFFERS' }]);
    expect(fresh.metrics.total('AnchorRecordMismatch', { LogId: logId })).toBe(1);
    expect((await anchors.read(logId, 3)).tsas[0]?.granted?.token).toEqual(mine.granted.token);
    expect(ec.requests()).toBe(1);
    expect(metrics.total('AnchorRecordMismatch')).toBe(0);
  });

  it('an idle run checks each granted token against the archive once per process, not on every run', async () => {
    const logId = 'idle-cost';
    await sealAt(logId, 4);
    const timestampers = [http('ecdsa', tsa.ecdsa.url, roots.ecdsa), http('rsa', tsa.rsa.url, roots.rsa)];
    await service(timestampers, 2).svc.anchorLog(logId);
    const reads: string[] = [];
    const counted: ArchiveStore = {
      putImmutable: (k, b) => archive.putImmutable(k, b),
      getCheckpoint: (l) => archive.getCheckpoint(l),
      putCheckpoint: (l, t, e) => archive.putCheckpoint(l, t, e),
      get: (k) => {
        reads.push(k);
        return archive.get(k);
      },
      head: (k) => archive.head(k),
      getBounded: (k, max) => archive.getBounded(k, max),
      presignGet: (k, v, s) => archive.presignGet(k, v, s),
    };
    const { svc } = service(timestampers, 2, { archive: counted });
    expect(await svc.anchorLog(logId)).toMatchObject({ status: 'already-anchored', tsaCalls: 0 });
    expect(reads.sort()).toEqual([
      anchorKeys(logId, 4, 'ecdsa').response,
      anchorKeys(logId, 4, 'rsa').response,
    ]);
    reads.length = 0;
    expect(await svc.anchorLog(logId)).toMatchObject({ status: 'already-anchored', tsaCalls: 0 });
    expect(reads).toEqual([]);
  });

  it('time-stamps the checkpoint published in the archive, not the seal state’s', async () => {
    const logId = 'unpublished';
    const ec = await counting(tsa.ecdsa.url);
    const { svc } = service([http('ecdsa', ec.url, roots.ecdsa)], 1);
    const published = await sealAt(logId, 8);
    // A state ahead of the archive, signed by the log key but never published (a seal run that
    // died between its CAS and its publish, or a state written by someone holding the seal role).
    await sealAt(logId, 9, { publish: false });
    const run = await svc.anchorLog(logId);
    // Before the fix: size 9, the unpublished text.
    expect(run).toMatchObject({ status: 'anchored', size: 8 });
    expect(new TextDecoder().decode(await archive.get(anchoredCheckpointKey(logId, 8)))).toBe(published);
    expect(await archive.head(anchoredCheckpointKey(logId, 9))).toBeUndefined();
  });

  it('refuses (INTEGRITY, no TSA call) an archived checkpoint the log key did not sign', async () => {
    const logId = 'planted';
    const ec = await counting(tsa.ecdsa.url);
    const { svc } = service([http('ecdsa', ec.url, roots.ecdsa)], 1);
    await sealAt(logId, 6, { key: LocalNoteSigner.generate('another-key') });
    const err = await svc.anchorLog(logId).catch((e: unknown) => e);
    // Before the fix: the job stamped whatever text the seal state held.
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTEGRITY');
    expect(ec.requests()).toBe(0);
    expect(await archive.head(anchoredCheckpointKey(logId, 6))).toBeUndefined();
  });

  it('refuses a quorum larger than the TSA count', () => {
    expect(() => service([http('a', tsa.ecdsa.url, roots.ecdsa)], 2)).toThrow(AppError);
  });
});

describe('EMF metrics sink', () => {
  it('writes one CloudWatch EMF line per emission', () => {
    const lines: string[] = [];
    const sink = new EmfMetricsSink({ write: (l) => lines.push(l) });
    const e = {
      dimensions: { LogId: 'x' },
      metrics: [{ name: 'AnchorTsaFailures', value: 2, unit: 'Count' as const }],
      timestampMs: 1,
      properties: { status: 'below-quorum' },
    };
    sink.emit(e);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual(toEmf('anchorlog', e));
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [
          {
            Namespace: 'anchorlog',
            Dimensions: [['LogId']],
            Metrics: [{ Name: 'AnchorTsaFailures', Unit: 'Count' }],
          },
        ],
      },
      LogId: 'x',
      AnchorTsaFailures: 2,
      status: 'below-quorum',
    });
  });
});
