/**
 * The Rekor anchor key (docs/anchoring.md §Rekor): a KMS `ECC_NIST_P256` / `SIGN_VERIFY` key of
 * its own that signs the entries the anchor job submits to a Rekor v2 log — never the log's
 * checkpoint signing key, so a Rekor entry can never be replayed as a checkpoint signature and
 * the log key's only signer stays the seal role. RETAIN, like the signing key: auditors pin its
 * public key (TRUST.json `rekor.anchorKeys`).
 *
 * Opt-in with context (docs/deploy.md §Rekor): `anchorlog:rekorUrl` and
 * `anchorlog:rekorLogKeys` (the Rekor log's checkpoint vkeys), optionally `anchorlog:rekorName`.
 * Without them nothing of this is synthesized. The values are checked at synth time with the
 * same parsers the anchor function uses at cold start, so a typo fails `cdk synth`, not the
 * first anchor run.
 *
 * The key policy mirrors the signing key's (cdk/constructs/signing-key.ts): the account
 * administers but cannot use it, no grants; only the anchor role may Sign (ECDSA_SHA_256 over
 * RAW messages) and read the public key.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { isValidTsaName, TSA_NAME_RULE } from '../../src/core/names.ts';
import { parseVerifierKey } from '../../src/core/note/index.ts';
import type { ServiceFunction } from './service-function.ts';
import { KEY_ADMIN_ACTIONS } from './signing-key.ts';

/** Context keys that turn Rekor on (docs/deploy.md §Rekor). */
export const REKOR_URL_CONTEXT = 'anchorlog:rekorUrl';
export const REKOR_LOG_KEYS_CONTEXT = 'anchorlog:rekorLogKeys';
export const REKOR_NAME_CONTEXT = 'anchorlog:rekorName';

export interface RekorContext {
  readonly url: string;
  /** The Rekor log's checkpoint vkeys, as given (each parsed). */
  readonly logKeys: readonly string[];
  /** The party name (ANCHORLOG_REKOR_NAME); undefined = the function's default. */
  readonly name?: string;
}

/**
 * The Rekor settings from context, or undefined when `anchorlog:rekorUrl` is unset. A log key
 * list is a JSON list in cdk.json or a comma-separated string (`-c anchorlog:rekorLogKeys=k1,k2`).
 * Anything malformed, or log keys / a name without a URL, fails the synth.
 */
export function rekorContext(scope: Construct): RekorContext | undefined {
  const get = (k: string): unknown => {
    const v: unknown = scope.node.tryGetContext(k);
    return v === '' ? undefined : v;
  };
  const url = get(REKOR_URL_CONTEXT);
  const rawKeys = get(REKOR_LOG_KEYS_CONTEXT);
  const name = get(REKOR_NAME_CONTEXT);
  if (url === undefined) {
    if (rawKeys !== undefined || name !== undefined)
      throw new Error(`context ${REKOR_LOG_KEYS_CONTEXT} / ${REKOR_NAME_CONTEXT} need ${REKOR_URL_CONTEXT}`);
    return undefined;
  }
  if (typeof url !== 'string' || !/^https?:\/\/[^\s,]+$/.test(url))
    throw new Error(`context ${REKOR_URL_CONTEXT}: ${JSON.stringify(url)} is not an http(s) URL`);
  if (rawKeys === undefined)
    throw new Error(`context ${REKOR_URL_CONTEXT} needs ${REKOR_LOG_KEYS_CONTEXT} (the Rekor log's vkeys)`);
  const logKeys = (Array.isArray(rawKeys) ? rawKeys : String(rawKeys).split(','))
    .map((k) => String(k).trim())
    .filter((k) => k !== '');
  if (logKeys.length === 0) throw new Error(`context ${REKOR_LOG_KEYS_CONTEXT} names no key`);
  for (const k of logKeys) {
    // A comma would split the key in ANCHORLOG_REKOR_LOG_KEYS; vkeys never contain one.
    try {
      if (k.includes(',')) throw new Error('contains a comma');
      parseVerifierKey(k);
    } catch (e) {
      throw new Error(
        `context ${REKOR_LOG_KEYS_CONTEXT}: ${JSON.stringify(k.slice(0, 60))}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  if (name !== undefined && (typeof name !== 'string' || !isValidTsaName(name)))
    throw new Error(`context ${REKOR_NAME_CONTEXT}: ${JSON.stringify(name)}: ${TSA_NAME_RULE}`);
  return { url, logKeys, ...(name !== undefined ? { name } : {}) };
}

export class RekorAnchorKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description:
        'anchorlog Rekor anchor key (ECDSA P-256): signs Rekor v2 entries. Only the anchor role may Sign.',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountAdministersButCannotSign',
            principals: [new iam.AccountRootPrincipal()],
            actions: KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
        ],
      }),
    });
    new kms.Alias(this, 'Alias', {
      aliasName: `alias/${Stack.of(this).stackName}-rekor-anchor`,
      targetKey: this.key,
    });
  }

  /**
   * The anchor function: `kms:Sign` (ECDSA_SHA_256 over RAW messages only) and the public key
   * (it reads it at cold start to put it in each entry), in the key policy for this one role,
   * and the ANCHORLOG_REKOR_* settings.
   */
  allowAnchor(target: ServiceFunction, settings: RekorContext): void {
    const principals = [new iam.ArnPrincipal(target.role.roleArn)];
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheAnchorRoleSigns',
        principals,
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AnchorRoleReadsPublicKey',
        principals,
        actions: ['kms:GetPublicKey', 'kms:DescribeKey'],
        resources: ['*'],
      }),
    );
    this.configure(target, settings);
  }

  /**
   * The ANCHORLOG_REKOR_* settings alone, no permission: for the export function, which puts the
   * archived entries of the Rekor party into bundles (src/compose/export.ts) and never signs. The
   * key's ARN is only a name to it (config requires the four settings together).
   */
  configure(target: ServiceFunction, settings: RekorContext): void {
    target.addEnv('ANCHORLOG_REKOR_URL', settings.url);
    target.addEnv('ANCHORLOG_REKOR_LOG_KEYS', settings.logKeys.join(','));
    target.addEnv('ANCHORLOG_REKOR_KEY_ID', this.key.keyArn);
    if (settings.name !== undefined) target.addEnv('ANCHORLOG_REKOR_NAME', settings.name);
  }
}
