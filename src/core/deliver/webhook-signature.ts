/**
 * Standard Webhooks signatures, symmetric scheme (standardwebhooks.com,
 * spec/standard-webhooks.md "Signature scheme" and "Webhook headers"):
 *
 *   webhook-id:        the message id (for anchorlog: the alert id, stable across retries)
 *   webhook-timestamp: integer Unix seconds of this attempt
 *   webhook-signature: space-separated `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`
 *
 * The key is the base64 text after the `whsec_` prefix, 24 to 64 bytes. A
 * destination may hold two secrets while it rotates (`"whsec_new whsec_old"`):
 * every request is signed with each, and a receiver accepts it when any one
 * verifies, so a rotation needs no downtime.
 *
 * Pure (no clock: the caller passes the time); the receiver side (verify) is
 * what src/local/alert-receiver.ts runs and what a consumer's code must do.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, toBase64, utf8 } from '../bytes.ts';
import { AnchorlogError } from '../errors.ts';

export type WebhookSignatureErrorCode =
  /** A secret that is not `whsec_` + base64 of 24–64 bytes. */
  | 'INVALID_SECRET'
  /** A header is missing or malformed (id, timestamp, signature list). */
  | 'INVALID_HEADERS'
  /** The timestamp is outside the tolerance: a replay, or a clock far off. */
  | 'TIMESTAMP_OUT_OF_TOLERANCE'
  /** No `v1` signature in the header verifies with any of the secrets. */
  | 'SIGNATURE_MISMATCH';

export class WebhookSignatureError extends AnchorlogError<WebhookSignatureErrorCode> {}

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The spec's bounds on a symmetric key: at least 192 bits, at most 512. */
export const WEBHOOK_SECRET_MIN_BYTES = 24;
export const WEBHOOK_SECRET_MAX_BYTES = 64;
/** What the spec's reference libraries accept by default: five minutes either way. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** One signing key, decoded. */
export interface WebhookKey {
  readonly bytes: Uint8Array;
}

/** `whsec_<base64>` → key bytes. Never puts the secret in an error message. */
export function parseWebhookSecret(secret: string): WebhookKey {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX))
    throw new WebhookSignatureError(
      'INVALID_SECRET',
      `a webhook secret starts with ${WEBHOOK_SECRET_PREFIX}`,
    );
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  } catch {
    throw new WebhookSignatureError(
      'INVALID_SECRET',
      'a webhook secret is whsec_ followed by standard base64',
    );
  }
  if (bytes.length < WEBHOOK_SECRET_MIN_BYTES || bytes.length > WEBHOOK_SECRET_MAX_BYTES)
    throw new WebhookSignatureError(
      'INVALID_SECRET',
      `a webhook secret holds ${WEBHOOK_SECRET_MIN_BYTES} to ${WEBHOOK_SECRET_MAX_BYTES} bytes (got ${bytes.length})`,
    );
  return { bytes };
}

/**
 * The secret text of a destination: one `whsec_` secret, or two separated by
 * whitespace while rotating (the new one first). At most two: more would be
 * a rotation that was never finished.
 */
export function parseWebhookSecrets(text: string): WebhookKey[] {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length < 1 || parts.length > 2)
    throw new WebhookSignatureError(
      'INVALID_SECRET',
      `a webhook secret is one whsec_ secret, or two separated by a space while rotating (got ${parts.length})`,
    );
  return parts.map(parseWebhookSecret);
}

/**
 * The spec forbids a `.` in the id and timestamp (they are joined with `.`
 * before signing, so a dot would let one message pose as another); ids are
 * visible ASCII.
 */
const MSG_ID_RE = /^[\x21-\x2d\x2f-\x7e]{1,255}$/;

function checkId(id: string): void {
  if (!MSG_ID_RE.test(id))
    throw new WebhookSignatureError(
      'INVALID_HEADERS',
      'webhook-id must be 1-255 visible ASCII characters without a dot',
    );
}

function mac(key: WebhookKey, id: string, timestampSeconds: number, body: Uint8Array): Uint8Array {
  const prefix = utf8(`${id}.${timestampSeconds}.`);
  const input = new Uint8Array(prefix.length + body.length);
  input.set(prefix, 0);
  input.set(body, prefix.length);
  return hmac(sha256, key.bytes, input);
}

/** `v1,<base64>` for one key. */
export function signWebhook(key: WebhookKey, id: string, timestampSeconds: number, body: Uint8Array): string {
  checkId(id);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0)
    throw new WebhookSignatureError('INVALID_HEADERS', 'webhook-timestamp must be a non-negative integer');
  return `v1,${toBase64(mac(key, id, timestampSeconds, body))}`;
}

/** The three headers of one attempt, signed with every key (space-separated, as the spec says). */
export function webhookHeaders(
  keys: readonly WebhookKey[],
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  if (keys.length === 0) throw new WebhookSignatureError('INVALID_SECRET', 'no webhook secret to sign with');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': keys.map((k) => signWebhook(k, id, timestampSeconds, body)).join(' '),
  };
}

/** Constant-time equality of two byte strings of the same length (a length difference is public). */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export interface VerifiedWebhook {
  readonly id: string;
  readonly timestampSeconds: number;
}

/**
 * The receiver's check: the headers are well formed, the timestamp is within
 * `toleranceSeconds` of `nowSeconds`, and one `v1` signature in the list
 * verifies over the exact body bytes with one of `keys`. Signatures of other
 * schemes (`v1a`, …) are skipped, as the spec says. Throws
 * WebhookSignatureError; returns the id (the receiver's idempotency key).
 */
export function verifyWebhook(
  keys: readonly WebhookKey[],
  headers: Readonly<Record<string, string | undefined>>,
  body: Uint8Array,
  nowSeconds: number,
  toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
): VerifiedWebhook {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (id === undefined || ts === undefined || sigs === undefined)
    throw new WebhookSignatureError(
      'INVALID_HEADERS',
      'webhook-id, webhook-timestamp and webhook-signature are required',
    );
  checkId(id);
  if (!/^\d{1,15}$/.test(ts))
    throw new WebhookSignatureError('INVALID_HEADERS', 'webhook-timestamp must be integer Unix seconds');
  const timestampSeconds = Number(ts);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds)
    throw new WebhookSignatureError(
      'TIMESTAMP_OUT_OF_TOLERANCE',
      `webhook-timestamp is more than ${toleranceSeconds} s away from now`,
    );
  const expected = keys.map((k) => mac(k, id, timestampSeconds, body));
  for (const entry of sigs.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    let given: Uint8Array;
    try {
      given = fromBase64(entry.slice(comma + 1));
    } catch {
      continue;
    }
    if (expected.some((e) => timingSafeEqual(e, given))) return { id, timestampSeconds };
  }
  throw new WebhookSignatureError(
    'SIGNATURE_MISMATCH',
    'no v1 signature verifies with the configured secret',
  );
}
