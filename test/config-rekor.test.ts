// src/config.ts, Rekor: ANCHORLOG_REKOR_URL with ANCHORLOG_REKOR_LOG_KEYS (vkeys, comma
// separated) and ANCHORLOG_REKOR_KEY_ID (the anchor key in KMS), read once; all or nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const BASE = { ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b' };
// The production Rekor v2 log key (test/fixtures/rekor/SOURCE.md).
const VKEY = (
  readFileSync(new URL('fixtures/rekor/rekor-prod-v2-log2025-1-idx547661/vkeys.txt', import.meta.url), 'utf8')
    .trim()
    .split(/\s+/)[0] as string
).trim();
const FULL = {
  ...BASE,
  ANCHORLOG_REKOR_URL: 'https://rekor.example',
  ANCHORLOG_REKOR_LOG_KEYS: VKEY,
  ANCHORLOG_REKOR_KEY_ID: 'alias/anchor',
};

describe('Rekor settings', () => {
  it('none by default', () => {
    expect(loadConfig(BASE).rekor).toBeUndefined();
  });

  it('parses URL, log keys and the anchor key; the party is named rekor by default', () => {
    const c = loadConfig(FULL);
    expect(c.rekor).toMatchObject({
      name: 'rekor',
      url: 'https://rekor.example',
      anchorKeyId: 'alias/anchor',
    });
    expect(c.rekor?.logKeys.map((k) => k.name)).toEqual(['log2025-1.rekor.sigstore.dev']);
    expect(loadConfig({ ...FULL, ANCHORLOG_REKOR_LOG_KEYS: `${VKEY}, ${VKEY}` }).rekor?.logKeys).toHaveLength(
      2,
    );
    expect(loadConfig({ ...FULL, ANCHORLOG_REKOR_NAME: 'sigstore' }).rekor?.name).toBe('sigstore');
  });

  it.each([
    ['keys without a URL', { ...BASE, ANCHORLOG_REKOR_LOG_KEYS: VKEY }],
    ['a URL without keys', { ...FULL, ANCHORLOG_REKOR_LOG_KEYS: undefined }],
    ['a URL without an anchor key', { ...FULL, ANCHORLOG_REKOR_KEY_ID: undefined }],
    ['a URL that is not http(s)', { ...FULL, ANCHORLOG_REKOR_URL: 'ftp://x' }],
    ['a key that is not a vkey', { ...FULL, ANCHORLOG_REKOR_LOG_KEYS: 'nope' }],
    ['a bad party name', { ...FULL, ANCHORLOG_REKOR_NAME: 'Bad Name' }],
    [
      'a party named like a TSA',
      {
        ...FULL,
        ANCHORLOG_REKOR_NAME: 'tsa-a',
        ANCHORLOG_TSAS: JSON.stringify([{ name: 'tsa-a', url: 'https://t.example', rootsPem: 'x' }]),
      },
    ],
  ])('refuses %s', (_why, env) => {
    expect(() => loadConfig(env as Record<string, string>)).toThrow(ConfigError);
  });
});
