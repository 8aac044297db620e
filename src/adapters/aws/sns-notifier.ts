/**
 * Notifier on an SNS topic (src/ports/notifier.ts): one Publish per alert,
 * with a message per protocol (e-mail subscribers get text, HTTPS/SQS/Lambda
 * the webhook JSON) and the alert id, severity, rule and log as message
 * attributes (subscription filter policies; the alert id is the consumer's
 * idempotency key — a standard topic does not de-duplicate, so a redelivery
 * after a crash reaches subscribers twice with the same id).
 *
 * The function's role may publish to this one topic only (cdk/).
 * Throttling, 5xx and network errors are retryable; a missing topic, a
 * refused authorization or an invalid parameter are not.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { snsMessage } from '../../core/deliver/payloads.ts';
import type { AttemptResult } from '../../core/deliver/progress.ts';
import type { Notification, Notifier } from '../../ports/notifier.ts';

export interface SnsNotifierOptions {
  readonly name: string;
  readonly topicArn: string;
  /** Made once per container (src/compose/deliver.ts). */
  readonly client: SNSClient;
  /** Abort a Publish that takes longer (default 10 s). */
  readonly timeoutMs?: number;
}

const PERMANENT = new Set([
  'NotFoundException',
  'NotFound',
  'AuthorizationErrorException',
  'AuthorizationError',
  'InvalidParameterException',
  'InvalidParameter',
  'InvalidParameterValueException',
  'InvalidParameterValue',
  'KMSDisabledException',
  'KMSNotFoundException',
  'KMSInvalidStateException',
  'KMSAccessDeniedException',
  'AccessDeniedException',
  'AccessDenied',
]);

export class SnsNotifier implements Notifier {
  readonly name: string;
  readonly kind = 'sns' as const;
  readonly #o: SnsNotifierOptions;

  constructor(options: SnsNotifierOptions) {
    this.name = options.name;
    this.#o = options;
  }

  async send(n: Notification): Promise<AttemptResult> {
    const m = snsMessage(n.notice);
    const where = `sns destination ${this.name}`;
    try {
      const out = await this.#o.client.send(
        new PublishCommand({
          TopicArn: this.#o.topicArn,
          Subject: m.subject,
          Message: m.message,
          MessageStructure: 'json',
          MessageAttributes: Object.fromEntries(
            Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
          ),
        }),
        { abortSignal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000) },
      );
      return out.MessageId
        ? { ok: true }
        : {
            ok: false,
            code: 'SNS_ERROR',
            message: `${where}: Publish returned no MessageId`,
            retryable: true,
          };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
      const name = e.name ?? 'Error';
      const status = e.$metadata?.httpStatusCode;
      const permanent =
        PERMANENT.has(name) ||
        (status !== undefined && status >= 400 && status < 500 && status !== 429 && !/Throttl/i.test(name));
      return {
        ok: false,
        code: name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'SNS_ERROR',
        message: `${where}: Publish failed: ${name}${e.message ? ` (${e.message.slice(0, 200)})` : ''}`,
        ...(status !== undefined ? { status } : {}),
        retryable: !permanent,
      };
    }
  }
}
