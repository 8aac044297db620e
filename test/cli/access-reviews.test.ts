/**
 * `anchorlog access-reviews …` through the real dispatcher: the API commands
 * against a real HTTP server running the real routes over AccessReviewService
 * on moto, checked by what the store, the principals and the `system` log end
 * up holding; and `report --bundle`, which verifies first and refuses (with no
 * report) a bundle that fails, was not checked against pinned trust, is not of
 * the complete system log range, or does not hold the review.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessReviewStore } from '../../src/adapters/aws/dynamo-access-review-store.ts';
import { AccessReviewService } from '../../src/app/access-reviews.ts';
import { accessReviewsCommands } from '../../src/cli/access-reviews.ts';
import { runMain } from '../../src/cli/main.ts';
import {
  ACCESS_REVIEW_CLOSE,
  ACCESS_REVIEW_COLUMNS,
  ACCESS_REVIEW_DECIDE,
  ACCESS_REVIEW_ITEMS,
  ACCESS_REVIEW_START,
  accessReviewJson,
  accessReviewReport,
} from '../../src/core/access-review.ts';
import type { JsonObject } from '../../src/core/ijson.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import { issueApiKey } from '../../src/core/principal.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { createRouter } from '../../src/http/router.ts';
import { accessReviewRoutes } from '../../src/http/routes/access-reviews.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { type RulesOnMoto, rulesOnMoto } from '../app/rules-moto.ts';
import { exportBundle, makeLog, type TestLog, TSA_ROOTS_PEM } from '../core/bundle/fixture.ts';
import { captureIo } from './support.ts';

const STACK = /^\s+at .+[(:]\d+/m;
let dir: string;
let server: LocalHttpServer;
let env: RulesOnMoto;
let reviews: AccessReviewService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anchorlog-access-cli-'));
  env = await rulesOnMoto(`access-cli-${Date.now()}`);
  reviews = new AccessReviewService({
    store: new DynamoAccessReviewStore({ client: env.ddb, tableName: env.table }),
    audit: env.sink,
    auditLog: env.auditLog,
    principals: env.principals,
    logs: env.logs,
    clock: env.clock,
    random: (k) => crypto.getRandomValues(new Uint8Array(k)),
  });
  server = await startHttpServer(
    (req) => createRouter(accessReviewRoutes({ reviews }), { authenticate: async () => env.admin })(req),
    { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 },
  );
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: readonly string[], files: Record<string, Uint8Array> = {}) {
  const io = captureIo(files);
  const code = await runMain(
    [...argv],
    io,
    accessReviewsCommands(() => ({ env: {} })),
  );
  return { code, out: io.out(), err: io.err() };
}

const KEY = issueApiKey('admin-1', (n) => crypto.getRandomValues(new Uint8Array(n))).apiKey;
const api = () => ['--api', server.url, '--key', KEY];

describe('access-reviews via the API', () => {
  it('start, list, decide (revoke = 401), show, close, report', async () => {
    const bob = await env.principals.create(env.admin, {
      id: 'bob-contractor',
      name: 'Bob',
      kind: 'human',
      owner: 'it@example.com',
      purpose: 'contract ended',
      scopes: { acme: ['events:read'] },
    });
    const started = await cli(['access-reviews', 'start', '--name', '2026-Q1', '--json', ...api()]);
    expect(started.code).toBe(0);
    const id = JSON.parse(started.out).review.id as string;
    expect((await cli(['access-reviews', 'list', ...api()])).out).toContain(id);
    const decided = await cli([
      'access-reviews',
      'decide',
      id,
      '--principal',
      'bob-contractor',
      '--decision',
      'revoke',
      '--reason',
      'contract ended 2026-02-28',
      ...api(),
    ]);
    expect([decided.code, decided.out]).toEqual([
      0,
      `bob-contractor: revoke; recorded as access-review/${id}/decide/bob-contractor\n`,
    ]);
    expect(
      (await env.principals.authenticate(bob.apiKey).catch((e: { code: string }) => e.code)) as string,
    ).toBe('UNAUTHENTICATED');
    const again = await cli([
      'access-reviews',
      'decide',
      id,
      '--principal',
      'bob-contractor',
      '--decision',
      'keep',
      '--reason',
      'x',
      ...api(),
    ]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('ALREADY_DECIDED');
    expect(again.err).not.toMatch(STACK);
    const shown = await cli(['access-reviews', 'show', id, ...api()]);
    expect(shown.out).toMatch(/bob-contractor\trevoke\tops-admin\t/);
    expect((await cli(['access-reviews', 'close', id, ...api()])).out).toBe(
      `${id} is closed; recorded as access-review/${id}/close\n`,
    );
    const out = join(dir, 'q1.csv');
    const csv = await cli(['access-reviews', 'report', id, '--format', 'csv', '--out', out, ...api()]);
    expect(csv.code).toBe(0);
    const lines = readFileSync(out, 'utf8').split('\r\n');
    expect(lines[0]).toBe(ACCESS_REVIEW_COLUMNS.join(','));
    expect(lines.some((l) => l.startsWith('bob-contractor,') && l.includes(',revoke,'))).toBe(true);
    const json = await cli(['access-reviews', 'report', id, ...api()]);
    const records = (await env.records()).filter((r) => r.event.metadata?.reviewId === id);
    expect(json.out).toBe(accessReviewJson(accessReviewReport(id, records)));
  });
});

describe('access-reviews report --bundle', () => {
  const ID = `arv_${'a'.repeat(24)}`;
  let log: TestLog;
  let trust: string;
  const files: Record<string, Uint8Array> = {};
  const item = (principalId: string) => ({
    principalId,
    name: principalId,
    kind: 'human',
    owner: 'it',
    status: 'active',
    roles: [],
    directScopes: {},
    effectiveScopes: {},
    keyIssuedAt: '2026-01-01T00:00:00.000Z',
    keyAgeDays: 3,
    keyExpiresAt: null,
    lastUsedAt: null,
    flags: [],
  });
  // The review's records at indexes 3..6 of a 10-record system log.
  const action = (i: number) =>
    [ACCESS_REVIEW_ITEMS, ACCESS_REVIEW_START, ACCESS_REVIEW_DECIDE, ACCESS_REVIEW_CLOSE][i - 3] ??
    'log.create';
  const metadata = (i: number): JsonObject =>
    ([
      { reviewId: ID, part: 0, items: [item('alice'), item('bob-1')] },
      { reviewId: ID, name: '2026-Q1', parts: 1 },
      { reviewId: ID, principalId: 'alice', decision: 'keep', reason: '=on call' },
      { reviewId: ID },
    ][i - 3] as JsonObject | undefined) ?? { n: i };
  beforeAll(async () => {
    log = makeLog(10, { logId: 'system', action, metadata });
    files['/mem/system.tar'] = await exportBundle(log, {
      fromTime: log.receivedAt[0] as string,
      toTime: log.receivedAt[9] as string,
    });
    files['/mem/late.tar'] = await exportBundle(log, {
      fromTime: log.receivedAt[5] as string,
      toTime: log.receivedAt[9] as string,
    });
    files['/mem/open-end.tar'] = await exportBundle(log, {
      fromTime: log.receivedAt[0] as string,
      toTime: '2099-01-01T00:00:00.000Z',
    });
    files['/mem/acme.tar'] = await exportBundle(makeLog(10, { logId: 'acme' }), {
      fromTime: log.receivedAt[0] as string,
      toTime: log.receivedAt[9] as string,
    });
    files['/mem/garbage.tar'] = new TextEncoder().encode('not a tar');
    trust = join(dir, 'trust.json');
    writeFileSync(
      trust,
      JSON.stringify({
        logKeys: [
          vkeyFromSpki(log.origin, log.signer.publicKeySpki),
          vkeyFromSpki('anchorlog.test/acme', makeLog(1, { logId: 'acme' }).signer.publicKeySpki),
        ],
        tsaRoots: TSA_ROOTS_PEM,
      }),
    );
  });

  it('reports from a verified, complete bundle: the same function over the same records', async () => {
    const r = await cli(
      ['access-reviews', 'report', ID, '--bundle', '/mem/system.tar', '--trust', trust],
      files,
    );
    expect([r.code, r.err]).toEqual([0, expect.stringContaining('bundle verified: system log')]);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ reviewId: ID, name: '2026-Q1', undecided: ['bob-1'], problems: [] });
    expect(report.items[0]).toMatchObject({ principalId: 'alice', decision: 'keep', reviewer: 'svc-ingest' });
    const records = log.records.slice(0, 9).map((b) => decodeRecord(b));
    expect(r.out).toBe(accessReviewJson(accessReviewReport(ID, records)));
    // CSV: a reason that looks like a formula is defused.
    const csv = await cli(
      ['access-reviews', 'report', ID, '--bundle', '/mem/system.tar', '--trust', trust, '--format', 'csv'],
      files,
    );
    expect(csv.out).toContain(",'=on call,");
  });

  it.each([
    [['--bundle', '/mem/garbage.tar'], 1, 'ARCHIVE_INVALID'],
    [['--bundle', '/mem/system.tar'], 3, 'UNTRUSTED_BUNDLE'],
    [['--bundle', '/mem/open-end.tar'], 4, 'COMPLETENESS_NOT_PROVED'],
    [['--bundle', '/mem/acme.tar'], 4, 'NOT_SYSTEM_LOG'],
    [['--bundle', '/mem/late.tar'], 4, 'REVIEW_NOT_IN_BUNDLE'],
  ] as const)('refuses %j with exit %i (%s) and writes no report', async (extra, code, reason) => {
    const withTrust = reason === 'UNTRUSTED_BUNDLE' ? [] : ['--trust', trust];
    const out = join(dir, `refused-${reason}.csv`);
    const r = await cli(['access-reviews', 'report', ID, ...extra, ...withTrust, '--out', out], files);
    expect(r.code).toBe(code);
    expect(r.err).toContain(reason);
    expect(r.err).not.toMatch(STACK);
    expect(() => readFileSync(out)).toThrow();
  });
});
