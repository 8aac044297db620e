// src/config.ts, Security Lake (docs/ocsf.md §Security Lake): opt-in by
// ANCHORLOG_SECURITY_LAKE_BUCKET; the account id is required with it, the
// progress needs the index bucket, the source prefix must make valid names.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const BASE = { ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b', AWS_REGION: 'eu-west-1' };
const LAKE = {
  ANCHORLOG_INDEX_BUCKET: 'idx',
  ANCHORLOG_SECURITY_LAKE_BUCKET: 'aws-security-data-lake-eu-west-1-x',
};

describe('Security Lake settings', () => {
  it('are absent unless the bucket is set', () => {
    expect(loadConfig(BASE).securityLake).toBeUndefined();
  });

  it('default the region to the deployment and the prefix to anchorlog', () => {
    expect(
      loadConfig({ ...BASE, ...LAKE, ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID: '123456789012' }).securityLake,
    ).toEqual({
      bucket: 'aws-security-data-lake-eu-west-1-x',
      stateBucket: 'idx',
      region: 'eu-west-1',
      accountId: '123456789012',
      sourcePrefix: 'anchorlog',
    });
    expect(
      loadConfig({
        ...BASE,
        ...LAKE,
        ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID: '1',
        ANCHORLOG_SECURITY_LAKE_REGION: 'us-east-2',
        ANCHORLOG_SECURITY_LAKE_SOURCE_PREFIX: 'acme',
      }).securityLake,
    ).toMatchObject({ region: 'us-east-2', sourcePrefix: 'acme' });
    expect(
      loadConfig({
        ...BASE,
        ANCHORLOG_SECURITY_LAKE_BUCKET: 'lake',
        ANCHORLOG_SECURITY_LAKE_STATE_BUCKET: 'progress',
        ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID: '1',
      }).securityLake,
    ).toMatchObject({ stateBucket: 'progress' });
  });

  it.each([
    ['no account id', { ...LAKE }, 'MISSING_SETTING'],
    [
      'no index bucket',
      { ANCHORLOG_SECURITY_LAKE_BUCKET: 'x', ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID: '1' },
      'INVALID_SETTING',
    ],
    [
      'a bad prefix',
      { ...LAKE, ANCHORLOG_SECURITY_LAKE_ACCOUNT_ID: '1', ANCHORLOG_SECURITY_LAKE_SOURCE_PREFIX: 'a b' },
      'INVALID_SETTING',
    ],
  ])('refuse %s', (_n, env, code) => {
    let err: unknown;
    try {
      loadConfig({ ...BASE, ...env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(code);
  });
});
