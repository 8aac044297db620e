// src/config.ts, witnesses: ANCHORLOG_WITNESSES is a JSON array of {name, url, vkey}
// (cosignature/v1 vkeys), read once; ANCHORLOG_WITNESS_QUORUM is k within 0..n.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { cosignerFromSecret, formatCosignerKey } from '../src/core/witness/index.ts';

const BASE = { ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b' };
const vkey = (n: number, name = `w${n}.example`) =>
  formatCosignerKey(cosignerFromSecret(name, new Uint8Array(32).fill(n)));
const list = (...w: object[]) => JSON.stringify(w);

describe('witness settings', () => {
  it('none by default', () => {
    const c = loadConfig(BASE);
    expect(c.witnesses).toEqual([]);
    expect(c.witnessQuorum).toBe(0);
  });

  it('parses the list and defaults the quorum to min(2, n)', () => {
    const c = loadConfig({
      ...BASE,
      ANCHORLOG_WITNESSES: list(
        { name: 'w-one', url: 'https://w1.example/', vkey: vkey(1) },
        { name: 'w-two', url: 'https://w2.example/', vkey: vkey(2) },
        { name: 'w-three', url: 'http://w3.example', vkey: vkey(3) },
      ),
    });
    expect(c.witnesses?.map((w) => [w.name, w.cosigner.name])).toEqual([
      ['w-one', 'w1.example'],
      ['w-two', 'w2.example'],
      ['w-three', 'w3.example'],
    ]);
    expect(c.witnessQuorum).toBe(2);
    expect(
      loadConfig({ ...BASE, ANCHORLOG_WITNESSES: list({ name: 'a', url: 'https://a', vkey: vkey(1) }) })
        .witnessQuorum,
    ).toBe(1);
  });

  it.each([
    ['not JSON', { ANCHORLOG_WITNESSES: '[' }],
    ['not an array', { ANCHORLOG_WITNESSES: '{}' }],
    ['a missing vkey', { ANCHORLOG_WITNESSES: list({ name: 'a', url: 'https://a' }) }],
    ['a bad name', { ANCHORLOG_WITNESSES: list({ name: 'A B', url: 'https://a', vkey: vkey(1) }) }],
    [
      'a name twice',
      {
        ANCHORLOG_WITNESSES: list(
          { name: 'a', url: 'https://a', vkey: vkey(1) },
          { name: 'a', url: 'https://b', vkey: vkey(2) },
        ),
      },
    ],
    [
      'a URL that is not http(s)',
      { ANCHORLOG_WITNESSES: list({ name: 'a', url: 'ftp://a', vkey: vkey(1) }) },
    ],
    [
      'a log (0x01) key',
      {
        ANCHORLOG_WITNESSES: list({
          name: 'a',
          url: 'https://a',
          vkey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
        }),
      },
    ],
    [
      'one key for two witnesses',
      {
        ANCHORLOG_WITNESSES: list(
          { name: 'a', url: 'https://a', vkey: vkey(1) },
          {
            name: 'b',
            url: 'https://b',
            vkey: formatCosignerKey(cosignerFromSecret('other.example', new Uint8Array(32).fill(1))),
          },
        ),
      },
    ],
    [
      'a quorum above n',
      {
        ANCHORLOG_WITNESSES: list({ name: 'a', url: 'https://a', vkey: vkey(1) }),
        ANCHORLOG_WITNESS_QUORUM: '2',
      },
    ],
    ['a negative quorum', { ANCHORLOG_WITNESS_QUORUM: '-1' }],
  ])('refuses %s at start-up', (_, env) => {
    expect(() => loadConfig({ ...BASE, ...env })).toThrow(ConfigError);
  });
});
