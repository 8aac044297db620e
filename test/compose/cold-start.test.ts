// src/compose/: a function that lacks a setting it needs does not start (a
// ConfigError at cold start, before any request or schedule reaches it), and
// one that does not need it is not held back by its absence.
import { describe, expect, it } from 'vitest';
import { anchorJob } from '../../src/compose/anchor.ts';
import { detectJob } from '../../src/compose/detect.ts';
import { exportApi } from '../../src/compose/export.ts';
import { ingestApi } from '../../src/compose/ingest.ts';
import { adminApi, principalsRecoveryJob } from '../../src/compose/principals.ts';
import { compactJob, projectJob, queryApi, reindexApi } from '../../src/compose/query.ts';
import { readApi } from '../../src/compose/read.ts';
import { sealJob } from '../../src/compose/seal.ts';
import { createServices } from '../../src/compose/services.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

// No endpoint that answers: nothing below may do I/O.
const services = createServices(
  loadConfig({
    ANCHORLOG_TABLE: 't',
    ANCHORLOG_ARCHIVE_BUCKET: 'b',
    ANCHORLOG_AWS_ENDPOINT: 'http://127.0.0.1:9',
  }),
);

async function configError(f: () => unknown): Promise<ConfigError> {
  const err = await (async () => f())().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('cold start', () => {
  it('export without ANCHORLOG_EXPORTS_BUCKET: MISSING_SETTING, naming it', async () => {
    const err = await configError(() => exportApi(services));
    expect(err.code).toBe('MISSING_SETTING');
    expect(err.message).toContain('ANCHORLOG_EXPORTS_BUCKET');
  });

  it('seal and anchor without ANCHORLOG_SIGNING_KEY_ID: MISSING_SETTING, before any KMS call', async () => {
    for (const start of [() => sealJob(services), () => anchorJob(services)]) {
      const err = await configError(start);
      expect(err.code).toBe('MISSING_SETTING');
      expect(err.message).toContain('ANCHORLOG_SIGNING_KEY_ID');
    }
  });

  it('detect refuses an unknown rule pack or an invalid rule, naming it and where it is wrong', async () => {
    const base = {
      ANCHORLOG_TABLE: 't',
      ANCHORLOG_ARCHIVE_BUCKET: 'b',
      ANCHORLOG_AWS_ENDPOINT: 'http://127.0.0.1:9',
    };
    const pack = await configError(() =>
      detectJob(createServices(loadConfig({ ...base, ANCHORLOG_DETECTION_PACKS: 'no-such-pack' }))),
    );
    expect(pack.message).toContain('no-such-pack');
    const rule = {
      schema: 'anchorlog.rule/v1',
      id: 'bad',
      version: 1,
      title: 'Bad',
      severity: 'low',
      owner: 'secops',
      runbook: 'https://runbooks.example/bad',
      match: "event.action == 'x' &&",
      kind: 'match',
    };
    const bad = await configError(() =>
      detectJob(createServices(loadConfig({ ...base, ANCHORLOG_DETECTION_RULES: JSON.stringify([rule]) }))),
    );
    expect(bad.message).toContain('/match');
  });

  it('the functions that need neither start without them', () => {
    expect(detectJob(services).name).toBe('detect');
    expect(ingestApi(services).length).toBeGreaterThan(0);
    expect(adminApi(services).length).toBeGreaterThan(0);
    expect(readApi(services).length).toBeGreaterThan(0);
    expect(principalsRecoveryJob(services).name).toBe('recover');
  });

  it('query, project, compact and reindex without ANCHORLOG_INDEX_BUCKET: MISSING_SETTING, naming it', async () => {
    for (const start of [
      () => queryApi(services),
      () => projectJob(services),
      () => compactJob(services),
      () => reindexApi(services),
    ]) {
      const err = await configError(start);
      expect(err.code).toBe('MISSING_SETTING');
      expect(err.message).toContain('ANCHORLOG_INDEX_BUCKET');
    }
    const withIndex = createServices(
      loadConfig({
        ANCHORLOG_TABLE: 't',
        ANCHORLOG_ARCHIVE_BUCKET: 'b',
        ANCHORLOG_INDEX_BUCKET: 'i',
        ANCHORLOG_AWS_ENDPOINT: 'http://127.0.0.1:9',
      }),
    );
    expect(projectJob(withIndex).name).toBe('project');
    expect(compactJob(withIndex).name).toBe('compact');
    expect(reindexApi(withIndex).map((r) => r.pattern)).toEqual(['/v1/logs/{logId}/index/rebuild']);
  });
});
