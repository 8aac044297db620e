/**
 * The console (docs/console.md) on AWS: the built pages (dist/console/) in a
 * private S3 bucket, served by CloudFront through origin access control, with
 * the API routed through the same distribution.
 *
 *   browser ─▶ CloudFront ─┬─ /*     ─▶ S3 (OAC, SigV4; the bucket policy admits this distribution only)
 *                          └─ /v1/*  ─▶ HTTP API (no caching; every viewer header but Host forwarded)
 *
 * One origin for pages and API keeps the Content-Security-Policy the local
 * stack serves (src/local/static-files.ts, CONSOLE_HEADERS) byte for byte:
 * `connect-src 'self'` reaches the API and nothing else, and the operator
 * pages' `fetch(new URL('/v1/…', location.origin))` needs no configuration and
 * no CORS. The response headers policy sets the same headers on every
 * response, API answers included, plus HSTS (HTTPS only here).
 *
 * The bucket has no Object Lock and no versioning: it holds a build, replaced
 * whole on each deploy (stale files pruned, the distribution invalidated), not
 * evidence.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_HEADERS } from '../../src/local/static-files.ts';
import { acknowledge, nagArn } from '../nag.ts';

export interface ConsoleSiteProps {
  /** The built console (`npm run build:console` → dist/console/); must contain index.html. */
  readonly sourceDir: string;
  /** The HTTP API routed under /v1/*. */
  readonly api: apigw.HttpApi;
  /** Server access logs of the console bucket go here (prefix `console/`). */
  readonly accessLogs: s3.IBucket;
  readonly logRetentionDays: number;
}

/** The API's path pattern on the distribution: every route of cdk/routes.ts is under /v1/. */
export const API_PATH_PATTERN = '/v1/*';

export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  readonly deployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    if (!existsSync(join(props.sourceDir, 'index.html')))
      throw new Error(
        `the console is not built: ${props.sourceDir} has no index.html (run \`npm run build:console\` before \`cdk synth\`/\`cdk deploy\`)`,
      );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'console/',
      // A build output, rebuilt from the repository: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const { 'content-security-policy': csp, 'cross-origin-opener-policy': coop } = CONSOLE_HEADERS;
    if (
      csp === undefined ||
      coop === undefined ||
      CONSOLE_HEADERS['x-frame-options'] !== 'DENY' ||
      CONSOLE_HEADERS['referrer-policy'] !== 'no-referrer' ||
      CONSOLE_HEADERS['x-content-type-options'] !== 'nosniff'
    )
      throw new Error(
        'CONSOLE_HEADERS (src/local/static-files.ts) changed: update cdk/constructs/console-site.ts',
      );
    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'anchorlog console: the headers of src/local/static-files.ts, plus HSTS',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cross-Origin-Opener-Policy', value: coop, override: true }],
      },
    });

    // https://<apiId>.execute-api.<region>.amazonaws.com → its host name (the $default stage: no path).
    const apiHost = Fn.select(2, Fn.split('/', props.api.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'anchorlog console and API (/v1/*)',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        // A plain-HTTP request gets a redirect only, never a page.
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      additionalBehaviors: {
        [API_PATH_PATTERN]: {
          origin: new origins.HttpOrigin(apiHost, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          }),
          // API keys travel in headers: refuse plain HTTP outright rather than redirect after sending one.
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Every answer depends on the caller's key: never cached. Host must stay the API's own
          // (API Gateway routes on it); x-api-key and the query string go through, and so does
          // Authorization: CloudFront forwards it by an origin request policy only when caching is
          // disabled, as here (otherwise it must be in the cache key).
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.headers,
          compress: false,
        },
      },
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'The distribution uses the default *.cloudfront.net certificate, whose viewer TLS policy CloudFront fixes (a minimum protocol version has no effect without a certificate of our own); add a custom domain and certificate with minimumProtocolVersion TLSv1.2_2021 to raise it (docs/deploy.md).',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'No geo restriction: auditors and operators of one organisation work from anywhere, the pages are public static files, and every API call needs an API key checked by the authorizer; an operator who wants one adds it to the distribution.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'No WAF web ACL by default: the API behind /v1/* has its own stage and route throttles and the API-key authorizer on every non-public route, and the console is static files; a WAF web ACL (us-east-1) can be attached by the operator, at its own cost (docs/deploy.md).',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      'Every API call through the distribution is logged by the HTTP API access log (request id, route, status, authorizer verdict; its ip is the CloudFront edge, the viewer address reaches the API in X-Forwarded-For); the rest are static console files, identical for every viewer, whose reads carry no audit value. Standard logging v1 would also need an ACL-enabled bucket, which every bucket here refuses.',
    );

    // The deployment function (CDK's BucketDeployment): a role of our own, without the managed
    // AWSLambdaBasicExecutionRole, writing its logs to a group with the stack's retention.
    const deployLogs = new logs.LogGroup(this, 'DeploymentLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const deployRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'anchorlog: copies the built console into its bucket and invalidates the distribution',
    });
    deployLogs.grantWrite(deployRole);
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [s3deploy.Source.asset(props.sourceDir, { exclude: ['.built'] })],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      role: deployRole,
      logGroup: deployLogs,
      memoryLimit: 512,
    });
    // BucketDeployment writes these grants itself (sync with prune, then invalidate): acknowledged
    // finding by finding, so a new wildcard it adds in a later CDK release fails the nag test.
    const consoleObjects = `${nagArn(this.bucket.node.defaultChild as s3.CfnBucket)}/*`;
    for (const finding of [
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      `Resource::${consoleObjects}`,
      `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*`,
      // cloudfront:CreateInvalidation/GetInvalidation take no resource narrower than the account here.
      'Resource::*',
    ] as const)
      acknowledge(
        deployRole,
        `AwsSolutions-IAM5[${finding}]`,
        "CDK's BucketDeployment gives its copy function read on the console asset in the CDK assets bucket, sync and prune on every key of the console bucket, and cloudfront invalidations; the role touches no other bucket and no audit data, and runs only during a deploy.",
      );
    // The singleton function BucketDeployment creates at stack level (python runtime chosen by CDK).
    const handler = Stack.of(this)
      .node.findAll()
      .find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler)
      acknowledge(
        handler,
        'AwsSolutions-L1',
        "The console copy function is CDK's BucketDeployment handler, whose Python runtime CDK pins per release; it runs only at deploy time and handles no audit data.",
      );
    this.deployment = deployment;
  }

  /** https://<distribution domain>/ — the console's URL (its API is the same origin, under /v1/). */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }
}
