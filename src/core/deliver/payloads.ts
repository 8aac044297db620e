/**
 * What each kind of destination receives for one alert (docs/detection.md
 * "Delivery"). Pure functions of the alert and the checkpoint its trigger is
 * under, so every attempt (and every redelivery after a crash) sends the same
 * bytes; only a webhook's timestamp header changes per attempt.
 *
 * Text in an alert comes from rule documents (title, summary, labels) and
 * from producers' events (a group key is an actor id): it is data, never
 * markup. Control characters are replaced everywhere; Slack's `&`, `<`, `>`
 * are escaped, so a key such as `<!channel>` cannot mention anyone.
 */
import type { AlertDocument } from '../detect/alert.ts';
import type { Severity } from '../detect/rule.ts';

/** The signed checkpoint an alert's trigger record is under (null for a commit made without one). */
export interface CheckpointCitation {
  readonly size: number;
  readonly checkpoint: string;
}

export interface AlertNotice {
  readonly alert: AlertDocument;
  readonly checkpoint: CheckpointCitation | null;
}

/** The Standard Webhooks event type of a fired alert, also the `system` log action recording it. */
export const ALERT_FIRE_TYPE = 'alert.fire';

// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const CONTROLS_AND_NEWLINES = /[\x00-\x1f\x7f]/g;

/** One line of text: no control characters, no line breaks, at most `max` characters (… when cut). */
export function oneLine(s: string, max: number): string {
  const t = s.replace(CONTROLS_AND_NEWLINES, ' ');
  return t.length <= max ? t : `${t.slice(0, Math.max(0, max - 1))}…`;
}

function text(s: string, max: number): string {
  const t = s.replace(CONTROLS, ' ');
  return t.length <= max ? t : `${t.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * The webhook body (also SNS's default message): the Standard Webhooks
 * payload shape `{ type, timestamp, data }`, with the whole alert document
 * and the checkpoint it cites. Compact JSON; the signature covers these exact
 * bytes.
 */
export function webhookPayload(n: AlertNotice): string {
  return JSON.stringify({
    type: ALERT_FIRE_TYPE,
    timestamp: n.alert.firedAt,
    data: {
      alert: n.alert,
      checkpoint: n.checkpoint ? { size: n.checkpoint.size, note: n.checkpoint.checkpoint } : null,
    },
  });
}

/** The facts every rendering shows, in order, as label/value pairs. */
function facts(n: AlertNotice): Array<[string, string]> {
  const a = n.alert;
  const out: Array<[string, string]> = [
    ['Rule', `${a.rule.id} v${a.rule.version} (${a.rule.kind})`],
    ['Owner', a.rule.owner],
    ['Log', a.logId],
  ];
  if (a.key !== '') out.push(['Key', a.key]);
  out.push(['Fired at', a.firedAt]);
  if (a.trigger) out.push(['Trigger', `record ${a.trigger.index}, received ${a.trigger.receivedAt}`]);
  if (a.value !== null)
    out.push(['Value', `${a.value}${a.threshold !== null ? ` (threshold ${a.threshold})` : ''}`]);
  out.push([
    'Evidence',
    `records received [${a.evidence.from}, ${a.evidence.to})${a.evidence.indexes.length ? `, indexes ${a.evidence.indexes.join(', ')}` : ''}`,
  ]);
  if (n.checkpoint) out.push(['Checkpoint', `tree size ${n.checkpoint.size}`]);
  if (a.dedup) out.push(['Repeats until', a.dedup.until]);
  const labels = Object.entries(a.labels);
  if (labels.length) out.push(['Labels', labels.map(([k, v]) => `${k}=${v}`).join(', ')]);
  out.push(['Runbook', a.rule.runbook]);
  out.push(['Alert id', a.id]);
  return out;
}

/** Plain text (SNS e-mail): a title line, the summary, then the facts. */
export function alertText(n: AlertNotice): string {
  const a = n.alert;
  const width = Math.max(...facts(n).map(([k]) => k.length)) + 2;
  return [
    `anchorlog alert (${a.rule.severity.toUpperCase()}): ${oneLine(a.rule.title, 200)}`,
    '',
    text(a.summary, 2000),
    '',
    ...facts(n).map(([k, v]) => `${`${k}:`.padEnd(width)}${oneLine(v, 2000)}`),
    '',
    `Export the evidence range with: anchorlog export --log ${a.logId} --from ${a.evidence.from} --to ${a.evidence.to} -o evidence.tar`,
    '',
  ].join('\n');
}

/** Slack's three control characters (api.slack.com "Escaping text"): user text can never become a mention or a link. */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A URL inside Slack's `<url|label>`: the characters that would end or split the link, percent-encoded. */
function slackUrl(u: string): string {
  return u.replace(/[<>| ]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');
}

/**
 * A Slack incoming-webhook message: `text` (the notification and fallback
 * line) and Block Kit blocks — header, summary, facts, runbook. Bounded by
 * Slack's limits (header 150 characters, section text 3,000, field 2,000,
 * at most 10 fields).
 */
export function slackPayload(n: AlertNotice): Record<string, unknown> {
  const a = n.alert;
  const sev = a.rule.severity.toUpperCase();
  const fields = facts(n)
    .filter(([k]) => k !== 'Runbook' && k !== 'Evidence')
    .slice(0, 10)
    .map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${slackEscape(oneLine(v, 1900))}` }));
  return {
    text: slackEscape(oneLine(`[${sev}] ${a.rule.title}: ${a.summary}`, 3000)),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: oneLine(`${sev}: ${a.rule.title}`, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(text(a.summary, 2900)) } },
      { type: 'section', fields },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: slackEscape(
              oneLine(
                `Evidence: records received [${a.evidence.from}, ${a.evidence.to})${n.checkpoint ? ` under checkpoint size ${n.checkpoint.size}` : ''}`,
                2000,
              ),
            ).concat(` · <${slackUrl(a.rule.runbook)}|Runbook>`),
          },
        ],
      },
    ],
  };
}

/** PagerDuty's four severities (Events API v2 `payload.severity`). */
export const PAGERDUTY_SEVERITY: Readonly<Record<Severity, 'critical' | 'error' | 'warning' | 'info'>> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
  info: 'info',
};

/**
 * A PagerDuty Events API v2 trigger event. `dedup_key` is the alert id, so a
 * redelivery updates the same PagerDuty alert instead of opening another;
 * `summary` is at most 1,024 characters (the API's limit).
 */
export function pagerDutyPayload(n: AlertNotice, routingKey: string): Record<string, unknown> {
  const a = n.alert;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: a.id,
    payload: {
      summary: oneLine(`${a.rule.title}: ${a.summary}`, 1024),
      source: `anchorlog/${a.logId}`,
      severity: PAGERDUTY_SEVERITY[a.rule.severity],
      timestamp: a.firedAt,
      component: a.logId,
      group: a.rule.owner,
      class: a.rule.id,
      custom_details: {
        alert_id: a.id,
        rule: { id: a.rule.id, version: a.rule.version, kind: a.rule.kind, owner: a.rule.owner },
        key: a.key,
        summary: a.summary,
        value: a.value,
        threshold: a.threshold,
        trigger: a.trigger,
        evidence: a.evidence,
        checkpoint_size: n.checkpoint?.size ?? null,
        labels: a.labels,
      },
    },
    links: [{ href: a.rule.runbook, text: 'Runbook' }],
    client: 'anchorlog',
  };
}

/**
 * SNS Publish input (without the topic): one message per protocol
 * (MessageStructure json): e-mail subscribers get the text, every other
 * protocol (HTTPS, SQS, Lambda) the webhook JSON. The subject is printable
 * ASCII without line breaks, at most 100 characters (SNS's rule); attributes
 * let subscriptions filter by severity, rule or log, and carry the alert id,
 * the consumer's idempotency key.
 */
export function snsMessage(n: AlertNotice): {
  subject: string;
  message: string;
  attributes: Record<string, string>;
} {
  const a = n.alert;
  const subject = `[anchorlog] ${a.rule.severity.toUpperCase()}: ${a.rule.title}`
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100);
  return {
    subject,
    message: JSON.stringify({ default: webhookPayload(n), email: alertText(n) }),
    attributes: { alert_id: a.id, severity: a.rule.severity, rule_id: a.rule.id, log_id: a.logId },
  };
}
