/**
 * The HTTP face of the witness service (C2SP tlog-witness, main at 95978ca),
 * transport-neutral: the node:http witness (src/local/witness.ts) and the
 * Lambda behind a function URL (lambdas/witness.ts) both translate into
 * `WitnessHttpRequest` and out of `WitnessHttpResponse`, so every status, body
 * and content type is decided here once.
 *
 *   POST /add-checkpoint          200 cosignature line(s); 409 text/x.tlog.size
 *                                 `<size>\n`; 400, 403, 404, 422 with a reason;
 *                                 503 when the state store failed (nothing released)
 *   GET  /<sha256(origin) hex>/checkpoint
 *                                 the last cosigned checkpoint (monitoring), or 404
 *   GET  /vkey                    this witness's cosignature/v1 vkey, for its
 *                                 operator to publish (auditors pin it from the
 *                                 operator, never from this endpoint)
 */

import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import type { WitnessService } from '../app/witness-service.ts';
import { formatCosignerKey } from '../core/witness/cosignature.ts';
import { WitnessError } from '../core/witness/errors.ts';
import {
  formatConflictBody,
  MAX_ADD_CHECKPOINT_BYTES,
  parseAddCheckpointRequest,
  TLOG_SIZE_CONTENT_TYPE,
} from '../core/witness/protocol.ts';

export interface WitnessHttpRequest {
  readonly method: string;
  /** Path without query string, relative to the witness's prefix. */
  readonly path: string;
  /** The body, or undefined when the transport already found it larger than MAX_ADD_CHECKPOINT_BYTES. */
  readonly body: Uint8Array | undefined;
}

export interface WitnessHttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

const TEXT = 'text/plain; charset=utf-8';
const MONITOR_PATH = /^\/([0-9a-f]{64})\/checkpoint$/;

const text = (status: number, body: string, contentType = TEXT): WitnessHttpResponse => ({
  status,
  contentType,
  body,
});

export async function handleWitnessHttp(
  service: WitnessService,
  req: WitnessHttpRequest,
): Promise<WitnessHttpResponse> {
  const monitor = MONITOR_PATH.exec(req.path);
  if (monitor) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'GET only\n');
    const found = await service.latest(monitor[1] as string);
    return found.status === 200 ? text(200, found.body) : text(found.status, `${found.reason}\n`);
  }
  if (req.path === '/vkey') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'GET only\n');
    return text(200, `${formatCosignerKey(service.cosigner)}\n`);
  }
  if (req.path !== '/add-checkpoint') return text(404, 'not found\n');
  if (req.method !== 'POST') return text(405, 'POST only\n');
  if (req.body === undefined || req.body.length > MAX_ADD_CHECKPOINT_BYTES)
    return text(400, 'request body too large\n');
  let answer: Awaited<ReturnType<WitnessService['addCheckpoint']>>;
  try {
    answer = await service.addCheckpoint(parseAddCheckpointRequest(req.body));
  } catch (err) {
    if (err instanceof WitnessError) return text(400, `${err.code}: ${err.message}\n`);
    throw err;
  }
  if (answer.status === 200) return text(200, answer.body);
  if (answer.status === 409) return text(409, formatConflictBody(answer.size), TLOG_SIZE_CONTENT_TYPE);
  return text(answer.status, `${answer.reason}\n`);
}

/**
 * The Lambda face: a function URL event (payload format 2.0, the same shape
 * as an HTTP API's) → `handleWitnessHttp` → the function URL result.
 * lambdas/witness.ts is this over the composed service.
 */
export function witnessLambdaHandler(service: WitnessService) {
  return async (event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> => {
    const raw = event.body ?? '';
    // Bound before decoding (a function URL accepts up to 6 MB): a UTF-8 body has at least as many
    // bytes as its string has UTF-16 units; base64 decodes to 3 bytes per 4 characters.
    const tooLarge = event.isBase64Encoded
      ? raw.length > 4 * Math.ceil(MAX_ADD_CHECKPOINT_BYTES / 3) + 4
      : raw.length > MAX_ADD_CHECKPOINT_BYTES;
    const body = tooLarge
      ? undefined
      : event.isBase64Encoded
        ? new Uint8Array(Buffer.from(raw, 'base64'))
        : new TextEncoder().encode(raw);
    const out = await handleWitnessHttp(service, {
      method: event.requestContext.http.method.toUpperCase(),
      path: event.rawPath,
      body,
    });
    return {
      statusCode: out.status,
      headers: { 'content-type': out.contentType, 'cache-control': 'no-store' },
      body: out.body,
      isBase64Encoded: false,
    };
  };
}
