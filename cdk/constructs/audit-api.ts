/**
 * The HTTP API (API Gateway v2) in front of the route Lambdas, with the
 * Lambda authorizer on every non-public route.
 *
 * Authorizer: simple responses, **result caching disabled** (TTL 0) so that a
 * revoked or rotated key stops working on the very next request. With
 * caching off, identity sources are optional, and we set none: API keys
 * arrive as `Authorization: Bearer …` *or* `x-api-key` (src/app/principals.ts
 * `apiKeyFromHeaders`), and an identity source would make API Gateway reject
 * the other form (it requires every listed source) before our code could
 * answer with a proper JSON 401. The cost — the authorizer runs even for
 * requests without a key — is bounded by the stage throttle. Public routes
 * (GET /v1/keys) have a route throttle of their own.
 */
import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import type { RouteKey } from '../routes.ts';
import type { ServiceFunction } from './service-function.ts';

export interface AuditApiProps {
  readonly authorizer: ServiceFunction;
  readonly logRetentionDays: number;
  /** Steady-state requests per second for the whole stage (default 500). */
  readonly rateLimit?: number;
  readonly burstLimit?: number;
  /** Routes served without the authorizer. */
  readonly publicRoutes: ReadonlySet<RouteKey>;
  /**
   * Throttle of each public route, its own bucket apart from the stage's:
   * unauthenticated callers cannot spend the budget of authenticated ones
   * (ingest). Default 20 requests/s, burst 40: the keys are cacheable for an
   * hour and verifiers fetch them rarely.
   */
  readonly publicRouteThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/** JSON access log line per request, with the authorizer's verdict and latency. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  authorizerLatencyMs: '$context.authorizer.latency',
  userAgent: '$context.identity.userAgent',
});

export class AuditApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly #authorizer: HttpLambdaAuthorizer;
  readonly #publicRoutes: ReadonlySet<RouteKey>;
  readonly #publicThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** AWS::ApiGatewayV2::Stage RouteSettings, filled in as public routes are added. */
  readonly #routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};

  constructor(scope: Construct, id: string, props: AuditApiProps) {
    super(scope, id);
    this.#publicRoutes = props.publicRoutes;
    this.#publicThrottle = props.publicRouteThrottle ?? { rateLimit: 20, burstLimit: 40 };
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'anchorlog audit log API (/v1)',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 500, burstLimit: props.burstLimit ?? 1000 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    (this.stage.node.defaultChild as apigw.CfnStage).routeSettings = Lazy.any({
      produce: () => (Object.keys(this.#routeSettings).length > 0 ? this.#routeSettings : undefined),
    });
    this.#authorizer = new HttpLambdaAuthorizer('ApiKeyAuthorizer', props.authorizer.fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: Duration.seconds(0),
      identitySource: [],
    });
  }

  /** Wires `routes` to `target`; non-public routes go through the authorizer. */
  route(target: ServiceFunction, routes: readonly RouteKey[]): void {
    const integration = new HttpLambdaIntegration(`${target.node.id}Integration`, target.fn, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    for (const key of routes) {
      const space = key.indexOf(' ');
      const method = key.slice(0, space) as apigw.HttpMethod;
      const path = key.slice(space + 1);
      const isPublic = this.#publicRoutes.has(key);
      const [route] = this.api.addRoutes({
        path,
        methods: [method],
        integration,
        ...(isPublic ? {} : { authorizer: this.#authorizer }),
      });
      if (isPublic && route) {
        this.#routeSettings[key] = {
          ThrottlingRateLimit: this.#publicThrottle.rateLimit,
          ThrottlingBurstLimit: this.#publicThrottle.burstLimit,
        };
        // RouteSettings may only name routes that exist: create the stage after them.
        this.stage.node.addDependency(route);
        acknowledge(
          route,
          'AwsSolutions-APIG4',
          `${key} is public by design (docs/openapi.json): it serves only the log's public verifier keys, which auditors fetch to pin in TRUST.json, names no log, and has its own route throttle; every other route goes through the API-key authorizer.`,
        );
      }
    }
  }

  get url(): string {
    return this.stage.url;
  }
}
