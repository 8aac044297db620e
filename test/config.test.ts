// src/config.ts: the environment names secrets and never holds them; the
// cursor key and TSA credentials are read from a SecretSource (here the
// in-memory one, held to the same contract as Secrets Manager's adapter by
// test/contracts/) with a ConfigError, by code, for every way they can be
// missing or wrong.
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../src/adapters/memory/local-signer.ts';
import { MemorySecretSource } from '../src/adapters/memory/secret-source.ts';
import {
  type AppConfig,
  ConfigError,
  type ConfigErrorCode,
  loadConfig,
  loadCursorKey,
  loadTsaCredentials,
} from '../src/config.ts';
import { pemToSpki, spkiToPem } from '../src/core/note/pem.ts';
import { SecretError } from '../src/ports/secret-source.ts';

const BASE = { ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b' };
const TSAS = [
  { name: 'tsa-a', url: 'https://tsa-a.example/', rootsPem: '-----BEGIN CERTIFICATE-----' },
  { name: 'tsa-b', url: 'https://tsa-b.example/', rootsPem: '-----BEGIN CERTIFICATE-----' },
];
const KEY_TEXT = 'Zq3v8Hn2Wc7Lp4Tx9Bd6Fs1Km5Rj0Ya8Ue3Ni7Og2';

let source: MemorySecretSource;

async function configError(
  p: Promise<unknown> | (() => unknown),
  code: ConfigErrorCode,
): Promise<ConfigError> {
  const err =
    typeof p === 'function'
      ? (() => {
          try {
            p();
          } catch (e) {
            return e;
          }
        })()
      : await p.then(
          () => undefined,
          (e: unknown) => e,
        );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe(code);
  return err as ConfigError;
}

const config = (env: Record<string, string>): AppConfig => loadConfig({ ...BASE, ...env });

beforeAll(() => {
  source = new MemorySecretSource();
});

describe('loadConfig: no secret values in the environment', () => {
  it('refuses a plain cursor key, even an empty one, and names the setting to use instead', async () => {
    for (const value of ['', 'x'.repeat(44)]) {
      const err = await configError(
        () => config({ ANCHORLOG_QUERY_CURSOR_KEY: value }),
        'SECRET_IN_ENVIRONMENT',
      );
      expect(err.message).toContain('ANCHORLOG_QUERY_CURSOR_KEY_SECRET');
      if (value) expect(err.message).not.toContain(value);
    }
  });

  it('refuses TSA credentials inside ANCHORLOG_TSAS, and malformed TSA lists', async () => {
    const withAuth = JSON.stringify([{ ...TSAS[0], authorization: 'Basic c2VjcmV0' }]);
    const err = await configError(() => config({ ANCHORLOG_TSAS: withAuth }), 'SECRET_IN_ENVIRONMENT');
    expect(err.message).toContain('ANCHORLOG_TSA_CREDENTIALS_SECRET');
    expect(err.message).not.toContain('c2VjcmV0');
    for (const bad of ['{', '{}', '[1]', JSON.stringify([{ name: 'a' }]), JSON.stringify([TSAS[0], TSAS[0]])])
      await configError(() => config({ ANCHORLOG_TSAS: bad }), 'INVALID_SETTING');
  });

  it('keeps the secret names it is given, and nothing else', () => {
    const c = config({
      ANCHORLOG_TSAS: JSON.stringify(TSAS),
      ANCHORLOG_QUERY_CURSOR_KEY_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:k',
      ANCHORLOG_TSA_CREDENTIALS_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:t',
    });
    expect(c.secrets).toEqual({
      queryCursorKey: 'arn:aws:secretsmanager:us-east-1:1:secret:k',
      tsaCredentials: 'arn:aws:secretsmanager:us-east-1:1:secret:t',
    });
    expect(c.tsas).toEqual(TSAS);
    expect(config({}).secrets).toEqual({});
  });

  it('a missing required setting is MISSING_SETTING', async () => {
    await configError(() => loadConfig({ ANCHORLOG_TABLE: 't' }), 'MISSING_SETTING');
  });
});

describe('loadConfig: the query hot window and the export limits (read here, not in the handlers)', () => {
  it('unset or empty: undefined, so each use case keeps its documented default', () => {
    const unset: Record<string, string>[] = [
      {},
      { ANCHORLOG_QUERY_HOT_DAYS: '', ANCHORLOG_EXPORT_MAX_RECORDS: '' },
    ];
    for (const env of unset) {
      const c = config(env);
      expect(c.queryHotWindowMs).toBeUndefined();
      expect(c.exportLimits).toEqual({});
    }
  });

  it('ANCHORLOG_QUERY_HOT_DAYS in days, as ms; the export limits as given', () => {
    const c = config({
      ANCHORLOG_QUERY_HOT_DAYS: '7',
      ANCHORLOG_EXPORT_MAX_RECORDS: '5000',
      ANCHORLOG_EXPORT_URL_TTL_SECONDS: '600',
    });
    expect(c.queryHotWindowMs).toBe(7 * 86_400_000);
    expect(c.exportLimits).toEqual({ maxRecords: 5000, urlTtlSeconds: 600 });
  });

  it('maximum key age per kind in days, as ms: defaults 90/365/90, 0 turns expiry off', () => {
    expect(config({}).keyMaxAgeMs).toEqual({
      human: 90 * 86_400_000,
      application: 365 * 86_400_000,
      agent: 90 * 86_400_000,
      countFrom: Date.UTC(2026, 11, 1),
    });
    const c = config({
      ANCHORLOG_ROTATION_DAYS_HUMAN: '30',
      ANCHORLOG_ROTATION_DAYS_AGENT: '0',
      ANCHORLOG_ROTATION_COUNT_FROM: '2027-01-15',
    });
    expect(c.keyMaxAgeMs).toEqual({
      human: 30 * 86_400_000,
      application: 365 * 86_400_000,
      agent: 0,
      countFrom: Date.UTC(2027, 0, 15),
    });
  });

  it('SCIM owned-principal policy and the admin plane: defaults flag, no break-glass, keys for humans', async () => {
    expect(config({})).toMatchObject({ scimOwnedPrincipals: 'flag', adminHumansViaIam: false });
    expect(config({}).breakGlass).toBeUndefined();
    expect(
      config({
        ANCHORLOG_SCIM_OWNED_PRINCIPALS: 'disable',
        ANCHORLOG_BREAK_GLASS_PRINCIPAL: 'ops-admin',
        ANCHORLOG_ADMIN_HUMANS_VIA_IAM: 'true',
      }),
    ).toMatchObject({
      scimOwnedPrincipals: 'disable',
      breakGlass: { principalId: 'ops-admin', enabled: false },
      adminHumansViaIam: true,
    });
    expect(
      config({ ANCHORLOG_BREAK_GLASS_PRINCIPAL: 'ops-admin', ANCHORLOG_BREAK_GLASS: 'enabled' }).breakGlass,
    ).toEqual({ principalId: 'ops-admin', enabled: true });
    for (const [key, bad] of [
      ['ANCHORLOG_SCIM_OWNED_PRINCIPALS', 'delete'],
      ['ANCHORLOG_BREAK_GLASS', 'yes'],
      ['ANCHORLOG_ADMIN_HUMANS_VIA_IAM', '1'],
    ] as const) {
      const err = await configError(() => config({ [key]: bad }), 'INVALID_SETTING');
      expect(err.message).toContain(key);
    }
  });

  it('out of range or not an integer is INVALID_SETTING, naming the setting', async () => {
    for (const [key, bad] of [
      ['ANCHORLOG_QUERY_HOT_DAYS', '1'],
      ['ANCHORLOG_QUERY_HOT_DAYS', '2.5'],
      ['ANCHORLOG_QUERY_HOT_DAYS', 'week'],
      ['ANCHORLOG_EXPORT_MAX_RECORDS', '0'],
      ['ANCHORLOG_EXPORT_MAX_RECORDS', '-3'],
      ['ANCHORLOG_EXPORT_URL_TTL_SECONDS', '1e3x'],
      ['ANCHORLOG_ROTATION_DAYS_HUMAN', '-1'],
      ['ANCHORLOG_ROTATION_DAYS_AGENT', 'ninety'],
      ['ANCHORLOG_ROTATION_COUNT_FROM', 'last tuesday'],
      ['ANCHORLOG_ROTATION_COUNT_FROM', '2026-13-45'],
    ] as const) {
      const err = await configError(() => config({ [key]: bad }), 'INVALID_SETTING');
      expect(err.message).toContain(key);
    }
  });
});

describe('loadConfig: retired log signing keys (ANCHORLOG_RETIRED_SIGNING_KEYS)', () => {
  const pem = spkiToPem(LocalNoteSigner.generate('retired').publicKeySpki);
  const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('none by default; KMS key ids, ARNs and aliases, and PEM public keys, comma-separated', () => {
    expect(loadConfig(BASE).retiredSigningKeys).toEqual([]);
    const keys = loadConfig({
      ...BASE,
      ANCHORLOG_RETIRED_SIGNING_KEYS: ` ${arn}, alias/old-signing ,${pem},`,
    }).retiredSigningKeys;
    expect(keys).toEqual([{ kmsKeyId: arn }, { kmsKeyId: 'alias/old-signing' }, { spki: pemToSpki(pem) }]);
  });

  it('an entry that is neither is INVALID_SETTING, naming its position', async () => {
    const e = await configError(
      () => loadConfig({ ...BASE, ANCHORLOG_RETIRED_SIGNING_KEYS: `${arn},not a key` }),
      'INVALID_SETTING',
    );
    expect(e.message).toContain('entry 1');
    // A public key, but not P-256.
    const ed25519 = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await configError(
      () => loadConfig({ ...BASE, ANCHORLOG_RETIRED_SIGNING_KEYS: ed25519 }),
      'INVALID_SETTING',
    );
    await configError(
      () => loadConfig({ ...BASE, ANCHORLOG_RETIRED_SIGNING_KEYS: '-----BEGIN PUBLIC KEY-----\nAAAA\n' }),
      'INVALID_SETTING',
    );
  });
});

describe('loadCursorKey', () => {
  it('is the UTF-8 bytes of the named secret', async () => {
    const arn = source.put('cfg/cursor-key', KEY_TEXT);
    const key = await loadCursorKey(config({ ANCHORLOG_QUERY_CURSOR_KEY_SECRET: arn }), source);
    expect(new TextDecoder().decode(key)).toBe(KEY_TEXT);
  });

  it('without the setting the query function cannot start: MISSING_SETTING', async () => {
    const err = await configError(loadCursorKey(config({}), source), 'MISSING_SETTING');
    expect(err.message).toContain('ANCHORLOG_QUERY_CURSOR_KEY_SECRET');
  });

  it('a secret that does not exist is SECRET_UNREADABLE, naming it and the setting', async () => {
    const id = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cfg/absent-AbCdEf';
    const err = await configError(
      loadCursorKey(config({ ANCHORLOG_QUERY_CURSOR_KEY_SECRET: id }), source),
      'SECRET_UNREADABLE',
    );
    expect(err.message).toContain(id);
    expect(err.message).toContain('ANCHORLOG_QUERY_CURSOR_KEY_SECRET');
  });

  it('a short secret is INVALID_SECRET, and the message does not repeat it', async () => {
    const arn = source.put('cfg/short', 'hunter2-hunter2-hunter2-hunter2');
    const err = await configError(
      loadCursorKey(config({ ANCHORLOG_QUERY_CURSOR_KEY_SECRET: arn }), source),
      'INVALID_SECRET',
    );
    expect(err.message).not.toContain('hunter2');
  });

  it('a store that is down is the SecretError UNAVAILABLE, not a ConfigError (the next cold start retries)', async () => {
    const down = new MemorySecretSource({ 'cfg/cursor-key': KEY_TEXT });
    down.faults.fail({ op: 'readText', code: 'UNAVAILABLE' });
    const err = await loadCursorKey(
      config({ ANCHORLOG_QUERY_CURSOR_KEY_SECRET: 'cfg/cursor-key' }),
      down,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as SecretError).code).toBe('UNAVAILABLE');
  });
});

describe('loadTsaCredentials', () => {
  const withSecret = (arn: string) =>
    config({ ANCHORLOG_TSAS: JSON.stringify(TSAS), ANCHORLOG_TSA_CREDENTIALS_SECRET: arn });

  it('adds each TSA its Authorization value from the secret; without the setting, none', async () => {
    const arn = source.put('cfg/tsa', JSON.stringify({ 'tsa-b': 'Basic dXNlcjpwYXNz' }));
    expect(await loadTsaCredentials(withSecret(arn), source)).toEqual([
      TSAS[0],
      { ...TSAS[1], authorization: 'Basic dXNlcjpwYXNz' },
    ]);
    expect(await loadTsaCredentials(config({ ANCHORLOG_TSAS: JSON.stringify(TSAS) }), source)).toEqual(TSAS);
  });

  it.each([
    ['not JSON', 'Basic dXNlcjpwYXNz'],
    ['an array', JSON.stringify(['Basic dXNlcjpwYXNz'])],
    ['a TSA that is not configured', JSON.stringify({ 'tsa-c': 'Basic dXNlcjpwYXNz' })],
    ['a value that is not a string', JSON.stringify({ 'tsa-a': 42 })],
    ['an empty value', JSON.stringify({ 'tsa-a': '' })],
    ['a header value with a line break', JSON.stringify({ 'tsa-a': 'Basic dXNlcjpwYXNz\r\nX-Evil: 1' })],
  ])(
    'a secret holding %s is INVALID_SECRET, and the message does not repeat the value',
    async (_what, value) => {
      const arn = source.put('cfg/tsa-bad', value);
      const err = await configError(loadTsaCredentials(withSecret(arn), source), 'INVALID_SECRET');
      expect(err.message).not.toContain('dXNlcjpwYXNz');
    },
  );

  it('a secret that does not exist is SECRET_UNREADABLE', async () => {
    await configError(loadTsaCredentials(withSecret('cfg/tsa-absent'), source), 'SECRET_UNREADABLE');
  });
});

describe('loadConfig: detection rules until the rule store serves them', () => {
  it('packs by name and rule documents as a JSON array; neither set: no detection settings', () => {
    expect(loadConfig(BASE).detection).toBeUndefined();
    expect(
      loadConfig({
        ...BASE,
        ANCHORLOG_DETECTION_PACKS: ' ai-platform, self-monitoring ,',
        ANCHORLOG_DETECTION_RULES: '[{"id":"r"}]',
      }).detection,
    ).toEqual({ packs: ['ai-platform', 'self-monitoring'], rules: [{ id: 'r' }] });
  });

  it('refuses rules that are not a JSON array, and names that are not pack names', async () => {
    for (const bad of ['{', '{"id":"r"}', '"r"'])
      await configError(() => loadConfig({ ...BASE, ANCHORLOG_DETECTION_RULES: bad }), 'INVALID_SETTING');
    await configError(() => loadConfig({ ...BASE, ANCHORLOG_DETECTION_PACKS: 'Pack!' }), 'INVALID_SETTING');
  });
});

describe('loadConfig: the event catalog modes and the producer gap age (docs/events.md)', () => {
  const tsas = { ANCHORLOG_TSAS: JSON.stringify(TSAS) };
  it('warn for every log by default; per-log modes; gap age 300 s', () => {
    const c = loadConfig({ ...BASE, ...tsas });
    expect(c.catalog).toEqual({ mode: 'warn', modes: new Map(), gapAgeSeconds: 300 });
    const d = loadConfig({
      ...BASE,
      ...tsas,
      ANCHORLOG_CATALOG_MODE: 'off',
      ANCHORLOG_CATALOG_MODES: 'prod=enforce, dev=warn',
      ANCHORLOG_PRODUCER_GAP_AGE_SECONDS: '60',
    });
    expect(d.catalog).toEqual({
      mode: 'off',
      modes: new Map([
        ['prod', 'enforce'],
        ['dev', 'warn'],
      ]),
      gapAgeSeconds: 60,
    });
  });

  it.each([
    { ANCHORLOG_CATALOG_MODE: 'strict' },
    { ANCHORLOG_CATALOG_MODES: 'prod=strict' },
    { ANCHORLOG_CATALOG_MODES: 'Prod_1=warn' },
    { ANCHORLOG_CATALOG_MODES: 'prod' },
    { ANCHORLOG_PRODUCER_GAP_AGE_SECONDS: '0' },
  ])('%j is INVALID_SETTING', async (env) => {
    await configError(() => loadConfig({ ...BASE, ...tsas, ...env }), 'INVALID_SETTING');
  });
});
