/**
 * Notifier port: one configured alert destination (docs/detection.md
 * "Delivery"). Implemented by src/adapters/notify/http-notifier.ts (signed
 * webhooks, Slack, PagerDuty) and src/adapters/aws/sns-notifier.ts.
 *
 * The key words MUST, MUST NOT and SHOULD are to be interpreted as in RFC 2119.
 */

import type { DestinationKind } from '../core/deliver/destinations.ts';
import type { AlertNotice } from '../core/deliver/payloads.ts';
import type { AttemptResult } from '../core/deliver/progress.ts';

export interface Notification {
  /**
   * The idempotency key the receiver sees (webhook-id, PagerDuty dedup_key,
   * the SNS `alert_id` attribute): the alert id, the same on every attempt
   * and every redelivery after a crash.
   */
  readonly id: string;
  readonly notice: AlertNotice;
  /** 1 for the first attempt of this destination (for logs; the payload never depends on it). */
  readonly attempt: number;
}

export interface Notifier {
  readonly name: string;
  readonly kind: DestinationKind;
  /**
   * One attempt. It MUST resolve (never reject) with the outcome of a
   * receiver that failed, hung, or answered garbage, classified as
   * retryable or not; it MUST be bounded in time (its own timeout) and in
   * what it reads. It MUST NOT follow redirects, and MUST NOT put a secret
   * (signing key, routing key, Slack URL) in a result message.
   */
  send(notification: Notification): Promise<AttemptResult>;
}
