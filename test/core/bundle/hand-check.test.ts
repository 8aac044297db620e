/**
 * The README's promise: an auditor with tar, sha256sum, base64 and openssl
 * can check the parts by hand. These run the README's commands, verbatim, on
 * a real bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { exportBundle, makeLog, type TestLog, TSA_ROOTS_PEM } from './fixture.ts';

let dir: string;
let log: TestLog;
let readme: string;

const sh = (cmd: string, cwd = join(dir, 'b')) =>
  execFileSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anchorlog-bundle-'));
  log = makeLog(40);
  const bundle = await exportBundle(log, {
    fromTime: '2025-06-01T00:10:00.000Z',
    toTime: '2025-06-01T00:20:00.000Z',
    checkpoints: [25, 40],
  });
  writeFileSync(join(dir, 'bundle.tar'), bundle);
  writeFileSync(join(dir, 'b-roots.pem'), TSA_ROOTS_PEM[0] as string);
  sh('mkdir b && tar -xf bundle.tar -C b', dir);
  readme = readFileSync(join(dir, 'b', 'README.txt'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundle: checking by hand', () => {
  it('tar -tf lists the members in the documented order', () => {
    const list = sh('tar -tf bundle.tar', dir).trim().split('\n');
    expect(list).toEqual([
      'README.txt',
      'header.json',
      'keys/log.vkey',
      'keys/log.pem',
      'checkpoints/25.note',
      'checkpoints/40.note',
      'consistency.json',
      'anchors/40/test-ecdsa.tsr',
      'anchors/40/test-ecdsa.chain.pem',
      'anchors/40/test-rsa.tsr',
      'anchors/40/test-rsa.chain.pem',
      'attestations.json',
      'proofs.json',
      'records/000000.jsonl',
      'SHA256SUMS',
      'manifest.json',
    ]);
  });

  it('sha256sum -c SHA256SUMS passes, and fails after an edit', () => {
    expect(readme).toContain('sha256sum -c SHA256SUMS');
    const out = sh('sha256sum -c SHA256SUMS');
    expect(out).toContain('records/000000.jsonl: OK');
    expect(out).not.toContain('FAILED');
    sh('cp -r . ../c && printf x >> ../c/README.txt');
    expect(() => sh('sha256sum -c --quiet SHA256SUMS', join(dir, 'c'))).toThrow();
  });

  it("openssl verifies the checkpoint signature with the README's commands", () => {
    const cmds = [
      "sed '/^$/,$d' checkpoints/40.note > body.txt",
      `grep '^— ${log.origin} ' checkpoints/40.note | head -n 1 | cut -d ' ' -f 3 \\\n         | base64 -d | tail -c +5 > sig.der`,
      'openssl dgst -sha256 -verify keys/log.pem -signature sig.der body.txt',
    ];
    for (const c of cmds) expect(readme).toContain(c);
    const out = sh(cmds.join('\n'));
    expect(out).toContain('Verified OK');
  });

  it("openssl ts -verify checks the time-stamp with the README's command", () => {
    const cmd =
      'openssl ts -verify -in anchors/40/test-ecdsa.tsr -data checkpoints/40.note \\\n         -CAfile tsa-roots.pem -untrusted anchors/40/test-ecdsa.chain.pem';
    expect(readme).toContain(cmd);
    sh('cp ../b-roots.pem tsa-roots.pem');
    expect(sh(`${cmd} 2>&1`)).toContain('Verification: OK');
  });

  it("the README's leaf-hash command reproduces the next record's prev", () => {
    const cmd =
      "(printf '\\000'; sed -n '1p' records/000000.jsonl | head -c -1) | openssl dgst -sha256 -binary | base64";
    expect(readme).toContain(cmd);
    const hash = sh(cmd).trim();
    const second = JSON.parse(sh("sed -n '2p' records/000000.jsonl")) as { prev: string };
    expect(hash).toBe(second.prev);
  });
});

describe('bundle: checking by hand, Ed25519 log key', () => {
  it("openssl verifies an Ed25519 checkpoint signature with the README's commands", async () => {
    const edDir = mkdtempSync(join(tmpdir(), 'anchorlog-bundle-ed-'));
    try {
      const edLog = makeLog(30, { signer: LocalNoteSigner.generate('anchorlog.test/tenant-a', 'ed25519') });
      const bundle = await exportBundle(edLog, {
        fromTime: '2025-06-01T00:05:00.000Z',
        toTime: '2025-06-01T00:10:00.000Z',
      });
      writeFileSync(join(edDir, 'bundle.tar'), bundle);
      sh('mkdir b && tar -xf bundle.tar -C b', edDir);
      const text = readFileSync(join(edDir, 'b', 'README.txt'), 'utf8');
      const cmds = [
        "sed '/^$/,$d' checkpoints/30.note > body.txt",
        `grep '^— ${edLog.origin} ' checkpoints/30.note | head -n 1 | cut -d ' ' -f 3 \\\n         | base64 -d | tail -c +5 > sig.bin`,
        'openssl pkeyutl -verify -pubin -inkey keys/log.pem -rawin -in body.txt -sigfile sig.bin',
      ];
      for (const c of cmds) expect(text).toContain(c);
      expect(sh(cmds.join('\n'), join(edDir, 'b'))).toContain('Signature Verified Successfully');
    } finally {
      rmSync(edDir, { recursive: true, force: true });
    }
  });
});
