/**
 * Alert delivery's AWS side (docs/detection.md "Delivery", docs/deploy.md
 * "Alert destinations"):
 *
 *  - the alerts topic (SNS, KMS-encrypted with a key of its own, TLS only):
 *    the destination `alerts-topic` of the deliver function, the default route
 *    of every alert unless the destinations document sets another, with an
 *    e-mail and an HTTPS subscription made from parameters when they are set;
 *  - the destinations document from context `anchorlog:alertDestinations`,
 *    validated at synth time by the same parser the function runs (a typo
 *    fails `cdk synth`, not the first alert), passed as
 *    ANCHORLOG_ALERT_DESTINATIONS;
 *  - the deliver role's permissions for them: sns:Publish on this topic only
 *    (and the topic key's data-key use), GetSecretValue on exactly the secrets
 *    the document names, nothing else.
 */
import { CfnCondition, type CfnParameter, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  type DeliveryRouting,
  DestinationConfigError,
  parseDeliveryRouting,
} from '../../src/core/deliver/destinations.ts';
import type { ServiceFunction } from './service-function.ts';
import { accountAdministersTopicKey } from './signing-key.ts';

/** Context key holding the destinations document (JSON, or an object in cdk.json). */
export const ALERT_DESTINATIONS_CONTEXT = 'anchorlog:alertDestinations';
/** A placeholder ARN the document is validated against at synth (the real topic's ARN is a token). */
const SYNTH_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:anchorlog-alerts';

/**
 * The context document as the function will read it, validated; undefined
 * when unset. A document that does not parse fails the synth, naming the path.
 */
export function alertDestinationsDocument(
  scope: Construct,
): { text: string; routing: DeliveryRouting } | undefined {
  const raw: unknown = scope.node.tryGetContext(ALERT_DESTINATIONS_CONTEXT);
  if (raw === undefined || raw === '') return undefined;
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  try {
    return { text, routing: parseDeliveryRouting(text, { topicArn: SYNTH_TOPIC_ARN }) };
  } catch (err) {
    if (err instanceof DestinationConfigError)
      throw new Error(`context ${ALERT_DESTINATIONS_CONTEXT}: ${err.message}`);
    throw err;
  }
}

export interface AlertDeliveryProps {
  /** Optional e-mail address subscribed to the alerts topic (a parameter; empty: none). */
  readonly email: CfnParameter;
  /** Optional HTTPS endpoint subscribed to the alerts topic (a parameter; empty: none). */
  readonly httpsEndpoint: CfnParameter;
}

export class AlertDelivery extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly document: { text: string; routing: DeliveryRouting } | undefined;

  constructor(scope: Construct, id: string, props: AlertDeliveryProps) {
    super(scope, id);
    this.document = alertDestinationsDocument(this);
    // Alert notifications carry event details (actors, targets): encrypted at rest with a key the
    // account administers and only the deliver role (and SNS, for it) uses.
    this.key = new kms.Key(this, 'TopicKey', {
      description: 'anchorlog alerts topic encryption',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      policy: new iam.PolicyDocument({
        statements: [accountAdministersTopicKey()],
      }),
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'anchorlog alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    const subscribe = (sid: string, protocol: 'email' | 'https', endpoint: CfnParameter) => {
      const condition = new CfnCondition(this, `Has${sid}`, {
        expression: Fn.conditionNot(Fn.conditionEquals(endpoint.valueAsString, '')),
      });
      const sub = new sns.CfnSubscription(this, `${sid}Subscription`, {
        topicArn: this.topic.topicArn,
        protocol,
        endpoint: endpoint.valueAsString,
      });
      sub.cfnOptions.condition = condition;
    };
    subscribe('Email', 'email', props.email);
    subscribe('Https', 'https', props.httpsEndpoint);
  }

  /**
   * Lets `deliver` publish to the alerts topic (and nothing else of SNS), read
   * the secrets the destinations document names, and passes it the topic
   * and the document — the permission and the setting in one call.
   */
  grantDelivery(deliver: ServiceFunction): void {
    deliver.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    // Publishing to an encrypted topic: SNS asks for a data key on the publisher's behalf.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DeliverRolePublishes',
        principals: [new iam.ArnPrincipal(deliver.role.roleArn)],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    deliver.addEnv('ANCHORLOG_ALERT_TOPIC_ARN', this.topic.topicArn);
    if (!this.document) return;
    deliver.addEnv('ANCHORLOG_ALERT_DESTINATIONS', this.document.text);
    const secrets = new Set<string>();
    for (const d of this.document.routing.destinations.values()) if ('secret' in d) secrets.add(d.secret);
    if (secrets.size === 0) return;
    const stack = Stack.of(this);
    deliver.role.addToPrincipalPolicy(
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
  }
}
