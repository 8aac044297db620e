/** Destination configuration and routing (src/core/deliver/destinations.ts). */
import { describe, expect, it } from 'vitest';
import {
  DestinationConfigError,
  PAGERDUTY_EVENTS_URL,
  parseDeliveryRouting,
  routeAlert,
} from '../../../src/core/deliver/destinations.ts';
import { ALERT } from './alerts.ts';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:anchorlog/soc-AbCdEf';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:anchorlog-alerts';

const doc = {
  destinations: [
    { name: 'soc-webhook', kind: 'webhook', url: 'https://soc.example/hooks/anchorlog', secret: SECRET },
    { name: 'secops-slack', kind: 'slack', secret: 'anchorlog/slack' },
    { name: 'secops-pager', kind: 'pagerduty', secret: 'anchorlog/pagerduty' },
    {
      name: 'eu-pager',
      kind: 'pagerduty',
      secret: 'anchorlog/pd-eu',
      url: 'https://events.eu.pagerduty.com/v2/enqueue',
    },
    { name: 'oncall', kind: 'sns', topicArn: TOPIC },
    { name: 'local', kind: 'webhook', url: 'http://127.0.0.1:9999/alerts', secret: 'local/webhook' },
  ],
  bySeverity: { critical: ['secops-pager', 'oncall', 'secops-pager'], high: ['secops-pager'] },
  default: ['oncall'],
};

function failure(text: string | undefined): { code: string; message: string } {
  try {
    parseDeliveryRouting(text);
  } catch (err) {
    if (err instanceof DestinationConfigError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('parsed');
}

describe('parseDeliveryRouting', () => {
  it('reads every kind, with PagerDuty’s default endpoint', () => {
    const r = parseDeliveryRouting(JSON.stringify(doc));
    expect([...r.destinations.keys()]).toEqual(doc.destinations.map((d) => d.name));
    expect(r.destinations.get('secops-pager')).toEqual({
      name: 'secops-pager',
      kind: 'pagerduty',
      url: PAGERDUTY_EVENTS_URL,
      secret: 'anchorlog/pagerduty',
    });
    expect(r.destinations.get('oncall')).toEqual({ name: 'oncall', kind: 'sns', topicArn: TOPIC });
    expect(r.bySeverity.critical).toEqual(['secops-pager', 'oncall']);
    expect(r.fallback).toEqual(['oncall']);
  });

  it('unset or blank: no destinations', () => {
    for (const t of [undefined, '', '  ']) expect(parseDeliveryRouting(t).destinations.size).toBe(0);
  });

  it.each([
    ['not JSON', '{', ''],
    ['an array', '[]', ''],
    ['an unknown top-level field', JSON.stringify({ ...doc, routes: {} }), '.routes'],
    [
      'a bad name',
      JSON.stringify({ destinations: [{ name: 'Bad_Name', kind: 'sns', topicArn: TOPIC }] }),
      '.destinations[0].name',
    ],
    [
      'a duplicate name',
      JSON.stringify({ destinations: [doc.destinations[4], doc.destinations[4]] }),
      '.destinations[1].name',
    ],
    [
      'an unknown kind',
      JSON.stringify({ destinations: [{ name: 'x', kind: 'email' }] }),
      '.destinations[0].kind',
    ],
    [
      'a plain-http URL to another host',
      JSON.stringify({ destinations: [{ ...doc.destinations[0], url: 'http://soc.example/x' }] }),
      '.destinations[0].url',
    ],
    [
      'a URL with credentials',
      JSON.stringify({ destinations: [{ ...doc.destinations[0], url: 'https://u:p@soc.example/x' }] }),
      '.destinations[0].url',
    ],
    [
      'an unknown field on a destination',
      JSON.stringify({ destinations: [{ ...doc.destinations[4], url: 'https://x.example' }] }),
      '.destinations[0].url',
    ],
    [
      'a bad topic ARN',
      JSON.stringify({ destinations: [{ name: 'x', kind: 'sns', topicArn: 'anchorlog-alerts' }] }),
      '.destinations[0].topicArn',
    ],
    [
      'a route to an unknown destination',
      JSON.stringify({ ...doc, bySeverity: { high: ['nope'] } }),
      '.bySeverity.high[0]',
    ],
    [
      'a route for an unknown severity',
      JSON.stringify({ ...doc, bySeverity: { urgent: ['oncall'] } }),
      '.bySeverity.urgent',
    ],
    ['a default naming an unknown destination', JSON.stringify({ ...doc, default: ['nope'] }), '.default[0]'],
  ])('refuses %s, naming where', (_, text, path) => {
    const f = failure(text);
    expect(f.code).toBe('INVALID_DESTINATIONS');
    expect(f.message).toContain(`ANCHORLOG_ALERT_DESTINATIONS${path}`);
  });

  it.each([
    [
      'a whsec_ value as the secret',
      { name: 'x', kind: 'webhook', url: 'https://a.example', secret: 'whsec_AAAA' },
    ],
    [
      'a Slack URL',
      { name: 'x', kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X', secret: 'a/b' },
    ],
    ['a URL as the secret', { name: 'x', kind: 'slack', secret: 'https://hooks.slack.com/services/T/B/X' }],
    [
      'a routing key as the secret',
      { name: 'x', kind: 'pagerduty', secret: 'R0123456789abcdef0123456789abcde' },
    ],
    ['a routingKey field', { name: 'x', kind: 'pagerduty', secret: 'a/b', routingKey: 'R012' }],
  ])('refuses %s with SECRET_IN_CONFIG, without quoting it', (_, d) => {
    const f = failure(JSON.stringify({ destinations: [d] }));
    expect(f.code).toBe('SECRET_IN_CONFIG');
    expect(f.message).not.toMatch(/whsec_AAAA|hooks\.slack\.com|R0123456789/);
  });
});

describe('the stack’s topic (ANCHORLOG_ALERT_TOPIC_ARN)', () => {
  it('is the destination alerts-topic, the default unless the document sets one, routable by name', () => {
    const alone = parseDeliveryRouting(undefined, { topicArn: TOPIC });
    expect(alone.destinations.get('alerts-topic')).toEqual({
      name: 'alerts-topic',
      kind: 'sns',
      topicArn: TOPIC,
    });
    expect(alone.fallback).toEqual(['alerts-topic']);
    const withDoc = parseDeliveryRouting(
      JSON.stringify({
        destinations: [doc.destinations[0]],
        bySeverity: { critical: ['alerts-topic', 'soc-webhook'] },
      }),
      { topicArn: TOPIC },
    );
    expect(withDoc.fallback).toEqual(['alerts-topic']);
    expect(withDoc.bySeverity.critical).toEqual(['alerts-topic', 'soc-webhook']);
    expect(parseDeliveryRouting(JSON.stringify(doc), { topicArn: TOPIC }).fallback).toEqual(['oncall']);
  });
  it('cannot be declared again, and must be a topic ARN', () => {
    expect(() =>
      parseDeliveryRouting(
        JSON.stringify({ destinations: [{ name: 'alerts-topic', kind: 'sns', topicArn: TOPIC }] }),
        {
          topicArn: TOPIC,
        },
      ),
    ).toThrow(/stack's topic/);
    expect(() => parseDeliveryRouting(undefined, { topicArn: 'nope' })).toThrow(DestinationConfigError);
  });
});

describe('routeAlert', () => {
  const r = parseDeliveryRouting(JSON.stringify(doc));
  it('uses the rule’s destinations when it names any (unknown names kept, to be dead-lettered visibly)', () => {
    expect(routeAlert(r, { ...ALERT, destinations: ['soc-webhook', 'typo', 'soc-webhook'] })).toEqual([
      'soc-webhook',
      'typo',
    ]);
  });
  it('else the routes of its severity, else the default', () => {
    const sev = (severity: 'critical' | 'high' | 'low') =>
      routeAlert(r, { destinations: [], rule: { ...ALERT.rule, severity } });
    expect(sev('critical')).toEqual(['secops-pager', 'oncall']);
    expect(sev('high')).toEqual(['secops-pager']);
    expect(sev('low')).toEqual(['oncall']);
    expect(routeAlert(parseDeliveryRouting(undefined), { ...ALERT, destinations: [] })).toEqual([]);
  });
});
