/**
 * The console on AWS (cdk/constructs/console-site.ts, docs/console.md §Where it runs): a private
 * bucket only the distribution reads (origin access control), the local stack's security headers
 * and CSP on every response, and the API under /v1/* on the same origin, never cached.
 * Synthesized without bundling (the functions' code is irrelevant here) with the stand-in console
 * build of test/cdk/synth.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIR_CONTEXT } from '../../cdk/anchorlog-stack.ts';
import { API_PATH_PATTERN } from '../../cdk/constructs/console-site.ts';
import { REPO_ROOT } from '../../cdk/constructs/service-function.ts';
import { API_ROUTES } from '../../cdk/routes.ts';
import { CONSOLE_CSP } from '../../src/local/static-files.ts';
import { allStatements, type FlatStatement } from './policy-walk.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

// AWS managed CloudFront policies (ids are fixed by AWS).
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

let s: Synth;
let bucketId: string;
let distributionId: string;
let headersId: string;
let dist: {
  DefaultRootObject?: string;
  Origins: { Id: string; DomainName: unknown; OriginAccessControlId?: unknown; S3OriginConfig?: unknown }[];
  DefaultCacheBehavior: Record<string, unknown>;
  CacheBehaviors: Record<string, unknown>[];
};

beforeAll(() => {
  s = synth({ bundle: false });
  bucketId = s.logicalId(s.stack.console.bucket.node.defaultChild);
  distributionId = s.logicalId(s.stack.console.distribution.node.defaultChild);
  headersId = s.logicalId(s.stack.console.headers.node.defaultChild);
  dist = (propsOf(distributionId) as { DistributionConfig: typeof dist }).DistributionConfig;
}, 600_000);

afterAll(cleanupSynths);

describe('console bucket', () => {
  it('is private, TLS-only, encrypted, logged, without Object Lock or versioning', () => {
    const b = s.resources[bucketId]?.Properties ?? {};
    expect(b.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(b.ObjectLockEnabled).toBeUndefined();
    expect(b.ObjectLockConfiguration).toBeUndefined();
    expect(b.VersioningConfiguration).toBeUndefined();
    expect(b.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'console/' });
    expect(b.BucketEncryption).toBeDefined();
  });

  it('its policy lets only this distribution read, through OAC (SourceArn), and denies non-TLS', () => {
    const policy = Object.entries(s.resources).find(
      ([, r]) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(policy).toBeDefined();
    const own = allStatements(s.resources).filter((st) => st.holder === policy?.[0]);
    const allows = own.filter((st) => st.effect === 'Allow');
    expect(allows).toHaveLength(1);
    const [allow] = allows as [FlatStatement];
    expect(allow.actions).toEqual(['s3:GetObject']);
    expect(allow.principals).toEqual([{ Service: 'cloudfront.amazonaws.com' }]);
    expect(JSON.stringify(allow.condition)).toContain('"AWS:SourceArn"');
    expect(JSON.stringify(allow.condition)).toContain(`{"Ref":"${distributionId}"}`);
    expect(
      own.some(
        (st) =>
          st.effect === 'Deny' &&
          st.actions.includes('s3:*') &&
          JSON.stringify(st.condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
      ),
    ).toBe(true);
  });

  it('is served through origin access control (SigV4), never an origin access identity', () => {
    s.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    s.template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    const s3Origin = dist.Origins.find((o) => o.S3OriginConfig !== undefined);
    const oacId = Object.entries(s.resources).find(
      ([, r]) => r.Type === 'AWS::CloudFront::OriginAccessControl',
    )?.[0];
    expect(s3Origin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    expect(s3Origin?.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(JSON.stringify(s3Origin?.DomainName)).toContain(bucketId);
  });

  it('receives the built console at deploy time (pruned) and the distribution is invalidated', () => {
    s.template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: bucketId },
      Prune: true,
      DistributionId: { Ref: distributionId },
      DistributionPaths: ['/*'],
    });
  });
});

describe('response headers', () => {
  it('are the local stack\u2019s (src/local/static-files.ts): the same strict CSP, nosniff, DENY, no-referrer, COOP, plus HSTS', () => {
    const cfg = (propsOf(headersId) as { ResponseHeadersPolicyConfig: Record<string, unknown> })
      .ResponseHeadersPolicyConfig;
    expect(cfg.SecurityHeadersConfig).toEqual({
      ContentSecurityPolicy: { ContentSecurityPolicy: CONSOLE_CSP, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: {
        AccessControlMaxAgeSec: 31_536_000,
        IncludeSubdomains: true,
        Override: true,
      },
    });
    expect(cfg.CustomHeadersConfig).toEqual({
      Items: [{ Header: 'Cross-Origin-Opener-Policy', Value: 'same-origin', Override: true }],
    });
  });

  it('the CSP allows no inline script or style and connects only to its own origin', () => {
    const directives = new Map(
      CONSOLE_CSP.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    // 'wasm-unsafe-eval': the verifier's WebAssembly SHA-256 (console/src/hash-browser.ts); no JS eval.
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|'unsafe-eval'|\*/);
  });

  it('every behaviour (console and API) carries the policy', () => {
    const ref = { Ref: headersId };
    expect(dist.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual(ref);
    for (const b of dist.CacheBehaviors) expect(b.ResponseHeadersPolicyId).toEqual(ref);
  });
});

describe('distribution', () => {
  it('serves index.html at the root, HTTPS only (plain HTTP gets a redirect, never a page)', () => {
    expect(dist.DefaultRootObject).toBe('index.html');
    expect(dist.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(dist.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
  });

  it('routes /v1/* to the HTTP API: HTTPS only both ways, every method, never cached, every header but Host forwarded', () => {
    expect(dist.CacheBehaviors).toHaveLength(1);
    const [api] = dist.CacheBehaviors as [Record<string, unknown>];
    expect(api).toMatchObject({
      PathPattern: API_PATH_PATTERN,
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
    });
    const origin = dist.Origins.find((o) => o.Id === api.TargetOriginId);
    expect(origin).toMatchObject({
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] },
    });
    // The API's host name, cut from its endpoint URL (https://<id>.execute-api.<region>.amazonaws.com).
    const apiId = s.logicalId(findApi());
    expect(origin?.DomainName).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', expect.anything()] }] });
    expect(JSON.stringify(origin?.DomainName)).toContain(`"${apiId}"`);
  });

  it('every route the console calls is an API route under /v1/, so the one behaviour reaches all of them', () => {
    const dir = join(REPO_ROOT, 'console', 'src');
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    const calls = [...sources.matchAll(/\bapi\(\s*'([A-Z]+)',\s*[`'"]([^`'"]*)/g)].map(
      ([, m, p]) => `${m} ${p}`,
    );
    expect(calls.length).toBeGreaterThan(5);
    const routes = Object.values(API_ROUTES).flat();
    for (const call of calls) {
      expect(call, call).toMatch(/^[A-Z]+ \/v1\//);
      // `${…}` placeholders stand for one path segment each, as {param} does in a route.
      const pattern = call.replace(/\$\{[^}]*\}/g, '{}');
      const known = routes.some((r) => r.replace(/\{[^}]*\}/g, '{}') === pattern);
      expect(known, `${call} is not in cdk/routes.ts`).toBe(true);
    }
    // SCIM (/scim/v2/…) is for identity providers, server to server: they call ApiUrl directly.
    const outside = routes.filter((r) => !/^[A-Z]+ \/v1\//.test(r));
    for (const r of outside) expect(r, r).toMatch(/^[A-Z]+ \/scim\/v2\//);
  });

  it('the console URL is a stack output', () => {
    s.template.hasOutput('ConsoleUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/']] },
    });
  });
});

describe('synth', () => {
  it('refuses a console directory without a build, naming the command that makes one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'anchorlog-no-console-'));
    try {
      expect(() => synth({ bundle: false, context: { [CONSOLE_DIR_CONTEXT]: empty } })).toThrow(
        /npm run build:console/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('cdk-nag: the console adds no unacknowledged finding, warnings included (`cdk synth` fails on any)', () => {
    const report = s.nag.validateScope(s.stack);
    const findings = report.violations
      .filter((v) => v.violatingResources.some((r) => r.constructPath?.includes('/Console')))
      .map(
        (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(findings).toEqual([]);
  });
});

function propsOf(id: string): Record<string, unknown> {
  const p = s.resources[id]?.Properties;
  if (!p) throw new Error(`${id} has no properties in the template`);
  return p;
}

function findApi(): unknown {
  const api = s.stack.node.findAll().find((c) => c.node.path.endsWith('/Api/Api'));
  return api?.node.defaultChild;
}
