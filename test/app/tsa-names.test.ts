/**
 * One rule for TSA names (issue #12): a name the configuration accepts is one
 * the anchor job, the archive keys, the bundle writer and the offline
 * verifier all accept. TSA names are often domains (`freetsa.org`), so the
 * rule admits dots; before it was one rule, such a TSA anchored fine and then
 * every export containing its anchors was refused.
 *
 * Real parts throughout: loadConfig reads ANCHORLOG_TSAS, the anchor job asks
 * the harness's OpenSSL TSAs, the stores are DynamoDB and S3 in moto, and the
 * bundle is verified by the same verifier as `anchorlog verify`.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { verifyBundle } from '../../src/core/bundle/index.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import { harnessTsas } from '../support/tsa.ts';
import { appendAt, sealAndAnchor } from './export-harness.ts';
import { exportEnv, type MotoExportEnv } from './export-moto.ts';

const LOG = 'dotted-tsas';
const BASE = { ANCHORLOG_TABLE: 'unused', ANCHORLOG_ARCHIVE_BUCKET: 'unused' };

let env: MotoExportEnv;
let roots: string[];

beforeAll(async () => {
  const tsa = harnessTsas();
  roots = [readFileSync(tsa.ecdsa.rootCertPath, 'utf8'), readFileSync(tsa.rsa.rootCertPath, 'utf8')];
  const config = loadConfig({
    ...BASE,
    ANCHORLOG_TSAS: JSON.stringify([
      { name: 'freetsa.org', url: tsa.ecdsa.url, rootsPem: roots[0] },
      { name: 'tsa_2.example.com', url: tsa.rsa.url, rootsPem: roots[1] },
    ]),
  });
  env = await exportEnv('tsa-names', { tsas: config.tsas });
  await env.logRegistry.createLog(LOG);
}, 120_000);

describe('a TSA named like a domain', () => {
  it('anchors, exports, and the bundle verifies with its anchors', async () => {
    await appendAt(env, LOG, '2026-02-01T00:00:00.000Z', [
      { action: 'tool.call', actor: 'u', target: 'a' },
      { action: 'tool.call', actor: 'u', target: 'b' },
    ]);
    expect(await sealAndAnchor(env, LOG)).toBe(2);

    const chunks: Uint8Array[] = [];
    await env.exporter().export(LOG, { from: '2026-02-01', to: '2026-02-02' }, (c) => void chunks.push(c));
    const report = await verifyBundle(chunks, {
      logKeys: [env.vkey(LOG)],
      tsaRoots: roots.flatMap((p) => decodePemCertificates(p)),
    });
    expect(report.anchors.map((a) => a.tsa).sort()).toEqual(['freetsa.org', 'tsa_2.example.com']);
    expect(report.ok).toBe(true);
  });
});

describe('a TSA name no part of the system accepts', () => {
  it.each([
    ['Upper.Case'],
    ['has space'],
    ['.leading-dot'],
    ['-leading-dash'],
    ['a/b'],
    ['a#b'],
    ['x'.repeat(64)],
  ])('%s is refused when the configuration is loaded', (name) => {
    let err: unknown;
    try {
      loadConfig({ ...BASE, ANCHORLOG_TSAS: JSON.stringify([{ name, url: 'http://tsa', rootsPem: 'x' }]) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('ANCHORLOG_TSAS[0].name');
  });
});
