/**
 * Where alerts go (docs/detection.md "Delivery"): named destinations, each a
 * kind and where to reach it, plus routing by severity for rules that name
 * none. The configuration is operator-owned (ANCHORLOG_ALERT_DESTINATIONS,
 * read once by src/config.ts) and holds no secret: a destination that needs
 * one names it (`secret`: a Secrets Manager name or ARN), and the secret's
 * value is read at cold start through the SecretSource port.
 *
 *   webhook    url (https; http only to a loopback host), secret → `whsec_…` signing key(s)
 *   slack      secret → the incoming-webhook URL (the URL is the credential)
 *   pagerduty  secret → the Events API v2 routing key; url optional (default the US endpoint)
 *   sns        topicArn; no secret (the function's role may publish to that topic only)
 *
 * Pure: parsing and routing only.
 */

import type { AlertDocument } from '../detect/alert.ts';
import { SEVERITIES, type Severity } from '../detect/rule.ts';
import { AnchorlogError } from '../errors.ts';

export type DestinationConfigErrorCode =
  /** The document does not parse or has the wrong shape; the message names the JSON path. */
  | 'INVALID_DESTINATIONS'
  /** A secret value where only a secret's name belongs. */
  | 'SECRET_IN_CONFIG';

export class DestinationConfigError extends AnchorlogError<DestinationConfigErrorCode> {}

export const DESTINATION_KINDS = ['webhook', 'slack', 'pagerduty', 'sns'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** The destination name rule of rule documents (src/core/detect/rule.ts `destinations`). */
export const DESTINATION_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_DESTINATIONS = 20;
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/**
 * The name of the deployment's own SNS topic (the CDK stack's, passed as
 * ANCHORLOG_ALERT_TOPIC_ARN): a destination the document may route to without
 * declaring it, and the default route when the document names none.
 */
export const STACK_TOPIC_DESTINATION = 'alerts-topic';

export type DestinationSpec =
  | { readonly name: string; readonly kind: 'webhook'; readonly url: string; readonly secret: string }
  | { readonly name: string; readonly kind: 'slack'; readonly secret: string }
  | { readonly name: string; readonly kind: 'pagerduty'; readonly url: string; readonly secret: string }
  | { readonly name: string; readonly kind: 'sns'; readonly topicArn: string };

export interface DeliveryRouting {
  /** By name, in the order configured. */
  readonly destinations: ReadonlyMap<string, DestinationSpec>;
  /** Destinations of an alert whose rule names none, by severity. */
  readonly bySeverity: Readonly<Partial<Record<Severity, readonly string[]>>>;
  /** … and for a severity not listed in bySeverity. */
  readonly fallback: readonly string[];
}

export const EMPTY_ROUTING: DeliveryRouting = { destinations: new Map(), bySeverity: {}, fallback: [] };

/** A Secrets Manager secret name or ARN (never a value: the checks below catch the usual ones). */
const SECRET_REF_RE = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const TOPIC_ARN_RE = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function fail(
  path: string,
  message: string,
  code: DestinationConfigErrorCode = 'INVALID_DESTINATIONS',
): never {
  throw new DestinationConfigError(code, `ANCHORLOG_ALERT_DESTINATIONS${path}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown field; allowed here: ${allowed.join(', ')}`);
}

/**
 * Why `raw` is not an acceptable endpoint URL, or undefined when it is:
 * https, or http to a loopback host (the local stack's receiver); no
 * credentials in it (they would be logged with it), no fragment. The reason
 * never quotes the URL (a Slack URL is itself a credential).
 */
export function endpointUrlProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 2048) return 'must be a URL of at most 2,048 characters';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  const loopback = LOOPBACK_HOSTS.has(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback))
    return 'must be https:// (http:// only to 127.0.0.1, [::1] or localhost)';
  if (u.username !== '' || u.password !== '') return 'must not carry credentials';
  if (u.hash !== '') return 'must not have a #fragment';
  return undefined;
}

function endpointUrl(raw: unknown, path: string): string {
  const problem = endpointUrlProblem(raw);
  if (problem !== undefined) fail(path, problem);
  return raw as string;
}

function secretRef(o: Record<string, unknown>, path: string): string {
  const s = o.secret;
  if (typeof s !== 'string' || !SECRET_REF_RE.test(s))
    fail(`${path}.secret`, 'must name a secret (a Secrets Manager name or ARN)');
  if (s.startsWith('whsec_') || /^https?:/i.test(s) || /^[A-Za-z0-9]{32}$/.test(s))
    fail(
      `${path}.secret`,
      'looks like a secret value: put the value in Secrets Manager and name the secret here',
      'SECRET_IN_CONFIG',
    );
  return s;
}

function destination(raw: unknown, path: string): DestinationSpec {
  if (!isObject(raw)) fail(path, 'must be an object');
  for (const k of ['signingSecret', 'routingKey', 'routing_key', 'webhookUrl', 'token'])
    if (k in raw)
      fail(
        `${path}.${k}`,
        'secret values never go in the configuration: use `secret` (a secret name)',
        'SECRET_IN_CONFIG',
      );
  const name = raw.name;
  if (typeof name !== 'string' || !DESTINATION_NAME_RE.test(name))
    fail(`${path}.name`, 'must match [a-z0-9][a-z0-9-]{0,62} (the names rules use in `destinations`)');
  const kind = raw.kind;
  switch (kind) {
    case 'webhook':
      only(raw, path, ['name', 'kind', 'url', 'secret']);
      return { name, kind, url: endpointUrl(raw.url, `${path}.url`), secret: secretRef(raw, path) };
    case 'slack':
      if ('url' in raw)
        fail(
          `${path}.url`,
          'a Slack incoming-webhook URL is a credential: store it in the secret',
          'SECRET_IN_CONFIG',
        );
      only(raw, path, ['name', 'kind', 'secret']);
      return { name, kind, secret: secretRef(raw, path) };
    case 'pagerduty':
      only(raw, path, ['name', 'kind', 'url', 'secret']);
      return {
        name,
        kind,
        url: raw.url === undefined ? PAGERDUTY_EVENTS_URL : endpointUrl(raw.url, `${path}.url`),
        secret: secretRef(raw, path),
      };
    case 'sns': {
      only(raw, path, ['name', 'kind', 'topicArn']);
      const arn = raw.topicArn;
      if (typeof arn !== 'string' || !TOPIC_ARN_RE.test(arn))
        fail(`${path}.topicArn`, 'must be an SNS topic ARN');
      return { name, kind, topicArn: arn };
    }
    default:
      return fail(`${path}.kind`, `must be one of ${DESTINATION_KINDS.join(', ')}`);
  }
}

function nameList(raw: unknown, path: string, known: ReadonlyMap<string, DestinationSpec>): string[] {
  if (!Array.isArray(raw)) fail(path, 'must be a list of destination names');
  const out: string[] = [];
  for (const [i, n] of raw.entries()) {
    if (typeof n !== 'string' || !known.has(n)) fail(`${path}[${i}]`, 'names no configured destination');
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * Parses the ANCHORLOG_ALERT_DESTINATIONS document:
 *
 *   { "destinations": [ { "name", "kind", … }, … ],
 *     "bySeverity": { "critical": ["pager"], … },   // optional
 *     "default": ["topic"] }                         // optional
 *
 * With `topicArn` (the stack's topic), the destination `alerts-topic` exists
 * without being declared, and is the default when the document has none.
 * Unset or empty, without a topic: no destinations (alerts are still
 * recorded in the `system` log). Throws DestinationConfigError naming the
 * offending path.
 */
export function parseDeliveryRouting(
  text: string | undefined,
  opts: { readonly topicArn?: string } = {},
): DeliveryRouting {
  const topic: DestinationSpec | undefined =
    opts.topicArn === undefined
      ? undefined
      : { name: STACK_TOPIC_DESTINATION, kind: 'sns', topicArn: opts.topicArn };
  if (topic && !TOPIC_ARN_RE.test(topic.topicArn))
    fail('', 'ANCHORLOG_ALERT_TOPIC_ARN is not an SNS topic ARN');
  if (text === undefined || text.trim() === '')
    return topic
      ? { destinations: new Map([[topic.name, topic]]), bySeverity: {}, fallback: [topic.name] }
      : EMPTY_ROUTING;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('', 'is not JSON');
  }
  if (!isObject(doc))
    fail('', 'must be a JSON object {"destinations": [...], "bySeverity"?: {...}, "default"?: [...]}');
  only(doc, '', ['destinations', 'bySeverity', 'default']);
  const list = doc.destinations ?? [];
  if (!Array.isArray(list)) fail('.destinations', 'must be a list');
  if (list.length > MAX_DESTINATIONS) fail('.destinations', `at most ${MAX_DESTINATIONS} destinations`);
  const destinations = new Map<string, DestinationSpec>(topic ? [[topic.name, topic]] : []);
  for (const [i, raw] of list.entries()) {
    const d = destination(raw, `.destinations[${i}]`);
    if (destinations.has(d.name))
      fail(
        `.destinations[${i}].name`,
        d.name === topic?.name
          ? `${d.name} is the stack's topic, configured already`
          : `${d.name} is configured twice`,
      );
    destinations.set(d.name, d);
  }
  const bySeverity: Partial<Record<Severity, string[]>> = {};
  if (doc.bySeverity !== undefined) {
    if (!isObject(doc.bySeverity))
      fail('.bySeverity', 'must be an object from severity to destination names');
    for (const [sev, names] of Object.entries(doc.bySeverity)) {
      if (!(SEVERITIES as readonly string[]).includes(sev))
        fail(`.bySeverity.${sev}`, `is not a severity (${SEVERITIES.join(', ')})`);
      bySeverity[sev as Severity] = nameList(names, `.bySeverity.${sev}`, destinations);
    }
  }
  const fallback =
    doc.default === undefined ? (topic ? [topic.name] : []) : nameList(doc.default, '.default', destinations);
  return { destinations, bySeverity, fallback };
}

/**
 * The destination names an alert goes to: its rule's `destinations` when it
 * names any (names that are not configured are kept: delivery dead-letters
 * them as UNKNOWN_DESTINATION, so a typo is visible, never silent), else the
 * routes of its severity, else the default. No duplicates, in order.
 */
export function routeAlert(
  routing: DeliveryRouting,
  alert: Pick<AlertDocument, 'destinations' | 'rule'>,
): string[] {
  const names =
    alert.destinations.length > 0
      ? alert.destinations
      : (routing.bySeverity[alert.rule.severity] ?? routing.fallback);
  return [...new Set(names)];
}
