/**
 * API Gateway HTTP API (payload format 2.0) ⇄ HttpRequest/HttpResponse.
 * The authorizer Lambda puts the authenticated principal, as JSON, into the
 * request context; handlers behind it never re-authenticate.
 */
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import type { Principal } from '../core/principal.ts';
import type { HttpRequest, HttpResponse } from './types.ts';

export interface AuthorizerContext {
  principal?: string;
  /** JSON `{ code, message }`: a key refused with a code of its own (HttpRequest.refused). */
  refused?: string;
}

/** The refusal an authorizer context carries, if it is one we know; anything else is ignored. */
function refusalOf(raw: string | undefined): HttpRequest['refused'] {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as { code?: unknown; message?: unknown };
    if (v.code === 'KEY_EXPIRED' && typeof v.message === 'string')
      return { code: v.code, message: v.message };
  } catch {
    // not ours: fall through
  }
  // A context we cannot read must still refuse: never let it reach a route as unauthenticated.
  return { code: 'KEY_EXPIRED', message: 'API key refused by the authorizer' };
}

export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext> & {
  requestContext: { authorizer?: { iam?: { userArn?: string } } };
};

export function fromApiGateway(event: ApiEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const raw = event.body ?? '';
  const body = event.isBase64Encoded
    ? new Uint8Array(Buffer.from(raw, 'base64'))
    : new TextEncoder().encode(raw);
  const principalJson = event.requestContext.authorizer?.lambda?.principal;
  const refused = refusalOf(event.requestContext.authorizer?.lambda?.refused);
  const iamCaller = event.requestContext.authorizer?.iam?.userArn;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    headers,
    query,
    pathParams: {},
    body,
    requestId: event.requestContext.requestId,
    ...(principalJson && !refused ? { principal: JSON.parse(principalJson) as Principal } : {}),
    ...(refused ? { refused } : {}),
    ...(typeof iamCaller === 'string' && !principalJson ? { iamCaller } : {}),
  };
}

export function toApiGateway(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
  if (typeof res.body === 'string') {
    return { statusCode: res.status, headers: res.headers, body: res.body, isBase64Encoded: false };
  }
  return {
    statusCode: res.status,
    headers: res.headers,
    body: Buffer.from(res.body).toString('base64'),
    isBase64Encoded: true,
  };
}
