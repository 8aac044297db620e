/**
 * The checkpoint signing key: KMS `ECC_NIST_P256` / `SIGN_VERIFY`
 * (docs/formats.md §Checkpoints), RETAIN.
 *
 * The key policy is written out in full. The account may administer the key
 * but not use it: no `kms:*`, no wildcard that covers `kms:Sign`, no
 * `kms:CreateGrant` (a grant could hand Sign to anyone). Because the account
 * principal is not given Sign, no IAM policy in the account can grant it
 * either; the only way to sign is to be the role named in the key policy.
 * Changing the key policy (kms:PutKeyPolicy, which the account must keep to
 * avoid locking itself out) is alarmed: see AnchorlogAlarms.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { ServiceFunction } from './service-function.ts';

/** What the account root may do with the signing key: administer, describe, read the public key. */
export const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetPublicKey',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:ListGrants',
  'kms:PutKeyPolicy',
  'kms:UpdateKeyDescription',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:RevokeGrant',
  'kms:RetireGrant',
];

/**
 * The statement by which the account administers a symmetric key that encrypts an SNS topic
 * (the alarm topic, the alerts topic): key administration plus rotation, and nothing that reads
 * or uses data. Who may encrypt with the key is granted beside it, per topic.
 */
export function accountAdministersTopicKey(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AccountAdministers',
    principals: [new iam.AccountRootPrincipal()],
    actions: [
      ...KEY_ADMIN_ACTIONS.filter((a) => a !== 'kms:GetPublicKey'),
      'kms:EnableKeyRotation',
      'kms:DisableKeyRotation',
      'kms:GetKeyRotationStatus',
    ],
    resources: ['*'],
  });
}

/** Context key listing retired log keys' ARNs (docs/operations.md §Key rotation). */
export const RETIRED_KEYS_CONTEXT = 'anchorlog:retiredSigningKeyArns';
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * The ARNs in context `anchorlog:retiredSigningKeyArns` (a list, or a comma-separated
 * string as `cdk deploy -c anchorlog:retiredSigningKeyArns=arn1,arn2` gives it); a
 * value that is not a KMS key ARN fails the synth.
 */
export function retiredKeyArns(scope: Construct): string[] {
  const raw: unknown = scope.node.tryGetContext(RETIRED_KEYS_CONTEXT);
  if (raw === undefined || raw === '') return [];
  const list = Array.isArray(raw) ? raw : String(raw).split(',');
  return list.map((a) => {
    const arn = String(a).trim();
    if (!KMS_KEY_ARN.test(arn))
      throw new Error(`context ${RETIRED_KEYS_CONTEXT}: ${JSON.stringify(arn)} is not a KMS key ARN`);
    return arn;
  });
}

export class SigningKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const account = new iam.AccountRootPrincipal();
    this.key = new kms.Key(this, 'Key', {
      description: 'anchorlog checkpoint signing key (ECDSA P-256). Only the seal role may Sign.',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountAdministersButCannotSign',
            principals: [account],
            actions: KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
        ],
      }),
    });
    new kms.Alias(this, 'Alias', {
      aliasName: `alias/${Stack.of(this).stackName}-signing`,
      targetKey: this.key,
    });
  }

  /**
   * The sealer: `kms:Sign` (ECDSA_SHA_256 over RAW messages only) and the
   * public key, granted in the key policy to this one role.
   */
  allowSign(target: ServiceFunction): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheSealRoleSigns',
        principals: [new iam.ArnPrincipal(target.role.roleArn)],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' },
        },
      }),
    );
    this.#allowPublicKey(target, 'SealRoleReadsPublicKey');
  }

  /** Readers of the verifier key (GET /v1/keys, exports): GetPublicKey only. */
  allowPublicKey(target: ServiceFunction, sid: string): void {
    this.#allowPublicKey(target, sid);
  }

  /**
   * Retired log keys (no longer in this stack): `kms:GetPublicKey` only, in the
   * role's own policy, so the seal and anchor functions accept checkpoints
   * those keys signed. Works while the retired key's policy lets the account
   * delegate GetPublicKey (this construct's account statement does).
   */
  static allowRetiredPublicKeys(target: ServiceFunction, arns: readonly string[]): void {
    if (arns.length === 0) return;
    target.role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [...arns] }));
    target.addEnv('ANCHORLOG_RETIRED_SIGNING_KEYS', arns.join(','));
  }

  #allowPublicKey(target: ServiceFunction, sid: string): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ArnPrincipal(target.role.roleArn)],
        actions: ['kms:GetPublicKey', 'kms:DescribeKey'],
        resources: ['*'],
      }),
    );
    target.addEnv('ANCHORLOG_SIGNING_KEY_ID', this.key.keyArn);
  }
}
