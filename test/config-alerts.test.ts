// src/config.ts, alert destinations: ANCHORLOG_ALERT_DESTINATIONS names
// destinations and their secrets, never holds a credential; the deliver
// function reads each secret once from Secrets Manager (moto) at cold start
// and refuses to start, naming the destination, when one is missing or wrong.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { putSecret, SecretsManagerSource } from '../src/adapters/aws/secrets-manager-source.ts';
import { ConfigError, type ConfigErrorCode, loadAlertDestinations, loadConfig } from '../src/config.ts';
import type { SecretSource } from '../src/ports/secret-source.ts';
import { awsClientConfig } from './support/aws.ts';

const BASE = { ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b' };
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
const SLACK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXX';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:anchorlog-alerts';

let client: SecretsManagerClient;
let source: SecretsManagerSource;
const arns: Record<string, string> = {};

beforeAll(async () => {
  client = new SecretsManagerClient(awsClientConfig());
  source = new SecretsManagerSource({ client });
  for (const [name, value] of Object.entries({
    hook: WHSEC,
    rotating: `${WHSEC} whsec_${Buffer.alloc(32, 1).toString('base64')}`,
    slack: SLACK,
    pagerduty: ROUTING_KEY,
    bad: 'not-a-secret-of-any-kind',
  }))
    arns[name] = await putSecret(client, `anchorlog/alerts/${name}`, value);
});

function env(doc: unknown) {
  return { ...BASE, ANCHORLOG_ALERT_DESTINATIONS: JSON.stringify(doc) };
}

async function configError(
  p: Promise<unknown> | (() => unknown),
  code: ConfigErrorCode,
): Promise<ConfigError> {
  const err = await (async () => (typeof p === 'function' ? p() : p))().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe(code);
  return err as ConfigError;
}

describe('ANCHORLOG_ALERT_DESTINATIONS', () => {
  it('unset: no routing, and no secret is read', async () => {
    const config = loadConfig(BASE);
    expect(config.alertRouting).toBeUndefined();
    const never: SecretSource = { readText: () => Promise.reject(new Error('read')) };
    expect(await loadAlertDestinations(config, never)).toEqual([]);
  });

  it('reads each destination’s credential once, at cold start', async () => {
    const reads: string[] = [];
    const counting: SecretSource = {
      readText: (id) => {
        reads.push(id);
        return source.readText(id);
      },
    };
    const config = loadConfig(
      env({
        destinations: [
          { name: 'soc', kind: 'webhook', url: 'https://soc.example/hook', secret: arns.rotating },
          { name: 'soc-copy', kind: 'webhook', url: 'https://soc2.example/hook', secret: arns.rotating },
          { name: 'chat', kind: 'slack', secret: arns.slack },
          { name: 'pager', kind: 'pagerduty', secret: arns.pagerduty },
          { name: 'topic', kind: 'sns', topicArn: TOPIC },
        ],
        bySeverity: { critical: ['pager', 'topic'] },
        default: ['chat'],
      }),
    );
    const d = await loadAlertDestinations(config, counting);
    expect(d.map((x) => [x.name, x.kind])).toEqual([
      ['soc', 'webhook'],
      ['soc-copy', 'webhook'],
      ['chat', 'slack'],
      ['pager', 'pagerduty'],
      ['topic', 'sns'],
    ]);
    expect(d[0]).toMatchObject({ url: 'https://soc.example/hook' });
    expect(d[0]?.kind === 'webhook' && d[0].keys).toHaveLength(2);
    expect(d[2]).toMatchObject({ url: SLACK });
    expect(d[3]).toMatchObject({ routingKey: ROUTING_KEY, url: 'https://events.pagerduty.com/v2/enqueue' });
    expect(reads.sort()).toEqual([arns.pagerduty, arns.rotating, arns.slack].sort());
  });

  it('a credential in the environment is refused (SECRET_IN_ENVIRONMENT) without being quoted', async () => {
    const err = await configError(
      () =>
        loadConfig(
          env({ destinations: [{ name: 'x', kind: 'webhook', url: 'https://a.example', secret: WHSEC }] }),
        ),
      'SECRET_IN_ENVIRONMENT',
    );
    expect(err.message).not.toContain(WHSEC);
    await configError(
      () => loadConfig(env({ destinations: [{ name: 'x', kind: 'slack', url: SLACK, secret: 'a/b' }] })),
      'SECRET_IN_ENVIRONMENT',
    );
  });

  it('a malformed document is INVALID_SETTING, naming the path', async () => {
    const err = await configError(
      () => loadConfig(env({ destinations: [{ name: 'x', kind: 'sms' }] })),
      'INVALID_SETTING',
    );
    expect(err.message).toContain('ANCHORLOG_ALERT_DESTINATIONS.destinations[0].kind');
  });

  it.each([
    ['webhook', { kind: 'webhook', url: 'https://a.example/h' }, 'webhook signing secret'],
    ['slack', { kind: 'slack' }, 'Slack incoming-webhook URL'],
    ['pagerduty', { kind: 'pagerduty' }, 'routing key'],
  ])(
    'a %s secret that is not what it must be: INVALID_SECRET naming the destination, not the value',
    async (_, d, what) => {
      const config = loadConfig(env({ destinations: [{ name: 'dest-x', secret: arns.bad, ...d }] }));
      const err = await configError(loadAlertDestinations(config, source), 'INVALID_SECRET');
      expect(err.message).toContain('dest-x');
      expect(err.message).toContain(what);
      expect(err.message).not.toContain('not-a-secret-of-any-kind');
    },
  );

  it('a secret that does not exist: SECRET_UNREADABLE', async () => {
    const config = loadConfig(
      env({ destinations: [{ name: 'x', kind: 'pagerduty', secret: 'anchorlog/alerts/missing' }] }),
    );
    await configError(loadAlertDestinations(config, source), 'SECRET_UNREADABLE');
  });
});
