import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBlob, encodeBlob } from '../../src/adapters/aws/dynamo-log-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { fromUtf8, utf8 } from '../../src/core/bytes.ts';
import { spkiToPem } from '../../src/core/note/pem.ts';
import { parseNote } from '../../src/core/note/signed-note.ts';
import { checkpointKey } from '../../src/ports/archive-store.ts';
import {
  appendEvents,
  archivedCheckpointSizes,
  checkInvariants,
  createKmsKey,
  type Env,
  kmsSigner,
  listVersions,
  localSigner,
  makeEnv,
  newLog,
  provision,
  sealer,
  TABLE,
} from './seal-harness.ts';

let env: Env;

beforeAll(async () => {
  env = makeEnv();
  await provision(env);
});

describe('SealService.sealLog', () => {
  it('an empty or idle log costs no write and no signature', async () => {
    await newLog(env, 'idle');
    const svc = sealer(env, localSigner);
    env.faults.arm();
    const r = await svc.sealLog('idle');
    expect(r).toMatchObject({ status: 'idle', size: 0, checkpoint: undefined });
    // Never sealed: the seal state's current location is empty, so its legacy
    // location (before issue #11) is probed too. No archive read.
    expect(env.faults.calls.map((c) => c.command)).toEqual([
      'GetItemCommand',
      'GetItemCommand',
      'BatchGetItemCommand',
    ]);

    await appendEvents(env, 'idle', 3);
    expect((await svc.sealLog('idle')).status).toBe('sealed');
    env.faults.arm();
    const again = await svc.sealLog('idle');
    expect(again).toMatchObject({ status: 'idle', size: 3, stats: { tilesWritten: 0, signatures: 0 } });
    // Reads only: the seal state and one probe for a next batch.
    expect(env.faults.calls.map((c) => c.command)).toEqual(['GetItemCommand', 'BatchGetItemCommand']);
    env.faults.disarm();
  });

  it('seals many small batches, run after run, each checkpoint consistent with the last', async () => {
    await newLog(env, 'small');
    const svc = sealer(env, localSigner);
    let size = 0;
    for (let round = 0; round < 5; round++) {
      for (let b = 0; b < 10; b++) await appendEvents(env, 'small', 3 + ((round + b) % 7));
      const r = await svc.sealLog('small');
      expect(r.status).toBe('sealed');
      expect(r.previousSize).toBe(size);
      size = r.size;
      expect(await checkInvariants(env, 'small', localSigner)).toBe(size);
    }
    expect(size).toBeGreaterThan(256); // crossed a full tile
    expect((await archivedCheckpointSizes(env, 'small')).sort((a, b) => a - b)).toHaveLength(5);
  });

  it('seals one big batch (1,000 events) in one run and bounds a run by maxRecordsPerRun', async () => {
    await newLog(env, 'big');
    await appendEvents(env, 'big', 1000);
    const r = await sealer(env, localSigner).sealLog('big');
    expect(r).toMatchObject({ status: 'sealed', size: 1000, more: false });
    await checkInvariants(env, 'big', localSigner);

    await newLog(env, 'bounded');
    for (let i = 0; i < 10; i++) await appendEvents(env, 'bounded', 100);
    const svc = sealer(env, localSigner, { maxRecordsPerRun: 250, batchPage: 3 });
    const sizes: number[] = [];
    for (;;) {
      const s = await svc.sealLog('bounded');
      sizes.push(s.size);
      if (!s.more) break;
    }
    expect(sizes).toEqual([200, 400, 600, 800, 1000]);
    await checkInvariants(env, 'bounded', localSigner);
  });

  it('a single batch larger than maxRecordsPerRun is still sealed whole', async () => {
    await newLog(env, 'onebig');
    await appendEvents(env, 'onebig', 600);
    const r = await sealer(env, localSigner, { maxRecordsPerRun: 100 }).sealLog('onebig');
    expect(r.size).toBe(600);
    await checkInvariants(env, 'onebig', localSigner);
  });

  it('a tampered stored record is a fatal INTEGRITY error; nothing is published and the log halts', async () => {
    await newLog(env, 'tamper');
    await appendEvents(env, 'tamper', 5);
    const svc = sealer(env, localSigner);
    await svc.sealLog('tamper');
    await appendEvents(env, 'tamper', 4);
    await appendEvents(env, 'tamper', 4);
    // Edit the first record of batch 2 in DynamoDB: change the action, keep the item well-formed.
    const key = { pk: { S: 'L#tamper#B#0000000000000002' }, sk: { S: 'B' } };
    const item = (await env.ddb.send(new GetItemCommand({ TableName: TABLE, Key: key }))).Item;
    if (!item?.blob?.B || !item.enc?.S) throw new Error('unexpected batch item shape');
    const records: Uint8Array[] = decodeBlob(item.enc.S, item.blob.B).map((r) => r.slice());
    records[0] = utf8(fromUtf8(records[0] as Uint8Array).replace('"tool.call"', '"tool.xall"'));
    const { enc, blob } = encodeBlob(records);
    await env.ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { ...item, enc: { S: enc }, blob: { B: new Uint8Array(blob) } },
      }),
    );
    const before = await listVersions(env.s3, 'logs/tamper/');

    const err = await svc.sealLog('tamper').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTEGRITY');
    expect(await listVersions(env.s3, 'logs/tamper/')).toEqual(before);
    const st = await env.state.read('tamper');
    expect(st?.size).toBe(5);
    expect(st?.halted).toMatch(/record 6/);
    // Halted: later runs refuse without touching anything.
    env.faults.arm();
    await expect(sealer(env, localSigner).sealLog('tamper')).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(env.faults.calls.map((c) => c.command)).toEqual(['GetItemCommand']);
    env.faults.disarm();
  });

  it('an archive object that disagrees with the records (a fork) is fatal: halt, publish nothing', async () => {
    await newLog(env, 'fork');
    await appendEvents(env, 'fork', 3);
    // Someone (a buggy earlier sealer, an attacker) put a different bundle where ours goes.
    await env.archive.putImmutable('logs/fork/tile/entries/000.p/3', utf8('not our records'));
    const err = await sealer(env, localSigner)
      .sealLog('fork')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTEGRITY' });
    expect(await env.archive.get(checkpointKey('fork'))).toBeUndefined();
    expect((await env.state.read('fork'))?.halted).toMatch(/different bytes/);
  });

  it('KMS end to end: the served checkpoint verifies with openssl over its body', async () => {
    const kmsKey = await createKmsKey(env.kms);
    const signer = await kmsSigner(env, kmsKey);
    await newLog(env, 'kms');
    await appendEvents(env, 'kms', 300);
    const r = await sealer(env, signer).sealLog('kms');
    expect(r.size).toBe(300);
    await checkInvariants(env, 'kms', signer);

    const served = fromUtf8((await env.archive.get(checkpointKey('kms'))) as Uint8Array);
    const note = parseNote(served);
    const sig = note.signatures[0];
    if (!sig) throw new Error('no signature');
    const dir = mkdtempSync(join(tmpdir(), 'seal-openssl-'));
    writeFileSync(join(dir, 'body'), note.text);
    writeFileSync(join(dir, 'sig.der'), sig.signature);
    writeFileSync(join(dir, 'key.pem'), spkiToPem(signer.publicKeySpki));
    const out = execFileSync(
      'openssl',
      [
        'dgst',
        '-sha256',
        '-verify',
        join(dir, 'key.pem'),
        '-signature',
        join(dir, 'sig.der'),
        join(dir, 'body'),
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('Verified OK');
    expect(note.text).toBe(`seal.test.anchorlog/kms\n300\n${note.text.split('\n')[2]}\n`);
  });
});
