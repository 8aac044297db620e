/**
 * The one table from port errors to API errors. Every port owns a coded
 * error class (src/ports/*) and its adapters throw nothing else for a store
 * or dependency failure; use cases turn those into AppError here and nowhere
 * else, so a code means the same thing on every route: pushback stays 429,
 * a transient failure 503 (both with Retry-After), corruption 500 INTEGRITY
 * (page an operator), and a deployment mistake 500 INTERNAL.
 *
 * Each row is a Record over the port's whole code union, so adding a code
 * to a port without deciding its API meaning does not compile.
 *
 * A use case with its own meaning for a port code (the sealer halts a log on
 * a store INTEGRITY error or an immutable-write conflict, src/app/seal.ts)
 * decides that first and leaves the rest to this table.
 */
import { AccessReviewStoreError, type AccessReviewStoreErrorCode } from '../ports/access-review-store.ts';
import { AlertReviewStoreError, type AlertReviewStoreErrorCode } from '../ports/alert-review-store.ts';
import { AnchorStoreError, type AnchorStoreErrorCode } from '../ports/anchor-store.ts';
import { ArchiveError, type ArchiveErrorCode } from '../ports/archive-store.ts';
import { ColumnarIndexError, type ColumnarIndexErrorCode } from '../ports/columnar-index.ts';
import { DeliveryStoreError, type DeliveryStoreErrorCode } from '../ports/delivery-store.ts';
import { DetectionStateError, type DetectionStateErrorCode } from '../ports/detection-state.ts';
import { ExportStoreError, type ExportStoreErrorCode } from '../ports/export-store.ts';
import { LogPolicyStoreError, type LogPolicyStoreErrorCode } from '../ports/log-policy-store.ts';
import { LogStoreError, type LogStoreErrorCode } from '../ports/log-store.ts';
import { PendingStoreError, type PendingStoreErrorCode } from '../ports/pending-store.ts';
import { PrincipalStoreError, type PrincipalStoreErrorCode } from '../ports/principal-store.ts';
import { ProducerKeyStoreError, type ProducerKeyStoreErrorCode } from '../ports/producer-key-store.ts';
import { ProducerStoreError, type ProducerStoreErrorCode } from '../ports/producer-store.ts';
import { QueryIndexError, type QueryIndexErrorCode } from '../ports/query-index.ts';
import { RoleStoreError, type RoleStoreErrorCode } from '../ports/role-store.ts';
import { RuleSourceError, type RuleSourceErrorCode } from '../ports/rule-source.ts';
import { RuleStoreError, type RuleStoreErrorCode } from '../ports/rule-store.ts';
import { SealStateError, type SealStateErrorCode } from '../ports/seal-state.ts';
import { SecretError, type SecretErrorCode } from '../ports/secret-source.ts';
import { SignerError, type SignerErrorCode } from '../ports/signer.ts';
import { TsaTransportError, type TsaTransportErrorCode } from '../ports/timestamper.ts';
import { WitnessStateError, type WitnessStateErrorCode } from '../ports/witness-state.ts';
import { AppError, type AppErrorCode } from './errors.ts';

/** What one port code becomes. `path` marks client input (the field at fault). */
type ApiMeaning = AppErrorCode | { readonly code: AppErrorCode; readonly path: string };

const STORE = { THROTTLED: 'THROTTLED', UNAVAILABLE: 'UNAVAILABLE', INTEGRITY: 'INTEGRITY' } as const;

const LOG_STORE: Record<LogStoreErrorCode, ApiMeaning> = STORE;
const SEAL_STATE: Record<SealStateErrorCode, ApiMeaning> = STORE;
const PENDING_STORE: Record<PendingStoreErrorCode, ApiMeaning> = STORE;
const ANCHOR_STORE: Record<AnchorStoreErrorCode, ApiMeaning> = STORE;
const QUERY_INDEX: Record<QueryIndexErrorCode, ApiMeaning> = STORE;
const DETECTION_STATE: Record<DetectionStateErrorCode, ApiMeaning> = STORE;
const RULE_SOURCE: Record<RuleSourceErrorCode, ApiMeaning> = STORE;
const DELIVERY_STORE: Record<DeliveryStoreErrorCode, ApiMeaning> = STORE;
const PRODUCER_STORE: Record<ProducerStoreErrorCode, ApiMeaning> = STORE;
const PRODUCER_KEY_STORE: Record<ProducerKeyStoreErrorCode, ApiMeaning> = STORE;
const LOG_POLICY_STORE: Record<LogPolicyStoreErrorCode, ApiMeaning> = STORE;
const WITNESS_STATE: Record<WitnessStateErrorCode, ApiMeaning> = STORE;
const PRINCIPAL_STORE: Record<PrincipalStoreErrorCode, ApiMeaning> = {
  ...STORE,
  CONFLICT: 'CONFLICT',
  INVALID_CURSOR: { code: 'BAD_REQUEST', path: '/cursor' },
};
const RULE_STORE: Record<RuleStoreErrorCode, ApiMeaning> = {
  ...STORE,
  CONFLICT: 'CONFLICT',
  INVALID_CURSOR: { code: 'BAD_REQUEST', path: '/cursor' },
};
const ALERT_REVIEW_STORE: Record<AlertReviewStoreErrorCode, ApiMeaning> = {
  ...STORE,
  CONFLICT: 'CONFLICT',
  INVALID_CURSOR: { code: 'BAD_REQUEST', path: '/cursor' },
};
const ACCESS_REVIEW_STORE: Record<AccessReviewStoreErrorCode, ApiMeaning> = {
  ...STORE,
  CONFLICT: 'CONFLICT',
  INVALID_CURSOR: { code: 'BAD_REQUEST', path: '/cursor' },
};
const ROLE_STORE: Record<RoleStoreErrorCode, ApiMeaning> = {
  ...STORE,
  CONFLICT: 'CONFLICT',
  INVALID_CURSOR: { code: 'BAD_REQUEST', path: '/cursor' },
};
const ARCHIVE: Record<ArchiveErrorCode, ApiMeaning> = {
  // The archive and a writer disagree about history: never retried.
  IMMUTABLE_CONFLICT: 'INTEGRITY',
  UNAVAILABLE: 'UNAVAILABLE',
  MISCONFIGURED: 'INTERNAL',
};
const COLUMNAR_INDEX: Record<ColumnarIndexErrorCode, ApiMeaning> = {
  UNAVAILABLE: 'UNAVAILABLE',
  MISCONFIGURED: 'INTERNAL',
};
const EXPORT_STORE: Record<ExportStoreErrorCode, ApiMeaning> = {
  UNAVAILABLE: 'UNAVAILABLE',
  MISCONFIGURED: 'INTERNAL',
};
const SIGNER: Record<SignerErrorCode, ApiMeaning> = {
  SIGNER_UNAVAILABLE: 'UNAVAILABLE',
  MESSAGE_TOO_LARGE: 'INTERNAL',
  KEY_MISCONFIGURED: 'INTERNAL',
};
const SECRETS: Record<SecretErrorCode, ApiMeaning> = {
  NOT_FOUND: 'INTERNAL',
  ACCESS_DENIED: 'INTERNAL',
  NOT_TEXT: 'INTERNAL',
  UNAVAILABLE: 'UNAVAILABLE',
};
/** A TSA that did not give a usable reply is a dependency that failed. */
const TSA_TRANSPORT: Record<TsaTransportErrorCode, ApiMeaning> = {
  TSA_UNREACHABLE: 'UNAVAILABLE',
  TSA_TIMEOUT: 'UNAVAILABLE',
  TSA_HTTP_STATUS: 'UNAVAILABLE',
  TSA_BAD_CONTENT_TYPE: 'UNAVAILABLE',
  TSA_RESPONSE_TOO_LARGE: 'UNAVAILABLE',
};

/** A port's error class and the API meaning of each of its codes. */
type Row = readonly [
  abstract new (...args: never[]) => { code: string; message: string },
  Record<string, ApiMeaning>,
];

const TABLE: readonly Row[] = [
  [LogStoreError, LOG_STORE],
  [PendingStoreError, PENDING_STORE],
  [SealStateError, SEAL_STATE],
  [AnchorStoreError, ANCHOR_STORE],
  [QueryIndexError, QUERY_INDEX],
  [DetectionStateError, DETECTION_STATE],
  [RuleSourceError, RULE_SOURCE],
  [DeliveryStoreError, DELIVERY_STORE],
  [ProducerStoreError, PRODUCER_STORE],
  [ProducerKeyStoreError, PRODUCER_KEY_STORE],
  [LogPolicyStoreError, LOG_POLICY_STORE],
  [PrincipalStoreError, PRINCIPAL_STORE],
  [RuleStoreError, RULE_STORE],
  [AlertReviewStoreError, ALERT_REVIEW_STORE],
  [AccessReviewStoreError, ACCESS_REVIEW_STORE],
  [RoleStoreError, ROLE_STORE],
  [ArchiveError, ARCHIVE],
  [ExportStoreError, EXPORT_STORE],
  [ColumnarIndexError, COLUMNAR_INDEX],
  [SignerError, SIGNER],
  [SecretError, SECRETS],
  [TsaTransportError, TSA_TRANSPORT],
  [WitnessStateError, WITNESS_STATE],
];

/** Seconds a client waits before retrying pushback or a transient failure. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The AppError for a port error: `err` itself when it already is an
 * AppError, undefined when it is neither (a bug, or a failure the caller
 * classifies itself). `what` names the operation for server-side failures
 * (5xx messages); client-facing ones (400, 409) keep the port's message.
 */
export function fromPortError(err: unknown, what: string): AppError | undefined {
  if (err instanceof AppError) return err;
  for (const [cls, table] of TABLE) {
    if (!(err instanceof cls)) continue;
    const meaning = table[err.code];
    if (meaning === undefined) return undefined;
    const code = typeof meaning === 'string' ? meaning : meaning.code;
    const path = typeof meaning === 'string' ? undefined : meaning.path;
    const retry = code === 'THROTTLED' || code === 'UNAVAILABLE';
    const serverSide =
      code === 'THROTTLED' || code === 'UNAVAILABLE' || code === 'INTEGRITY' || code === 'INTERNAL';
    return new AppError(code, serverSide ? `${what}: ${err.message}` : err.message, {
      cause: err,
      ...(retry ? { retryAfterSeconds: RETRY_AFTER_SECONDS } : {}),
      ...(path ? { path } : {}),
    });
  }
  return undefined;
}

/**
 * `port` with every method's rejection passed through fromPortError, for a
 * use case that talks to one port in many places and reasons in AppErrors
 * (src/app/principals.ts). Errors that are not port errors pass unchanged.
 */
export function withPortErrors<T extends object>(port: T, what: string): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const out = Reflect.apply(v, target, args);
        if (!(out instanceof Promise)) return out;
        return out.catch((err: unknown) => {
          throw fromPortError(err, what) ?? err;
        });
      };
    },
  });
}
