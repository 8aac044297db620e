// KmsNoteSigner against a real moto_server (KMS emulator): checkpoints it
// signs verify with the core verifier and with `openssl dgst -verify`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsNoteSigner } from '../../../src/adapters/aws/kms-signer.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import {
  checkpointFromNote,
  formatCheckpoint,
  parseNote,
  parseVerifierKey,
  signNote,
  spkiToPem,
  vkeyFromSpki,
} from '../../../src/core/note/index.ts';
import { SignerError } from '../../../src/ports/signer.ts';
import { awsClientConfig } from '../../support/aws.ts';

const origin = 'audit.example/tenant-1';

let client: KMSClient;
let tmp: string;

async function createKey(KeySpec: 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'SYMMETRIC_DEFAULT'): Promise<string> {
  const out = await client.send(
    new CreateKeyCommand({
      KeySpec,
      KeyUsage: KeySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY',
    }),
  );
  const id = out.KeyMetadata?.KeyId;
  if (!id) throw new Error('CreateKey returned no key id');
  return id;
}

async function signerError(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(SignerError);
    return (err as SignerError).code;
  }
  return 'NO_ERROR';
}

function opensslVerify(pem: string, sig: Uint8Array, body: string): boolean {
  const pub = join(tmp, 'pub.pem');
  const sigPath = join(tmp, 'sig.der');
  const bodyPath = join(tmp, 'body.txt');
  writeFileSync(pub, pem);
  writeFileSync(sigPath, sig);
  writeFileSync(bodyPath, body);
  try {
    const out = execFileSync(
      'openssl',
      ['dgst', '-sha256', '-verify', pub, '-signature', sigPath, bodyPath],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ).toString();
    return out.trim() === 'Verified OK';
  } catch {
    return false;
  }
}

beforeAll(async () => {
  client = new KMSClient(awsClientConfig());
  tmp = mkdtempSync(join(tmpdir(), 'anchorlog-kms-'));
});

afterAll(async () => {
  client?.destroy();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('KmsNoteSigner (moto)', () => {
  // The key ID, signatures that verify, MESSAGE_TOO_LARGE: test/contracts/signer.contract.ts
  // (run against this adapter by test/contracts/aws.test.ts). Here: openssl interop, start-up checks, faults.
  it('signs checkpoints that verify with the core verifier and with openssl', async () => {
    const keyId = await createKey('ECC_NIST_P256');
    // Record which commands reach KMS: the public key is fetched once, not per signature.
    const sent: string[] = [];
    const counting = {
      send: (cmd: { constructor: { name: string } }) => {
        sent.push(cmd.constructor.name);
        return client.send(cmd as never);
      },
    } as unknown as KMSClient;
    const signer = await KmsNoteSigner.create({ client: counting, kmsKeyId: keyId, keyName: origin });
    const verifier = parseVerifierKey(vkeyFromSpki(origin, signer.publicKeySpki));
    const pem = spkiToPem(signer.publicKeySpki);
    for (let size = 1; size <= 5; size++) {
      const body = formatCheckpoint({ origin, size, rootHash: sha256(utf8(`root ${size}`)) });
      const note = await signNote(body, [signer]);
      const cp = checkpointFromNote(note, origin, [verifier]);
      expect(cp.size).toBe(size);
      const sig = parseNote(note).signatures[0]?.signature as Uint8Array;
      expect(opensslVerify(pem, sig, body)).toBe(true);
      // And openssl agrees the signature covers exactly the body.
      expect(opensslVerify(pem, sig, body.replace(`\n${size}\n`, `\n${size + 1}\n`))).toBe(false);
    }
    expect(sent.filter((n) => n === 'GetPublicKeyCommand')).toHaveLength(1);
    expect(sent.filter((n) => n === 'SignCommand')).toHaveLength(5);
  });

  it('refuses keys that are not P-256 signing keys at start-up', async () => {
    const p384 = await createKey('ECC_NIST_P384');
    expect(await signerError(() => KmsNoteSigner.create({ client, kmsKeyId: p384, keyName: origin }))).toBe(
      'KEY_MISCONFIGURED',
    );
    const sym = await createKey('SYMMETRIC_DEFAULT');
    expect(await signerError(() => KmsNoteSigner.create({ client, kmsKeyId: sym, keyName: origin }))).toBe(
      'KEY_MISCONFIGURED',
    );
    const missing = '11111111-2222-3333-4444-555555555555';
    expect(
      await signerError(() => KmsNoteSigner.create({ client, kmsKeyId: missing, keyName: origin })),
    ).toBe('KEY_MISCONFIGURED');
  });

  it('reports an unreachable KMS as SIGNER_UNAVAILABLE (retryable)', async () => {
    const dead = new KMSClient({ ...awsClientConfig(), endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    expect(
      await signerError(() => KmsNoteSigner.create({ client: dead, kmsKeyId: 'k', keyName: origin })),
    ).toBe('SIGNER_UNAVAILABLE');
    dead.destroy();
  });
});
