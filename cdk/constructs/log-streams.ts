/**
 * Log streams' AWS side (docs/streams.md "Deploying"):
 *  - the stream definitions from context `anchorlog:streams`, validated at
 *    synth time by the same parser the function runs (a typo fails `cdk
 *    synth`, not the first delivery), passed as ANCHORLOG_STREAMS;
 *  - the stream role's permissions for them: GetSecretValue on exactly the
 *    secrets the definitions name, s3:PutObject under exactly the bucket
 *    prefixes of `s3` streams, nothing else.
 * The function, its table grants, its schedule and its alarms are wired in
 * cdk/anchorlog-stack.ts with the other jobs.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { parseStreams, StreamConfigError, type StreamSpec } from '../../src/core/streams/spec.ts';
import { acknowledge } from '../nag.ts';
import type { ServiceFunction } from './service-function.ts';

/** Context key holding the stream definitions (JSON, or an object in cdk.json). */
export const STREAMS_CONTEXT = 'anchorlog:streams';

/** The context document as the function will read it, validated; undefined when unset. */
export function streamsDocument(scope: Construct): { text: string; streams: StreamSpec[] } | undefined {
  const raw: unknown = scope.node.tryGetContext(STREAMS_CONTEXT);
  if (raw === undefined || raw === '') return undefined;
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  try {
    return { text, streams: parseStreams(text) };
  } catch (err) {
    if (err instanceof StreamConfigError) throw new Error(`context ${STREAMS_CONTEXT}: ${err.message}`);
    throw err;
  }
}

/** Gives `fn` the streams of the context document: the setting, the secrets it names, the S3 prefixes. */
export function configureStreams(scope: Construct, fn: ServiceFunction): StreamSpec[] {
  const doc = streamsDocument(scope);
  if (!doc) return [];
  fn.addEnv('ANCHORLOG_STREAMS', doc.text);
  const stack = Stack.of(scope);
  const secrets = new Set<string>();
  for (const s of doc.streams) if ('secret' in s) secrets.add(s.secret);
  if (secrets.size > 0)
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        // A name stands for the secret of that name (Secrets Manager appends six characters to its ARN).
        resources: [...secrets].map((s) =>
          s.startsWith('arn:')
            ? s
            : `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${s}-??????`,
        ),
      }),
    );
  const objects = doc.streams.flatMap((s) =>
    s.kind === 's3' ? [`arn:${stack.partition}:s3:::${s.bucket}/${s.prefix}${s.name}/*`] : [],
  );
  if (objects.length > 0) {
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: objects }));
    for (const s of doc.streams)
      if (s.kind === 's3')
        acknowledge(
          fn.role.node.findChild('DefaultPolicy'),
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${s.bucket}/${s.prefix}${s.name}/*]`,
          'The wildcard is the objects of this one S3 stream (one NDJSON object per chunk, named by leaf range): put only, under the prefix the operator configured for it.',
        );
  }
  return doc.streams;
}
