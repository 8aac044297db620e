/**
 * The admin plane for humans (docs/deploy.md "Admin plane", cdk/constructs/admin-plane.ts):
 * a second HTTP API serving exactly the /v1/admin routes, every one with IAM authorization;
 * a role assumable only with MFA and under the caller's own user name, whose one permission
 * (execute-api:Invoke on that API's admin routes) again requires MFA; the admin function told
 * to refuse humans' keys and given the break-glass settings; the authorizer too; cdk-nag clean.
 */
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../cdk/routes.ts';
import { synth } from './synth.ts';

const s = synth({ bundle: false });
type Res = { Type: string; Properties?: Record<string, unknown> };
const all = Object.entries(s.resources) as Array<[string, Res]>;
const ofType = (t: string) => all.filter(([, r]) => r.Type === t);
const adminApiId = s.logicalId(s.stack.adminPlane.api.node.defaultChild);

describe('admin plane', () => {
  it('serves exactly the /v1/admin routes, each with IAM authorization', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(
      ([, r]) => JSON.stringify(r.Properties?.ApiId) === JSON.stringify({ Ref: adminApiId }),
    );
    const keys = routes.map(([, r]) => r.Properties?.RouteKey as string).sort();
    const expected = API_ROUTES.admin.filter((k) => k.includes(' /v1/admin/')).sort();
    expect(keys).toEqual(expected);
    expect(keys.length).toBeGreaterThan(20);
    for (const [, r] of routes) expect(r.Properties?.AuthorizationType).toBe('AWS_IAM');
  });

  it('the role needs MFA and the caller’s own name to assume, and MFA to invoke; nothing else', () => {
    const roleId = s.logicalId(s.stack.adminPlane.role.node.defaultChild);
    const role = s.resources[roleId] as Res;
    const trust = JSON.stringify(role.Properties?.AssumeRolePolicyDocument);
    expect(trust).toContain('"aws:MultiFactorAuthPresent":"true"');
    expect(trust).toContain('"aws:MultiFactorAuthAge":"3600"');
    expect(trust).toContain(`"sts:RoleSessionName":"${'$'}{aws:username}"`);
    const policies = ofType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties?.Roles).includes(roleId),
    );
    const statements = policies.flatMap(
      ([, p]) =>
        (p.Properties?.PolicyDocument as { Statement?: Array<Record<string, unknown>> } | undefined)
          ?.Statement ?? [],
    );
    expect(statements.map((st) => st.Action)).toEqual(['execute-api:Invoke']);
    expect(JSON.stringify(statements[0]?.Condition)).toContain('"aws:MultiFactorAuthPresent":"true"');
    expect(JSON.stringify(statements[0]?.Resource)).toContain('/v1/admin/*');
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('the admin function refuses humans’ keys and gates break-glass; the authorizer knows break-glass', () => {
    const envOf = (fn: { fn: { node: { defaultChild?: unknown } } } | undefined) =>
      (s.resources[s.logicalId(fn?.fn.node.defaultChild)] as Res).Properties?.Environment as {
        Variables: Record<string, unknown>;
      };
    const admin = envOf(s.stack.functions.admin).Variables;
    expect(admin.ANCHORLOG_ADMIN_HUMANS_VIA_IAM).toBe('true');
    expect(admin.ANCHORLOG_BREAK_GLASS).toEqual({ Ref: 'BreakGlass' });
    expect(admin.ANCHORLOG_BREAK_GLASS_PRINCIPAL).toEqual({ Ref: 'BreakGlassPrincipal' });
    const authorizer = envOf(s.stack.functions.authorizer).Variables;
    expect(authorizer.ANCHORLOG_BREAK_GLASS_PRINCIPAL).toEqual({ Ref: 'BreakGlassPrincipal' });
    const params = s.template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(params.BreakGlass?.Default).toBe('disabled');
  });

  it('cdk-nag: no unacknowledged error in the admin plane', () => {
    const report = s.nag.validateScope(s.stack);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`));
    expect(errors).toEqual([]);
  });
});
