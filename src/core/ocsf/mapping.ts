/**
 * A sealed record as an OCSF event (docs/ocsf.md), pure: no I/O, no AWS.
 *
 * Version: OCSF 1.1.0 (https://schema.ocsf.io/1.1.0), the version Amazon
 * Security Lake checks custom sources against ("Use the OCSF Validation tool
 * to verify if the custom source is compatible with OCSF Schema 1.1",
 * Security Lake user guide, custom-sources.html). Every attribute emitted
 * here is defined for its class in the ocsf/ocsf-schema repository at tag
 * v1.1.0 (commit 8ea34523a316c4bad7e360e870a23a8e5cb29bd5); the JSON Schema
 * in ./schema-1.1.0.json is derived from the same tree, and the tests
 * validate every emitted event against it.
 *
 * Class and activity come from the event catalog entry of the record's
 * action (src/core/catalog.ts `ocsf`). When the catalog does not know the
 * action, or names a class this mapper cannot fill honestly (OCSF_CLASSES
 * lists the ones it can), the default is API Activity (6003): an anchorlog
 * event is "an actor performed an operation on a target", which is exactly
 * what API Activity describes (actor, api.operation, resources), and it is
 * the class CloudTrail records land in. Its activity is read from the last
 * segment of the action (create/read/update/delete, else Other).
 *
 * Proof: every event carries the anchorlog proof handle in `unmapped`
 * (`anchorlog.log_id`, `anchorlog.leaf_index`, `anchorlog.leaf_hash`), so any
 * OCSF row can be proved with `anchorlog prove` (docs/ocsf.md §Proving a row).
 * `unmapped` is a flat string → string map: Parquet readers (Athena, Security
 * Lake's Glue tables) see one MAP(VARCHAR, VARCHAR) column whatever the
 * events carry; nested values are canonical JSON (RFC 8785).
 *
 * AI operations: the `ai_operation` OCSF profile exists from OCSF 1.8.0, not
 * in 1.1.0. For catalog actions that name it, the model and provider go into
 * `unmapped` under the 1.8.0 attribute paths (`ai_operation.ai_model.name`,
 * `ai_operation.ai_model.ai_provider`), ready to move when Security Lake
 * accepts a newer version.
 */
import { canonicalJson } from '../canonical.ts';
import type { OcsfMapping } from '../catalog.ts';
import { type AuditEvent, type Principal, parseUtcTimestamp } from '../event.ts';
import type { JsonValue } from '../ijson.ts';
import type { LogRecord } from '../record.ts';

export const OCSF_VERSION = '1.1.0';
export const OCSF_PRODUCT_NAME = 'anchorlog';
export const OCSF_DEFAULT_VENDOR = 'anchorlog';

/** Classes this mapper fills (uid → name, category uid); their required attributes are derived below. */
export const OCSF_CLASSES: Readonly<Record<number, { name: string; categoryUid: number; category: string }>> =
  {
    2004: { name: 'Detection Finding', categoryUid: 2, category: 'Findings' },
    3001: { name: 'Account Change', categoryUid: 3, category: 'Identity & Access Management' },
    3002: { name: 'Authentication', categoryUid: 3, category: 'Identity & Access Management' },
    3004: { name: 'Entity Management', categoryUid: 3, category: 'Identity & Access Management' },
    3005: { name: 'User Access Management', categoryUid: 3, category: 'Identity & Access Management' },
    6001: { name: 'Web Resources Activity', categoryUid: 6, category: 'Application Activity' },
    6002: { name: 'Application Lifecycle', categoryUid: 6, category: 'Application Activity' },
    6003: { name: 'API Activity', categoryUid: 6, category: 'Application Activity' },
  };

/** The mapping used for actions the catalog does not know (see the file comment). */
export function defaultOcsfMapping(action: string): OcsfMapping {
  const verb = action.slice(action.lastIndexOf('.') + 1);
  const [activity, activityId] = DEFAULT_ACTIVITIES[verb] ?? ['Other', 99];
  return {
    category: 'Application Activity',
    class: 'API Activity',
    classUid: 6003,
    activity,
    activityId,
  };
}

const DEFAULT_ACTIVITIES: Record<string, [string, number]> = {
  create: ['Create', 1],
  add: ['Create', 1],
  register: ['Create', 1],
  submit: ['Create', 1],
  read: ['Read', 2],
  get: ['Read', 2],
  list: ['Read', 2],
  view: ['Read', 2],
  update: ['Update', 3],
  change: ['Update', 3],
  set: ['Update', 3],
  delete: ['Delete', 4],
  remove: ['Delete', 4],
};

/** Where the mapping came from: the catalog, or the default (and why). */
export interface ResolvedOcsfMapping {
  readonly mapping: OcsfMapping;
  readonly source: 'catalog' | 'default';
  /** When the catalog named a class this mapper does not fill: that class uid. */
  readonly unsupportedClassUid?: number;
}

/** What the mapper needs from a catalog (src/core/catalog.ts Catalog has it). */
export interface OcsfCatalog {
  entry(action: string, version?: number): { readonly ocsf: OcsfMapping } | undefined;
}

export function resolveOcsfMapping(event: AuditEvent, catalog?: OcsfCatalog): ResolvedOcsfMapping {
  const entry = catalog?.entry(event.action, event.schemaVersion) ?? catalog?.entry(event.action);
  if (!entry) return { mapping: defaultOcsfMapping(event.action), source: 'default' };
  if (!(entry.ocsf.classUid in OCSF_CLASSES))
    return {
      mapping: defaultOcsfMapping(event.action),
      source: 'default',
      unsupportedClassUid: entry.ocsf.classUid,
    };
  return { mapping: entry.ocsf, source: 'catalog' };
}

/** One sealed record and what proves it. */
export interface OcsfInput {
  readonly record: Pick<LogRecord, 'logId' | 'index' | 'receivedAt' | 'submitter' | 'event'>;
  /** Base64 RFC 6962 leaf hash of the record's canonical bytes. */
  readonly leafHash: string;
}

export interface OcsfOptions {
  readonly catalog?: OcsfCatalog;
  /** metadata.product.vendor_name (default "anchorlog"). */
  readonly vendorName?: string;
  /** metadata.product.version, e.g. the package version. */
  readonly productVersion?: string;
  /** Adds the OCSF `cloud` profile (Security Lake sources carry it). */
  readonly cloud?: { readonly region: string; readonly accountUid: string };
}

/** An OCSF event as plain JSON (attribute names are OCSF's). */
export type OcsfEvent = { [k: string]: JsonValue };

const STATUS: Record<AuditEvent['outcome'], { id: number; name: string; detail?: string }> = {
  success: { id: 1, name: 'Success' },
  failure: { id: 2, name: 'Failure' },
  denied: { id: 2, name: 'Failure', detail: 'denied' },
};

/** OCSF `action_id` (Allowed 1, Denied 2, Unknown 0) for classes that carry a disposition. */
const ACTION: Record<AuditEvent['outcome'], { id: number; name: string }> = {
  success: { id: 1, name: 'Allowed' },
  denied: { id: 2, name: 'Denied' },
  failure: { id: 0, name: 'Unknown' },
};

/** OCSF 1.1.0 user.type_id: Unknown 0, User 1, Admin 2, System 3, Other 99. */
function ocsfUser(p: Principal): { [k: string]: JsonValue } {
  const type =
    p.type === 'human'
      ? { type_id: 1, type: 'User' }
      : p.type === 'service' || p.type === 'system'
        ? { type_id: 3, type: 'System' }
        : // An AI agent: OCSF 1.1.0 has no agent principal type (1.8.0's ai_agent is later).
          { type_id: 99, type: 'Agent' };
  return { uid: p.id, ...(p.name !== undefined ? { name: p.name } : {}), ...type };
}

const USER_TARGETS = new Set(['user', 'human', 'agent', 'service', 'account', 'principal']);

function targetAsUser(e: AuditEvent): { [k: string]: JsonValue } | undefined {
  const t = e.target;
  if (!t || !USER_TARGETS.has(t.type)) return undefined;
  return { uid: t.id, ...(t.name !== undefined ? { name: t.name } : {}) };
}

function resources(e: AuditEvent): JsonValue[] {
  const t = e.target;
  return t ? [{ uid: t.id, type: t.type, ...(t.name !== undefined ? { name: t.name } : {}) }] : [];
}

/**
 * The source endpoint: the client IP when the producer recorded it; else the
 * authenticated submitter (the service that reported the event to anchorlog)
 * as `svc_name`, which OCSF defines for service-to-service connections.
 */
function srcEndpoint(r: OcsfInput['record']): { [k: string]: JsonValue } {
  const ip = r.event.context?.ip;
  return ip !== undefined ? { ip } : { svc_name: r.submitter };
}

function metaString(e: AuditEvent, key: string): string | undefined {
  const v = e.metadata?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function epochMs(s: string): number {
  const ms = parseUtcTimestamp(s);
  // Records are validated Event v1, so this holds; a hand-built input is refused loudly.
  if (ms === undefined) throw new RangeError(`not a UTC timestamp: ${JSON.stringify(s)}`);
  return ms;
}

/** The class-specific attributes (the ones OCSF 1.1.0 requires for the class, and those we know). */
function classAttributes(classUid: number, r: OcsfInput['record']): { [k: string]: JsonValue } {
  const e = r.event;
  switch (classUid) {
    case 2004: {
      const act = ACTION[e.outcome];
      return {
        finding_info: {
          uid: e.id ?? `${r.logId}/${r.index}`,
          title: metaString(e, 'rule') ?? e.action,
          types: [e.action],
        },
        action_id: act.id,
        action: act.name,
        resources: resources(e),
      };
    }
    case 3001:
      return {
        user: targetAsUser(e) ?? ocsfUser(e.actor),
        ...(e.target && !USER_TARGETS.has(e.target.type)
          ? { policy: { uid: e.target.id, ...(e.target.name !== undefined ? { name: e.target.name } : {}) } }
          : {}),
        src_endpoint: srcEndpoint(r),
      };
    case 3002:
      return {
        // The principal that authenticated is the actor.
        user: ocsfUser(e.actor),
        // OCSF requires the service or the destination: the target when there is
        // one, else the producer that reported the sign-in (the authenticated submitter).
        service: e.target ? { uid: e.target.id, name: e.target.name ?? e.target.id } : { name: r.submitter },
        src_endpoint: srcEndpoint(r),
        ...(e.context?.userAgent !== undefined ? { http_request: { user_agent: e.context.userAgent } } : {}),
      };
    case 3004:
      return {
        entity: e.target
          ? {
              uid: e.target.id,
              type: e.target.type,
              ...(e.target.name !== undefined ? { name: e.target.name } : {}),
            }
          : { name: e.action },
      };
    case 3005: {
      const grantee = metaString(e, 'grantee');
      return {
        user: grantee !== undefined ? { uid: grantee } : (targetAsUser(e) ?? ocsfUser(e.actor)),
        privileges: [e.target ? `${e.target.type}:${e.target.id}` : e.action],
      };
    }
    case 6001: {
      const act = ACTION[e.outcome];
      return {
        web_resources: e.target ? resources(e) : [{ name: e.action }],
        action_id: act.id,
        action: act.name,
        src_endpoint: srcEndpoint(r),
      };
    }
    case 6002:
      return {
        app: {
          uid: e.actor.id,
          name: e.actor.name ?? e.actor.id,
          // OCSF requires a vendor for a product; the event does not say who made the producer.
          vendor_name: 'Unknown',
        },
      };
    default:
      return {
        api: {
          operation: e.action,
          ...(e.context?.requestId !== undefined ? { request: { uid: e.context.requestId } } : {}),
        },
        resources: resources(e),
        src_endpoint: srcEndpoint(r),
        ...(e.context?.userAgent !== undefined ? { http_request: { user_agent: e.context.userAgent } } : {}),
      };
  }
}

const json = (v: unknown): string => canonicalJson(v as JsonValue);

/**
 * `unmapped`: the proof handle and every event field OCSF 1.1.0 has no
 * attribute for, so nothing the record holds is lost.
 */
function unmapped(input: OcsfInput, resolved: ResolvedOcsfMapping): { [k: string]: string } {
  const r = input.record;
  const e = r.event;
  const out: { [k: string]: string } = {
    'anchorlog.log_id': r.logId,
    'anchorlog.leaf_index': String(r.index),
    'anchorlog.leaf_hash': input.leafHash,
    'anchorlog.submitter': r.submitter,
    'anchorlog.action': e.action,
    'anchorlog.actor_type': e.actor.type,
    'anchorlog.outcome': e.outcome,
    'anchorlog.mapping': resolved.source,
  };
  if (resolved.unsupportedClassUid !== undefined)
    out['anchorlog.catalog_class_uid'] = String(resolved.unsupportedClassUid);
  if (e.actor.onBehalfOf) out['anchorlog.actor_on_behalf_of'] = json(e.actor.onBehalfOf);
  if (e.target) out['anchorlog.target'] = json(e.target);
  if (e.changes) out['anchorlog.changes'] = json(e.changes);
  if (e.metadata) out['anchorlog.metadata'] = json(e.metadata);
  if (e.context?.sessionId !== undefined) out['anchorlog.session_id'] = e.context.sessionId;
  if (e.schemaVersion !== undefined) out['anchorlog.schema_version'] = String(e.schemaVersion);
  if (e.producer) out['anchorlog.producer'] = json(e.producer);
  if (e.signature) out['anchorlog.signature'] = json(e.signature);
  if (resolved.mapping.profiles?.includes('ai_operation')) {
    const model = metaString(e, 'model') ?? (e.target?.type === 'model' ? e.target.id : undefined);
    const provider = metaString(e, 'provider');
    if (model !== undefined) out['ai_operation.ai_model.name'] = model;
    if (provider !== undefined) out['ai_operation.ai_model.ai_provider'] = provider;
  }
  return out;
}

/**
 * The OCSF 1.1.0 event of one sealed record: class and activity from the
 * catalog (or the default), `time` = occurredAt and `metadata.logged_time` =
 * receivedAt (epoch ms), `metadata.uid` = the event id (or `<log>/<index>`
 * when the producer gave none), the proof handle in `unmapped`.
 * Deterministic: the same record always maps to the same event.
 */
export function toOcsf(input: OcsfInput, options: OcsfOptions = {}): OcsfEvent {
  const r = input.record;
  const e = r.event;
  const resolved = resolveOcsfMapping(e, options.catalog);
  const m = resolved.mapping;
  const cls = OCSF_CLASSES[m.classUid] as { name: string; categoryUid: number; category: string };
  const status = STATUS[e.outcome];
  const product: { [k: string]: JsonValue } = {
    name: OCSF_PRODUCT_NAME,
    vendor_name: options.vendorName ?? OCSF_DEFAULT_VENDOR,
    ...(options.productVersion !== undefined ? { version: options.productVersion } : {}),
  };
  const metadata: { [k: string]: JsonValue } = {
    version: OCSF_VERSION,
    product,
    uid: e.id ?? `${r.logId}/${r.index}`,
    log_name: r.logId,
    sequence: r.index,
    logged_time: epochMs(r.receivedAt),
    ...(e.context?.traceId !== undefined ? { correlation_uid: e.context.traceId } : {}),
    ...(options.cloud ? { profiles: ['cloud'] } : {}),
  };
  const out: OcsfEvent = {
    category_uid: cls.categoryUid,
    category_name: cls.category,
    class_uid: m.classUid,
    class_name: cls.name,
    activity_id: m.activityId,
    activity_name: m.activity,
    type_uid: m.classUid * 100 + m.activityId,
    type_name: `${cls.name}: ${m.activity}`,
    // Audit records carry no severity of their own: Informational.
    severity_id: 1,
    severity: 'Informational',
    time: epochMs(e.occurredAt),
    status_id: status.id,
    status: status.name,
    ...(status.detail !== undefined ? { status_detail: status.detail } : {}),
    message: `${e.action} ${e.outcome}`,
    metadata,
    actor: { user: ocsfUser(e.actor) },
    ...classAttributes(m.classUid, r),
    ...(options.cloud
      ? {
          cloud: {
            provider: 'AWS',
            region: options.cloud.region,
            account: { uid: options.cloud.accountUid },
          },
        }
      : {}),
    unmapped: unmapped(input, resolved),
  };
  return out;
}
