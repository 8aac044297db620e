/**
 * Shared shape of every API Lambda: API Gateway event → HttpRequest → the
 * route table → API Gateway result. Errors are mapped inside the router; a
 * structured log line is written for every 5xx.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ApiEvent, fromApiGateway, toApiGateway } from '../src/http/lambda-adapter.ts';
import { type Authenticate, createRouter, type Route } from '../src/http/router.ts';

export const logger = {
  error(message: string, fields: Record<string, unknown>) {
    console.error(JSON.stringify({ level: 'ERROR', message, ...fields }));
  },
};

export function apiHandler(routes: Route[], authenticate: Authenticate) {
  const dispatch = createRouter(routes, { authenticate, logger });
  return async (event: ApiEvent): Promise<APIGatewayProxyStructuredResultV2> =>
    toApiGateway(await dispatch(fromApiGateway(event)));
}
