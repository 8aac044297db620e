/**
 * The archive (the record of truth: tiles, entry bundles, checkpoints,
 * anchors under `logs/<logId>/`), the exports bucket (evidence bundles,
 * short-lived) and the server-access-log bucket both log to.
 *
 * The archive is versioned, Object Lock COMPLIANCE with a default retention
 * (days, from a CfnParameter), TLS-only, never public, RETAIN. Grants are
 * written out action by action: nobody gets s3:DeleteObject*,
 * s3:PutObjectRetention, s3:BypassGovernanceRetention or
 * s3:PutBucketObjectLockConfiguration, and every grant sets the bucket's env
 * var in the same call.
 *
 * Write-once is enforced by the bucket policy, for every principal including
 * administrators (docs/architecture.md §Write-once archive): a PutObject
 * without `If-None-Match` is denied everywhere except on the live checkpoint
 * `logs/<logId>/checkpoint`, whose new versions need `If-None-Match` (the
 * first) or `If-Match` (compare-and-swap on the version read); and nobody may
 * create a delete marker, which would hide a tile and let `If-None-Match`
 * succeed a second time.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, nagArn } from '../nag.ts';
import type { ServiceFunction } from './service-function.ts';

export interface ArchiveBucketsProps {
  /** Default Object Lock retention (COMPLIANCE) in days; may be a parameter token. */
  readonly retentionDays: number;
  /** Days after which evidence-bundle exports expire. */
  readonly exportExpiryDays?: number;
}

function privateBucketDefaults(): Partial<s3.BucketProps> {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

export class ArchiveBuckets extends Construct {
  readonly archive: s3.Bucket;
  readonly exports: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketsProps) {
    super(scope, id);

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...privateBucketDefaults(),
      versioned: true,
    });
    // Access logs are evidence of who read the archive: keep them as long as the archive.
    (this.accessLogs.node.defaultChild as s3.CfnBucket).lifecycleConfiguration = {
      rules: [{ id: 'expire-with-archive', status: 'Enabled', expirationInDays: props.retentionDays }],
    };

    this.archive = new s3.Bucket(this, 'Archive', {
      ...privateBucketDefaults(),
      versioned: true,
      objectLockEnabled: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
    });
    // The L2 validates retention with arithmetic a parameter token cannot pass: set it on the L1.
    (this.archive.node.defaultChild as s3.CfnBucket).objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'COMPLIANCE', days: props.retentionDays } },
    };
    this.#enforceWriteOnce();

    this.exports = new s3.Bucket(this, 'Exports', {
      ...privateBucketDefaults(),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'exports/',
      lifecycleRules: [
        {
          id: 'expire-exports',
          expiration: Duration.days(props.exportExpiryDays ?? 7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }

  /**
   * Deny statements for everyone (`Principal: *`). IAM ARN wildcards cross
   * `/`, so the checkpoint pattern also matches an anchored copy
   * `logs/<logId>/anchors/<size>/checkpoint`; the anchors statement keeps
   * those write-once. A missing header makes its condition key absent, which
   * `Null: true` matches. Multipart uploads (CreateMultipartUpload carries no
   * conditional header) are therefore refused too; nothing here uses them.
   */
  #enforceWriteOnce(): void {
    const objects = (pattern: string) => this.archive.arnForObjects(pattern);
    const anyone = [new iam.AnyPrincipal()];
    this.archive.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'WriteOnceExceptTheCheckpoint',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: ['s3:PutObject'],
        notResources: [objects('logs/*/checkpoint')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    this.archive.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AnchorsWriteOnce',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: ['s3:PutObject'],
        resources: [objects('logs/*/anchors/*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    this.archive.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CheckpointIsCompareAndSwap',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: ['s3:PutObject'],
        resources: [objects('logs/*/checkpoint')],
        // Both keys absent (the two keys of one Null block are ANDed): neither header was sent.
        conditions: { Null: { 's3:if-none-match': 'true', 's3:if-match': 'true' } },
      }),
    );
    // Object Lock refuses to delete a locked version but not to add a delete marker on top of it.
    this.archive.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoDeleteMarkers',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: ['s3:DeleteObject'],
        resources: [objects('*')],
      }),
    );
  }

  #acknowledgeObjects(target: ServiceFunction, pattern: string, action: string): void {
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::${nagArn(this.archive.node.defaultChild as s3.CfnBucket)}/${pattern}]`,
      `Archive object keys are logs/<logId>/… for every log, created at run time; the wildcard is limited to the ${pattern} prefix of the archive bucket, and the statement allows ${action} only (no delete, no retention or lock change).`,
    );
  }

  #archiveEnv(target: ServiceFunction): void {
    target.addEnv('ANCHORLOG_ARCHIVE_BUCKET', this.archive.bucketName);
  }

  #list(target: ServiceFunction, sid: string): void {
    // Without ListBucket a missing key answers 403 instead of 404.
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['s3:ListBucket'],
        resources: [this.archive.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['logs/*'] } },
      }),
    );
  }

  /** Read tiles, entry bundles, checkpoints and anchors. */
  grantArchiveRead(target: ServiceFunction): void {
    this.#read(target, 's3:GetObject');
  }

  /**
   * The read API answers an entry bundle too large for a Lambda response with
   * a presigned GET of its exact version (src/app/proofs.ts), which S3
   * authorizes as s3:GetObjectVersion of the signing role: entry bundles only.
   */
  grantEntryBundleVersionRead(target: ServiceFunction): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveEntryBundleVersions',
        actions: ['s3:GetObjectVersion'],
        resources: [this.archive.arnForObjects('logs/*/tile/entries/*')],
      }),
    );
    this.#acknowledgeObjects(target, 'logs/*/tile/entries/*', 's3:GetObjectVersion');
  }

  #read(target: ServiceFunction, actionsOnLogs: string): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveRead',
        actions: ['s3:GetObject'],
        resources: [this.archive.arnForObjects('logs/*')],
      }),
    );
    this.#acknowledgeObjects(target, 'logs/*', actionsOnLogs);
    this.#list(target, 'ArchiveList');
    this.#archiveEnv(target);
  }

  /**
   * The sealer: read, and create tiles, entry bundles and checkpoint versions
   * (`logs/<logId>/tile/…`, `logs/<logId>/checkpoint`). Never deletes, never
   * writes anchors: its checkpoint pattern also matches the anchorer's
   * copies under `anchors/` (IAM wildcards cross `/`), hence the explicit Deny.
   */
  grantArchiveSeal(target: ServiceFunction): void {
    this.#read(target, 's3:GetObject');
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveSealWrite',
        actions: ['s3:PutObject'],
        resources: [
          this.archive.arnForObjects('logs/*/tile/*'),
          this.archive.arnForObjects('logs/*/checkpoint'),
        ],
      }),
    );
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveSealNeverWritesAnchors',
        effect: iam.Effect.DENY,
        actions: ['s3:PutObject'],
        resources: [this.archive.arnForObjects('logs/*/anchors/*')],
      }),
    );
    this.#acknowledgeObjects(target, 'logs/*/tile/*', 's3:PutObject');
    this.#acknowledgeObjects(target, 'logs/*/checkpoint', 's3:PutObject');
  }

  /** The anchorer: read, and create time-stamp tokens under `logs/<logId>/anchors/`. */
  grantArchiveAnchor(target: ServiceFunction): void {
    this.grantArchiveRead(target);
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveAnchorWrite',
        actions: ['s3:PutObject'],
        resources: [this.archive.arnForObjects('logs/*/anchors/*')],
      }),
    );
    this.#acknowledgeObjects(target, 'logs/*/anchors/*', 's3:PutObject');
  }

  /** Only the variable, for handlers whose `loadConfig()` requires it but never touch the archive. */
  archiveNameOnly(target: ServiceFunction): void {
    this.#archiveEnv(target);
  }

  /** The exporter: write and read bundles (presigned downloads are signed with this role). */
  grantExports(target: ServiceFunction): void {
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ExportsReadWrite',
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: [this.exports.arnForObjects('*')],
      }),
    );
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::${nagArn(this.exports.node.defaultChild as s3.CfnBucket)}/*]`,
      'The exports bucket holds only evidence bundles this function writes (keys chosen per export at run time); it expires them by lifecycle.',
    );
    target.addEnv('ANCHORLOG_EXPORTS_BUCKET', this.exports.bucketName);
  }
}
