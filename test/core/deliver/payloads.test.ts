/**
 * What each destination kind receives (src/core/deliver/payloads.ts): golden
 * files (test/fixtures/deliver/*.golden.txt: exact bytes, so not .json, which
 * the formatter would rewrite) for an ordinary alert and for one whose text
 * tries to be markup, and
 * the bounds each service imposes. Regenerate the goldens after a deliberate
 * change with `UPDATE_GOLDEN=1 vitest run test/core/deliver/payloads.test.ts`
 * and review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AlertNotice,
  alertText,
  pagerDutyPayload,
  slackPayload,
  snsMessage,
  webhookPayload,
} from '../../../src/core/deliver/payloads.ts';
import type { AlertDocument } from '../../../src/core/detect/alert.ts';
import { ALERT, HOSTILE, NOTICE } from './alerts.ts';

const dir = new URL('../../fixtures/deliver/', import.meta.url).pathname;
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';

function golden(name: string, actual: string): void {
  const path = `${dir}${name}`;
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const pretty = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

describe.each([
  ['alert', NOTICE],
  ['hostile', HOSTILE],
] as const)('%s', (name, notice) => {
  it('webhook body (Standard Webhooks payload: type, timestamp, data)', () => {
    const body = webhookPayload(notice);
    golden(`${name}.webhook.golden.txt`, `${body}\n`);
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({ type: 'alert.fire', timestamp: notice.alert.firedAt });
    expect(parsed.data.alert).toEqual(notice.alert);
  });
  it('Slack incoming-webhook message', () =>
    golden(`${name}.slack.golden.txt`, pretty(slackPayload(notice))));
  it('PagerDuty Events API v2 trigger', () =>
    golden(`${name}.pagerduty.golden.txt`, pretty(pagerDutyPayload(notice, ROUTING_KEY))));
  it('SNS publish (subject, per-protocol message, attributes)', () => {
    const m = snsMessage(notice);
    golden(`${name}.sns.golden.txt`, pretty({ ...m, message: JSON.parse(m.message) }));
  });
  it('e-mail text', () => golden(`${name}.text.golden.txt`, alertText(notice)));
});

describe('PagerDuty', () => {
  it('dedup_key is the alert id and severities map onto PagerDuty’s four', () => {
    const p = pagerDutyPayload(NOTICE, ROUTING_KEY) as { dedup_key: string; payload: { severity: string } };
    expect(p.dedup_key).toBe(ALERT.id);
    const sev = (s: AlertDocument['rule']['severity']) =>
      (
        pagerDutyPayload(
          { ...NOTICE, alert: { ...ALERT, rule: { ...ALERT.rule, severity: s } } },
          ROUTING_KEY,
        ) as {
          payload: { severity: string };
        }
      ).payload.severity;
    expect(['critical', 'high', 'medium', 'low', 'info'].map((s) => sev(s as never))).toEqual([
      'critical',
      'error',
      'warning',
      'info',
      'info',
    ]);
  });
});

/** Any text a rule or a producer can put in an alert. */
const textArb = fc.string({ unit: 'binary', maxLength: 3000 });
const noticeArb = fc.record({ title: textArb, summary: textArb, key: textArb }).map(
  ({ title, summary, key }): AlertNotice => ({
    alert: { ...ALERT, rule: { ...ALERT.rule, title: title || 't' }, summary, key },
    checkpoint: null,
  }),
);

describe('bounds and escaping for any alert text', () => {
  it('Slack: no raw <, > or & from alert text, so no mention or link can be injected; within block limits', () => {
    fc.assert(
      fc.property(noticeArb, (n) => {
        const p = slackPayload(n) as {
          text: string;
          blocks: Array<{
            type: string;
            text?: { text: string };
            fields?: Array<{ text: string }>;
            elements?: Array<{ text: string }>;
          }>;
        };
        const texts = [
          p.text,
          ...p.blocks.flatMap((b) => [
            ...(b.type !== 'header' && b.text ? [b.text.text] : []),
            ...(b.fields ?? []).map((f) => f.text),
            // The context line ends with our own runbook link; check what precedes it.
            ...(b.elements ?? []).map((e) => e.text.slice(0, e.text.lastIndexOf(' · <'))),
          ]),
        ];
        for (const t of texts) expect(t.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[<>&]/);
        const header = p.blocks[0]?.text?.text ?? '';
        expect(header.length).toBeLessThanOrEqual(150);
        expect(p.text.length).toBeLessThanOrEqual(3000 * 5);
        for (const b of p.blocks)
          if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
        for (const b of p.blocks) expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
      }),
    );
  });

  it('PagerDuty: summary is one line of at most 1,024 characters', () => {
    fc.assert(
      fc.property(noticeArb, (n) => {
        const s = (pagerDutyPayload(n, ROUTING_KEY) as { payload: { summary: string } }).payload.summary;
        expect(s.length).toBeLessThanOrEqual(1024);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
        expect(s).not.toMatch(/[\x00-\x1f\x7f]/);
      }),
    );
  });

  it('SNS: the subject is printable ASCII, at most 100 characters, no line break', () => {
    fc.assert(
      fc.property(noticeArb, (n) => {
        const { subject, message } = snsMessage(n);
        expect(subject).toMatch(/^[\x20-\x7e]{1,100}$/);
        const m = JSON.parse(message);
        expect(Object.keys(m)).toEqual(['default', 'email']);
        expect(JSON.parse(m.default).data.alert.id).toBe(ALERT.id);
      }),
    );
  });

  it('text: every line but the summary is one line, without control characters', () => {
    fc.assert(
      fc.property(noticeArb, (n) => {
        const t = alertText(n);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
        expect(t).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      }),
    );
  });
});
