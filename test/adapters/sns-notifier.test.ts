/**
 * SnsNotifier (src/adapters/aws/sns-notifier.ts) on the emulator: a Publish
 * reaches an HTTPS-style subscriber (moto POSTs to HTTP subscriptions) with
 * the webhook JSON as its message and the subject; a topic that does not
 * exist is a permanent failure.
 */
import { createServer, type Server } from 'node:http';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../src/adapters/aws/sns-notifier.ts';
import { alertText, snsMessage, webhookPayload } from '../../src/core/deliver/payloads.ts';
import { HOSTILE, NOTICE } from '../core/deliver/alerts.ts';
import { awsClientConfig } from '../support/aws.ts';

const sns = new SNSClient(awsClientConfig());
let server: Server;
let url: string;
const posts: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      try {
        posts.push(JSON.parse(body) as Record<string, unknown>);
      } catch {
        posts.push({ raw: body });
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const a = server.address();
  if (!a || typeof a === 'string') throw new Error('no address');
  url = `http://127.0.0.1:${a.port}/sns`;
});
afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

describe('SnsNotifier', () => {
  it('publishes the alert: subscribers over HTTP(S) get the webhook JSON, e-mail the text, with the subject', async () => {
    const topic = await sns.send(new CreateTopicCommand({ Name: 'anchorlog-alerts' }));
    const arn = topic.TopicArn as string;
    await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: url }));
    await sns.send(
      new SubscribeCommand({ TopicArn: arn, Protocol: 'email', Endpoint: 'oncall@example.com' }),
    );
    posts.length = 0;
    const notifier = new SnsNotifier({ name: 'oncall', topicArn: arn, client: sns });
    expect(await notifier.send({ id: NOTICE.alert.id, notice: NOTICE, attempt: 1 })).toEqual({ ok: true });
    const notification = posts.find((p) => p.Type === 'Notification');
    expect(notification).toMatchObject({
      TopicArn: arn,
      Subject: '[anchorlog] HIGH: Large data export volume by one principal',
      Message: webhookPayload(NOTICE),
    });
    // The e-mail rendering is what the message structure carries for that protocol.
    expect(JSON.parse(snsMessage(NOTICE).message).email).toBe(alertText(NOTICE));
  });

  it('a hostile title still makes a subject SNS accepts', async () => {
    const topic = await sns.send(new CreateTopicCommand({ Name: 'anchorlog-alerts-2' }));
    const notifier = new SnsNotifier({ name: 'oncall', topicArn: topic.TopicArn as string, client: sns });
    expect(await notifier.send({ id: HOSTILE.alert.id, notice: HOSTILE, attempt: 1 })).toEqual({ ok: true });
  });

  it('a topic that does not exist: SNS_ERROR, permanent (dead-lettered, not retried for half an hour)', async () => {
    const notifier = new SnsNotifier({
      name: 'gone',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:no-such-topic',
      client: sns,
    });
    expect(await notifier.send({ id: NOTICE.alert.id, notice: NOTICE, attempt: 1 })).toMatchObject({
      ok: false,
      code: 'SNS_ERROR',
      retryable: false,
    });
  });
});
