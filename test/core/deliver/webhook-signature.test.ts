/**
 * Standard Webhooks signatures (src/core/deliver/webhook-signature.ts): the
 * spec's published vector, verify(sign(x)) for any message, and every way a
 * receiver must refuse one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import {
  parseWebhookSecret,
  parseWebhookSecrets,
  signWebhook,
  verifyWebhook,
  WebhookSignatureError,
  webhookHeaders,
} from '../../../src/core/deliver/webhook-signature.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookSignatureError) return err.code;
    throw err;
  }
  return 'OK';
}

describe('the spec vector', () => {
  // standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function works".
  const key = parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const ts = 1614265330;
  const body = utf8('{"test": 2432232314}');

  it('signs to the published signature', () => {
    expect(signWebhook(key, id, ts, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies the published signature within the tolerance, and not outside it', () => {
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    expect(verifyWebhook([key], headers, body, ts + 300)).toEqual({ id, timestampSeconds: ts });
    expect(code(() => verifyWebhook([key], headers, body, ts + 301))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(code(() => verifyWebhook([key], headers, body, ts - 301))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('finds the valid signature among others of other versions (the spec’s multi-signature case)', () => {
    const valid = signWebhook(key, id, ts, body);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': [
        'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
        'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
        valid,
        'v1a,bm90IGEgc2lnbmF0dXJl',
      ].join(' '),
    };
    expect(verifyWebhook([key], headers, body, ts).id).toBe(id);
  });

  it('refuses missing, partial and malformed headers', () => {
    const good = webhookHeaders([key], id, ts, body);
    const without = (h: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== h));
    for (const h of ['webhook-id', 'webhook-timestamp', 'webhook-signature'])
      expect(code(() => verifyWebhook([key], without(h), body, ts))).toBe('INVALID_HEADERS');
    expect(code(() => verifyWebhook([key], { ...good, 'webhook-timestamp': 'hello' }, body, ts))).toBe(
      'INVALID_HEADERS',
    );
    expect(code(() => verifyWebhook([key], { ...good, 'webhook-id': 'a.b' }, body, ts))).toBe(
      'INVALID_HEADERS',
    );
    for (const sig of ['v1,dawfeoifkpqwoekfpqoekf', 'v1,', good['webhook-signature'].slice(0, 8), ''])
      expect(code(() => verifyWebhook([key], { ...good, 'webhook-signature': sig }, body, ts))).toBe(
        'SIGNATURE_MISMATCH',
      );
  });
});

describe('secrets', () => {
  it('accepts whsec_ + base64 of 24 to 64 bytes, one or two (rotation)', () => {
    const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');
    expect(parseWebhookSecret(`whsec_${b64(24)}`).bytes).toHaveLength(24);
    expect(parseWebhookSecret(`whsec_${b64(64)}`).bytes).toHaveLength(64);
    expect(parseWebhookSecrets(`whsec_${b64(32)}  whsec_${b64(24)}\n`)).toHaveLength(2);
    for (const bad of [b64(32), `whsec_${b64(23)}`, `whsec_${b64(65)}`, 'whsec_not base64!', 'whsec_'])
      expect(code(() => parseWebhookSecret(bad))).toBe('INVALID_SECRET');
    expect(code(() => parseWebhookSecrets(''))).toBe('INVALID_SECRET');
    expect(code(() => parseWebhookSecrets(`whsec_${b64(24)} whsec_${b64(24)} whsec_${b64(24)}`))).toBe(
      'INVALID_SECRET',
    );
  });

  it('never quotes the secret in an error', () => {
    const secret = 'whsec_c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw'; // not canonical base64
    try {
      parseWebhookSecret(secret);
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain('c2VjcmV0');
    }
  });
});

describe('properties', () => {
  const keyArb = fc.uint8Array({ minLength: 24, maxLength: 64 }).map((bytes) => ({ bytes }));
  const idArb = fc.stringMatching(/^[\x21-\x2d\x2f-\x7e]{1,64}$/);
  const tsArb = fc.integer({ min: 0, max: 2 ** 40 });
  const bodyArb = fc.uint8Array({ maxLength: 512 });

  it('verify(sign(x)) holds for any key, id, timestamp and body', () => {
    fc.assert(
      fc.property(keyArb, idArb, tsArb, bodyArb, (key, id, ts, body) => {
        const headers = webhookHeaders([key], id, ts, body);
        expect(verifyWebhook([key], headers, body, ts)).toEqual({ id, timestampSeconds: ts });
      }),
    );
  });

  it('any change to the body, id, timestamp or key is refused', () => {
    fc.assert(
      fc.property(
        keyArb,
        keyArb,
        idArb,
        tsArb,
        bodyArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (key, other, id, ts, body, at, flip) => {
          const headers = webhookHeaders([key], id, ts, body);
          if (body.length > 0) {
            const tampered = body.slice();
            const i = at % body.length;
            tampered[i] = (tampered[i] as number) ^ flip;
            expect(code(() => verifyWebhook([key], headers, tampered, ts))).toBe('SIGNATURE_MISMATCH');
          }
          expect(code(() => verifyWebhook([key], headers, new Uint8Array([...body, 0]), ts))).toBe(
            'SIGNATURE_MISMATCH',
          );
          expect(code(() => verifyWebhook([key], { ...headers, 'webhook-id': `${id}x` }, body, ts))).toBe(
            'SIGNATURE_MISMATCH',
          );
          expect(
            code(() => verifyWebhook([key], { ...headers, 'webhook-timestamp': String(ts + 1) }, body, ts)),
          ).toBe('SIGNATURE_MISMATCH');
          if (!Buffer.from(other.bytes).equals(Buffer.from(key.bytes)))
            expect(code(() => verifyWebhook([other], headers, body, ts))).toBe('SIGNATURE_MISMATCH');
        },
      ),
    );
  });

  it('while rotating, a receiver with either the new or the old key verifies', () => {
    fc.assert(
      fc.property(keyArb, keyArb, idArb, tsArb, bodyArb, (next, prev, id, ts, body) => {
        const headers = webhookHeaders([next, prev], id, ts, body);
        expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
        expect(verifyWebhook([prev], headers, body, ts).id).toBe(id);
        expect(verifyWebhook([next], headers, body, ts).id).toBe(id);
      }),
    );
  });
});
