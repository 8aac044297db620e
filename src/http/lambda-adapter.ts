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
}

export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;

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
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    headers,
    query,
    pathParams: {},
    body,
    requestId: event.requestContext.requestId,
    ...(principalJson ? { principal: JSON.parse(principalJson) as Principal } : {}),
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
