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
 * requests without a key — is bounded by the stage throttle.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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

  constructor(scope: Construct, id: string, props: AuditApiProps) {
    super(scope, id);
    this.#publicRoutes = props.publicRoutes;
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
      if (isPublic && route)
        acknowledge(
          route,
          'AwsSolutions-APIG4',
          `${key} is public by design (DESIGN §4): it serves only the log's public verifier keys, which auditors fetch to pin in TRUST.json; every other route goes through the API-key authorizer.`,
        );
    }
  }

  get url(): string {
    return this.stage.url;
  }
}
