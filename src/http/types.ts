/**
 * The HTTP shape our handlers see, independent of API Gateway or node:http.
 * Both the Lambda adapter (API Gateway HTTP API payload v2) and the local
 * server translate into this, so the same handler code runs in both.
 */
import type { Principal } from '../core/principal.ts';

export interface HttpRequest {
  method: string;
  /** Path without query string, e.g. /v1/logs/demo/events. */
  path: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  query: Record<string, string>;
  pathParams: Record<string, string>;
  /** Raw body bytes, exactly as received (validated later, never decoded lossily). */
  body: Uint8Array;
  /** Set by the authorizer step; absent only on public routes. */
  principal?: Principal;
  /**
   * Set instead of `principal` when the Lambda authorizer recognised the key
   * but refuses it with a code of its own (today: KEY_EXPIRED). API Gateway
   * can only answer a refusal with its own 403 body, so the authorizer lets
   * such a request through carrying this, and the router answers it with the
   * code before any route runs (src/http/router.ts).
   */
  refused?: { code: 'KEY_EXPIRED'; message: string };
  /**
   * The admin plane's IAM path: the caller ARN API Gateway verified the
   * SigV4 signature of (`requestContext.authorizer.iam.userArn`). Set only
   * by the Lambda adapter, never from a header.
   */
  iamCaller?: string;
  /** Correlation id for logs and error bodies. */
  requestId: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}
