/**
 * HTTP API Lambda authorizer (simple responses). Maps the API key to the
 * principal on every request — result caching must stay disabled in the
 * API (TTL 0) so that a revocation takes effect on the next request. The
 * principal travels to the route Lambda as JSON in the authorizer context;
 * scope checks happen there, per log. An expired key (the right secret,
 * too old) travels as a refusal instead, so the client gets 401 KEY_EXPIRED
 * rather than API Gateway's bare 403. A principal is accepted only as its
 * system-log record describes it (src/app/principals.ts, "Binding"); a
 * mismatch is a 401 here plus an ERROR line (src/compose/services.ts, onBindingFailure).
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { AppError } from '../src/app/errors.ts';
import { KeyExpiredError } from '../src/app/principals.ts';
import { apiKeyAuthorizer, breakGlassOutsideAdmin } from '../src/compose/principals.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import type { AuthorizerContext } from '../src/http/lambda-adapter.ts';
import { logger } from './api-handler.ts';

const config = loadConfig();
const authenticate = apiKeyAuthorizer(createServices(config));

export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> {
  try {
    const principal = await authenticate(event.headers ?? {});
    if (breakGlassOutsideAdmin(principal.id, event.routeKey, config.breakGlass)) {
      // The break-glass key works on the admin API only, where each use is recorded and alerted.
      console.log(
        JSON.stringify({
          level: 'WARN',
          message: 'denied',
          reason: 'break_glass_outside_admin',
          principalId: principal.id,
          requestId: event.requestContext.requestId,
        }),
      );
      return { isAuthorized: false, context: {} };
    }
    return { isAuthorized: true, context: { principal: JSON.stringify(principal) } };
  } catch (err) {
    if (err instanceof KeyExpiredError) {
      // The right key, too old. API Gateway would answer a refusal with its own bare 403, so the
      // request goes on carrying the refusal and no principal; the route function's router answers
      // 401 KEY_EXPIRED before any route runs (src/http/lambda-adapter.ts, src/http/router.ts).
      console.log(
        JSON.stringify({
          level: 'INFO',
          message: 'denied',
          reason: err.reason,
          principalId: err.principalId,
          requestId: event.requestContext.requestId,
        }),
      );
      return {
        isAuthorized: true,
        context: { refused: JSON.stringify({ code: err.code, message: err.message }) },
      };
    }
    if (err instanceof AppError && err.code === 'UNAUTHENTICATED') {
      const reason = (err as { reason?: string }).reason;
      console.log(
        JSON.stringify({
          level: 'INFO',
          message: 'denied',
          reason,
          requestId: event.requestContext.requestId,
        }),
      );
      return { isAuthorized: false, context: {} };
    }
    // A store failure must not be mistaken for a bad key: let API Gateway return 500 and alarm.
    logger.error('authorizer failed', { err: String(err) });
    throw err;
  }
}
