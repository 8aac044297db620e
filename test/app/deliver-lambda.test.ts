// lambdas/deliver.ts as Lambda runs it, on moto: invoked as the detect function's destination
// (a Lambda destination record), it records the outbox's alerts in the system log and delivers
// them — to the local receiver, which verifies the Standard Webhooks signature with the secret
// the function read from Secrets Manager — and dead-letters what a destination refuses; an
// operator lists the dead letters and re-drives them with a dead-letter command.
import { createServer, type Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDetectionStateStore } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { putSecret } from '../../src/adapters/aws/secrets-manager-source.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import type { RedriveOutcome } from '../../src/app/deliver.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { type AlertReceiver, startAlertReceiver } from '../../src/local/alert-receiver.ts';
import type { DeadLetterPage } from '../../src/ports/delivery-store.ts';
import { awsClientConfig, motoEndpoint } from '../support/aws.ts';
import { alertOf, fire } from './deliver-harness.ts';

const TABLE = 'anchorlog-deliver-lambda';
const LOG = 'acme';
type Handler = typeof import('../../lambdas/deliver.ts')['handler'];
let handler: Handler;
let receiver: AlertReceiver;
let refusing: Server;
let refusingStatus = 404;
let refusingUrl: string;
const context = { getRemainingTimeInMillis: () => 60_000 };
const ddb = new DynamoDBClient(awsClientConfig());
const outbox = new DynamoDetectionStateStore({ client: ddb, tableName: TABLE });

/** What Lambda passes a destination function when the detect function's asynchronous invocation ends. */
const afterDetect = (payload: unknown) => ({
  version: '1.0',
  timestamp: new Date().toISOString(),
  requestContext: {
    requestId: 'r1',
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:detect:$LATEST',
    condition: 'Success',
    approximateInvokeCount: 1,
  },
  requestPayload: payload,
  responseContext: { statusCode: 200, executedVersion: '$LATEST' },
  responsePayload: { logs: 1 },
});

beforeAll(async () => {
  await ensureTable(ddb, TABLE);
  receiver = await startAlertReceiver({});
  refusing = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(refusingStatus).end());
  });
  await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', () => done()));
  const a = refusing.address();
  if (!a || typeof a === 'string') throw new Error('no address');
  refusingUrl = `http://127.0.0.1:${a.port}/hook`;
  const sm = new SecretsManagerClient(awsClientConfig());
  const receiverSecret = await putSecret(sm, 'anchorlog/test/receiver', receiver.secret);
  const refusingSecret = await putSecret(sm, 'anchorlog/test/refusing', receiver.secret);
  Object.assign(process.env, {
    ANCHORLOG_TABLE: TABLE,
    ANCHORLOG_ARCHIVE_BUCKET: 'anchorlog-archive-deliver',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    ANCHORLOG_ALERT_DESTINATIONS: JSON.stringify({
      destinations: [
        { name: 'receiver', kind: 'webhook', url: receiver.url, secret: receiverSecret },
        { name: 'refusing', kind: 'webhook', url: refusingUrl, secret: refusingSecret },
      ],
      default: ['receiver', 'refusing'],
    }),
  });
  ({ handler } = await import('../../lambdas/deliver.ts'));
});

afterAll(async () => {
  await receiver.close();
  await new Promise<void>((done) => refusing.close(() => done()));
});

describe('the deliver function', () => {
  it('after detection: records, delivers signed, dead-letters a refusal; then list and re-drive', async () => {
    const a = alertOf(LOG, 1);
    const ok = await outbox.commit({
      logId: LOG,
      expectedVersion: 0,
      cursor: { logId: LOG, nextIndex: 2, watermarkMs: 0, version: 1 },
      puts: new Map(),
      outbox: [fire(a)],
    });
    expect(ok).toBe(true);
    const summary = await handler(afterDetect({ logIds: [LOG] }), context);
    expect(summary).toMatchObject({ logs: 1, delivered: 1, deadLettered: 1, pending: 0 });

    expect(receiver.received.map((r) => r.id)).toEqual([a.id]);
    expect(receiver.refused).toBe(0);
    const logs = new DynamoLogStore({ client: ddb, tableName: TABLE });
    const system = (await logs.readBatches(SYSTEM_LOG_ID, 1, 100)).flatMap((b) =>
      b.records.map((r) => decodeRecord(r.bytes)),
    );
    expect(system.map((r) => [r.event.id, r.event.action, r.submitter])).toEqual([
      [a.id, 'alert.fire', 'system:detection'],
    ]);
    expect((await outbox.readOutbox(LOG)).records).toEqual([]);

    const listed = (await handler({ deadLetters: { list: {} } }, context)) as DeadLetterPage;
    expect(listed.items.map((l) => [l.id, l.destination, l.lastError.status])).toEqual([
      [`${a.id}/refusing`, 'refusing', 404],
    ]);

    refusingStatus = 204;
    const redriven = (await handler({ deadLetters: { redrive: 'all' } }, context)) as RedriveOutcome;
    expect(redriven).toMatchObject({ attempted: 1, delivered: 1, failed: 0 });
    expect(((await handler({ deadLetters: { list: {} } }, context)) as DeadLetterPage).items).toEqual([]);
    expect(
      ((await handler({ deadLetters: { list: { state: 'redriven' } } }, context)) as DeadLetterPage).items,
    ).toHaveLength(1);
  });

  it('a malformed dead-letter command is refused with its code', async () => {
    await expect(handler({ deadLetters: { redrive: 42 } }, context)).rejects.toMatchObject({
      code: 'BAD_COMMAND',
    });
    await expect(handler({ deadLetters: { purge: true } }, context)).rejects.toMatchObject({
      code: 'BAD_COMMAND',
    });
  });
});
