/**
 * The admin plane for humans (docs/deploy.md "Admin plane"): a second HTTP
 * API serving the `/v1/admin/…` routes with IAM (SigV4) authorization, and
 * the role humans assume to call it — only with MFA, only under their own
 * user name as session name. The admin function maps the session to the
 * SCIM-provisioned human of that userName (src/compose/principals.ts
 * adminAuthenticate). Why IAM rather than Cognito: docs/deploy.md.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import type { RouteKey } from '../routes.ts';
import type { ServiceFunction } from './service-function.ts';

export interface AdminPlaneProps {
  /** The admin function (the same one the main API routes `/v1/admin/…` to). */
  readonly admin: ServiceFunction;
  /** The admin routes (cdk/routes.ts, those under /v1/admin/). */
  readonly routes: readonly RouteKey[];
  readonly logRetentionDays: number;
  /** Longest time since the MFA sign-in for which the role may be assumed and the API invoked. */
  readonly maxMfaAge?: Duration;
}

/** The MFA condition, on the role's trust and on its one permission. */
export function mfaCondition(maxAge: Duration): Record<string, Record<string, unknown>> {
  return {
    Bool: { 'aws:MultiFactorAuthPresent': 'true' },
    NumericLessThan: { 'aws:MultiFactorAuthAge': String(maxAge.toSeconds()) },
  };
}

export class AdminPlane extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AdminPlaneProps) {
    super(scope, id);
    const maxAge = props.maxMfaAge ?? Duration.hours(1);
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'anchorlog admin API for humans (/v1/admin, IAM SigV4 with MFA)',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            caller: '$context.identity.userArn',
            latencyMs: '$context.responseLatency',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('AdminIntegration', props.admin.fn, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    const authorizer = new HttpIamAuthorizer();
    for (const key of props.routes) {
      const space = key.indexOf(' ');
      this.api.addRoutes({
        path: key.slice(space + 1),
        methods: [key.slice(0, space) as apigw.HttpMethod],
        integration,
        authorizer,
      });
    }
    // Any IAM user of the account may assume it, with MFA, under its own name: the session name
    // is what the admin function maps to a principal, so nobody can pick someone else's.
    this.role = new iam.Role(this, 'Role', {
      description: 'humans administering anchorlog: assume with MFA, session name = your IAM user name',
      assumedBy: new iam.AccountRootPrincipal().withConditions({
        ...mfaCondition(maxAge),
        // An IAM policy variable, resolved by IAM at AssumeRole time (not a template placeholder).
        // biome-ignore lint/suspicious/noTemplateCurlyInString: IAM policy variable
        StringEquals: { 'sts:RoleSessionName': '${aws:username}' },
      }),
      maxSessionDuration: Duration.hours(1),
    });
    const stack = Stack.of(this);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [
          stack.formatArn({
            service: 'execute-api',
            resource: this.api.apiId,
            resourceName: '$default/*/v1/admin/*',
          }),
        ],
        conditions: mfaCondition(maxAge),
      }),
    );
    const apiRef = `<${stack.resolve((this.api.node.defaultChild as apigw.CfnApi).logicalId)}>`;
    acknowledge(
      this.role.node.findChild('DefaultPolicy'),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${apiRef}/$default/*/v1/admin/*]`,
      'The wildcard is every method and admin route of this one API (the admin function authorizes each request by the principal the session maps to); the statement requires MFA.',
    );
  }

  get url(): string {
    return this.stage.url;
  }
}
