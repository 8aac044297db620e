/**
 * The one port → API error table (src/app/port-errors.ts) and the HTTP edge
 * that uses it for routes reading a store directly. No I/O: the port errors
 * are constructed as adapters throw them.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import { fromPortError, withPortErrors } from '../../src/app/port-errors.ts';
import { errorResponse } from '../../src/http/errors.ts';
import { AnchorStoreError } from '../../src/ports/anchor-store.ts';
import { ArchiveError } from '../../src/ports/archive-store.ts';
import { DeliveryStoreError } from '../../src/ports/delivery-store.ts';
import { ExportStoreError } from '../../src/ports/export-store.ts';
import { LogStoreError } from '../../src/ports/log-store.ts';
import { PrincipalStoreError } from '../../src/ports/principal-store.ts';
import { QueryIndexError } from '../../src/ports/query-index.ts';
import { RuleStoreError } from '../../src/ports/rule-store.ts';
import { SealStateError } from '../../src/ports/seal-state.ts';
import { SecretError } from '../../src/ports/secret-source.ts';
import { SignerError } from '../../src/ports/signer.ts';
import { TsaTransportError } from '../../src/ports/timestamper.ts';

describe('fromPortError', () => {
  it.each([
    [new LogStoreError('THROTTLED', 'x'), 'THROTTLED', 1],
    [new SealStateError('UNAVAILABLE', 'x'), 'UNAVAILABLE', 1],
    [new AnchorStoreError('INTEGRITY', 'x'), 'INTEGRITY', undefined],
    [new QueryIndexError('THROTTLED', 'x'), 'THROTTLED', 1],
    [new DeliveryStoreError('UNAVAILABLE', 'x'), 'UNAVAILABLE', 1],
    [new PrincipalStoreError('CONFLICT', 'x'), 'CONFLICT', undefined],
    [new PrincipalStoreError('INVALID_CURSOR', 'x'), 'BAD_REQUEST', undefined],
    [new RuleStoreError('CONFLICT', 'x'), 'CONFLICT', undefined],
    [new RuleStoreError('INVALID_CURSOR', 'x'), 'BAD_REQUEST', undefined],
    [new RuleStoreError('THROTTLED', 'x'), 'THROTTLED', 1],
    [new ArchiveError('IMMUTABLE_CONFLICT', 'x'), 'INTEGRITY', undefined],
    [new ArchiveError('UNAVAILABLE', 'x'), 'UNAVAILABLE', 1],
    [new ArchiveError('MISCONFIGURED', 'x'), 'INTERNAL', undefined],
    [new ExportStoreError('MISCONFIGURED', 'x'), 'INTERNAL', undefined],
    [new SignerError('SIGNER_UNAVAILABLE', 'x'), 'UNAVAILABLE', 1],
    [new SignerError('KEY_MISCONFIGURED', 'x'), 'INTERNAL', undefined],
    [new SecretError('ACCESS_DENIED', 'x'), 'INTERNAL', undefined],
    [new TsaTransportError('TSA_TIMEOUT', 'x', { retryable: true }), 'UNAVAILABLE', 1],
  ] as const)('%s → %s', (err, code, retryAfter) => {
    const e = fromPortError(err, 'op');
    expect(e).toBeInstanceOf(AppError);
    expect(e?.code).toBe(code);
    expect(e?.retryAfterSeconds).toBe(retryAfter);
    expect(e?.cause).toBe(err);
  });

  it('names the operation in server-side messages and keeps the port’s words for the client’s', () => {
    expect(fromPortError(new LogStoreError('INTEGRITY', 'broken chain'), 'seal of log a')?.message).toBe(
      'seal of log a: broken chain',
    );
    const cursor = fromPortError(new PrincipalStoreError('INVALID_CURSOR', 'invalid cursor'), 'list');
    expect(cursor).toMatchObject({ message: 'invalid cursor', path: '/cursor' });
  });

  it('passes an AppError through and leaves everything else to the caller', () => {
    const app = new AppError('NOT_FOUND', 'no');
    expect(fromPortError(app, 'op')).toBe(app);
    expect(fromPortError(new TypeError('bug'), 'op')).toBeUndefined();
    expect(fromPortError('nope', 'op')).toBeUndefined();
  });
});

describe('withPortErrors', () => {
  it('maps every method’s rejection and leaves results and other failures alone', async () => {
    const store = {
      n: 3,
      ok: async (x: number) => x + 1,
      lost: async () => {
        throw new PrincipalStoreError('CONFLICT', 'changed concurrently');
      },
      bug: async () => {
        throw new TypeError('bug');
      },
    };
    const mapped = withPortErrors(store, 'principal store');
    expect(mapped.n).toBe(3);
    expect(await mapped.ok(1)).toBe(2);
    await expect(mapped.lost()).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(mapped.lost()).rejects.toBeInstanceOf(AppError);
    await expect(mapped.bug()).rejects.toBeInstanceOf(TypeError);
  });
});

describe('the HTTP edge', () => {
  it('answers a port error from a route that reads a store directly by the same table', () => {
    const throttled = errorResponse(new AnchorStoreError('THROTTLED', 'DynamoDB: ThrottlingException'), 'r1');
    expect(throttled.status).toBe(429);
    expect(throttled.headers?.['retry-after']).toBe('1');
    const corrupt = errorResponse(new AnchorStoreError('INTEGRITY', 'anchor state is malformed'), 'r2');
    expect(corrupt.status).toBe(500);
    expect(JSON.parse(corrupt.body as string).error.code).toBe('INTEGRITY');
    // Still no exception text for what is not a port error.
    const bug = errorResponse(new TypeError('secret internals'), 'r3');
    expect(bug.status).toBe(500);
    expect(bug.body).not.toContain('secret internals');
  });
});
