/**
 * The synthesized template's IAM, evaluated by a real policy simulator
 * (@cloud-copilot/iam-simulate: AWS's evaluation logic — explicit deny,
 * identity and resource policies, same-account rules, KMS key policies that
 * must allow the principal themselves, every condition operator including
 * ForAllValues/ForAnyValue and Null). README.md "Dependency notes" says why this
 * simulator.
 *
 * CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, pseudo parameters)
 * are resolved to the concrete names and ARNs the resources would have in one
 * fictitious account, so a request is simulated against exactly the
 * statements CloudFormation would create. Anything this resolver does not
 * know (a new resource type or intrinsic inside a policy) throws instead of
 * being guessed, and so does a policy the simulator rejects as invalid.
 */
import {
  type EvaluationResult,
  getDenialReasons,
  getGrantReasons,
  runSimulation,
  type SimulationIdentityPolicy,
} from '@cloud-copilot/iam-simulate';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

type Json = unknown;

interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}

/** Who makes a request: an assumed-role session and the policies attached to its role. */
export interface Caller {
  readonly name: string;
  /** The role's ARN (what resource policies name). */
  readonly roleArn: string;
  /** The assumed-role session ARN (what the request is signed as). */
  readonly sessionArn: string;
  readonly identityPolicies: SimulationIdentityPolicy[];
}

export interface SimRequest {
  readonly caller: Caller;
  readonly action: string;
  /** A concrete ARN (no wildcards). */
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

export interface SimDecision {
  readonly result: EvaluationResult;
  /** The statements that decided it, for assertion messages. */
  readonly because: string;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Anchorlog',
};

export class TemplateIam {
  readonly #resources: Record<string, Resource>;
  /** Key policies of KMS keys outside the template (e.g. a retired signing key), by ARN. */
  readonly #externalKeyPolicies = new Map<string, Json>();

  constructor(resources: Record<string, Resource>) {
    this.#resources = resources;
  }

  #resource(id: string): Resource {
    const r = this.#resources[id];
    if (!r) throw new Error(`template has no resource ${id}`);
    return r;
  }

  /** What `Ref` returns for a resource, per type (the physical id CloudFormation would report). */
  ref(id: string): string {
    const type = this.#resource(id).Type;
    switch (type) {
      case 'AWS::S3::Bucket':
        return `anchorlog-${id.toLowerCase()}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`;
      case 'AWS::DynamoDB::Table':
      case 'AWS::ApiGatewayV2::Api':
      case 'AWS::IAM::Role':
      case 'AWS::KMS::Key':
      case 'AWS::Logs::LogGroup':
      case 'AWS::Lambda::Function':
        return id;
      default:
        throw new Error(`iam-sim: no Ref for ${type} (${id}); add it to test/cdk/iam-sim.ts`);
    }
  }

  /** `Fn::GetAtt [id, Arn]`. */
  arn(id: string): string {
    const type = this.#resource(id).Type;
    const name = this.ref(id);
    switch (type) {
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${ACCOUNT}:role/${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
      default:
        throw new Error(`iam-sim: no Arn for ${type} (${id}); add it to test/cdk/iam-sim.ts`);
    }
  }

  /** Resolves every intrinsic in `v` to a plain value. */
  resolve(v: Json): Json {
    if (Array.isArray(v)) return v.map((x) => this.resolve(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    const only = keys.length === 1 ? keys[0] : undefined;
    if (only === 'Ref') {
      const target = String(o.Ref);
      const pseudo = PSEUDO[target];
      if (pseudo !== undefined) return pseudo;
      if (!this.#resources[target]) throw new Error(`iam-sim: Ref to parameter ${target} inside a policy`);
      return this.ref(target);
    }
    if (only === 'Fn::GetAtt') {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      if (attr !== 'Arn') throw new Error(`iam-sim: Fn::GetAtt ${id}.${attr} is not supported`);
      return this.arn(id);
    }
    if (only === 'Fn::Join') {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return (this.resolve(parts) as Json[]).map(String).join(sep);
    }
    if (only === 'Fn::Sub') {
      // The string form only (CDK writes it for the bootstrap assets bucket): ${Name} or ${Id.Arn}.
      const text = o['Fn::Sub'];
      if (typeof text !== 'string') throw new Error('iam-sim: Fn::Sub with a variable map is not supported');
      return text.replace(/\$\{([^}.]+)(?:\.([^}]+))?\}/g, (_, name: string, attr?: string) =>
        String(this.resolve(attr ? { 'Fn::GetAtt': [name, attr] } : { Ref: name })),
      );
    }
    if (only?.startsWith('Fn::')) throw new Error(`iam-sim: ${only} is not supported`);
    return Object.fromEntries(keys.map((k) => [k, this.resolve(o[k])]));
  }

  /** Logical ids of every role in the template. */
  roleIds(): string[] {
    return Object.entries(this.#resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => id);
  }

  /** The session of a role, with every identity policy attached to it (inline and AWS::IAM::Policy). */
  roleCaller(roleId: string, name: string): Caller {
    const role = this.#resource(roleId);
    if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role`);
    // Managed policies cannot be simulated from the template; the stack attaches none.
    if (asArray(role.Properties?.ManagedPolicyArns as Json[]).length > 0)
      throw new Error(`${roleId} has managed policies: the simulation would be incomplete`);
    const ref = JSON.stringify({ Ref: roleId });
    const attached = Object.entries(this.#resources)
      .filter(
        ([, r]) =>
          (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') &&
          asArray(r.Properties?.Roles as Json[]).some((x) => JSON.stringify(x) === ref),
      )
      .map(([id, r]) => ({ name: id, policy: this.resolve(r.Properties?.PolicyDocument) }));
    const inline = asArray(role.Properties?.Policies as { PolicyName: string; PolicyDocument: Json }[]).map(
      (p) => ({ name: p.PolicyName, policy: this.resolve(p.PolicyDocument) }),
    );
    return sessionOf(name, this.ref(roleId), [...attached, ...inline]);
  }

  /** Declares the key policy of a KMS key the template references but does not create. */
  addExternalKey(arn: string, keyPolicy: Json): void {
    this.#externalKeyPolicies.set(arn, keyPolicy);
  }

  /** The key policy of the template's key `id`, resolved. */
  keyPolicy(id: string): Json {
    const r = this.#resource(id);
    if (r.Type !== 'AWS::KMS::Key') throw new Error(`${id} is not a KMS key`);
    return this.resolve(r.Properties?.KeyPolicy);
  }

  /** The resource policy that governs `arn` (bucket policy, key policy, table resource policy), if any. */
  resourcePolicy(arn: string): Json | undefined {
    const external = this.#externalKeyPolicies.get(arn);
    if (external !== undefined) return external;
    const s3 = /^arn:aws:s3:::([^/]+)/.exec(arn);
    if (s3) {
      const policies = Object.values(this.#resources).filter(
        (r) => r.Type === 'AWS::S3::BucketPolicy' && this.resolve(r.Properties?.Bucket) === s3[1],
      );
      if (policies.length > 1) throw new Error(`bucket ${s3[1]} has ${policies.length} bucket policies`);
      return policies[0] ? this.resolve(policies[0].Properties?.PolicyDocument) : undefined;
    }
    for (const [id, r] of Object.entries(this.#resources)) {
      if (r.Type === 'AWS::KMS::Key' && this.arn(id) === arn) return this.resolve(r.Properties?.KeyPolicy);
      if (r.Type === 'AWS::DynamoDB::Table' && arn.startsWith(this.arn(id))) {
        const rp = r.Properties?.ResourcePolicy as { PolicyDocument?: Json } | undefined;
        return rp ? this.resolve(rp.PolicyDocument) : undefined;
      }
    }
    if (/^arn:aws:(kms|dynamodb):/.test(arn)) throw new Error(`no ${arn} in the template`);
    return undefined;
  }

  async decide(req: SimRequest): Promise<SimDecision> {
    const resourcePolicy = this.resourcePolicy(req.resource);
    const response = await runSimulation(
      {
        request: {
          principal: req.caller.sessionArn,
          action: req.action,
          resource: { resource: req.resource, accountId: ACCOUNT },
          contextVariables: {
            'aws:PrincipalArn': req.caller.roleArn,
            'aws:PrincipalAccount': ACCOUNT,
            'aws:SecureTransport': 'true',
            ...req.context,
          },
        },
        identityPolicies: req.caller.identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy } : {}),
      },
      { simulationMode: 'Strict' },
    );
    if (response.resultType === 'error')
      throw new Error(`simulation rejected: ${response.errors.message} ${JSON.stringify(response.errors)}`);
    if (response.resultType !== 'single') throw new Error(`${req.resource} is not a concrete ARN`);
    const analysis = response.result.analysis;
    const reasons = analysis.result === 'Allowed' ? getGrantReasons(analysis) : getDenialReasons(analysis);
    return { result: response.overallResult, because: JSON.stringify(reasons) };
  }
}

/** A session of role `roleName` with the given identity policies. */
export function sessionOf(
  name: string,
  roleName: string,
  identityPolicies: SimulationIdentityPolicy[],
): Caller {
  return {
    name,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${name}`,
    identityPolicies,
  };
}
