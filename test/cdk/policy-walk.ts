/**
 * Every permission statement in a synthesized template, flattened: identity
 * policies (with the roles they attach to) and resource policies (key, bucket,
 * topic policies, with their principals). Used to prove separation-of-duties
 * invariants over the whole template rather than over the statements we
 * expect to exist.
 */

export type Json = unknown;

export interface FlatStatement {
  /** Logical id of the resource holding the statement. */
  readonly holder: string;
  readonly holderType: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: string[];
  readonly notActions: string[];
  /** Identity policies: the logical ids of the roles they attach to; resource policies: the principal JSON. */
  readonly principals: Json[];
  readonly resources: Json[];
  readonly condition: Json;
}

interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  DeletionPolicy?: string;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statementsOf(doc: Json): Record<string, Json>[] {
  return asArray(
    (doc as { Statement?: Record<string, Json> | Record<string, Json>[] } | undefined)?.Statement,
  );
}

function flatten(
  holder: string,
  type: string,
  doc: Json,
  principalsFor: (s: Record<string, Json>) => Json[],
) {
  return statementsOf(doc).map(
    (s): FlatStatement => ({
      holder,
      holderType: type,
      effect: s.Effect as 'Allow' | 'Deny',
      actions: asArray(s.Action as string | string[]),
      notActions: asArray(s.NotAction as string | string[]),
      principals: principalsFor(s),
      resources: asArray(s.Resource as Json),
      condition: s.Condition,
    }),
  );
}

export function allStatements(resources: Record<string, Resource>): FlatStatement[] {
  const out: FlatStatement[] = [];
  const resourcePolicy: Record<string, string> = {
    'AWS::KMS::Key': 'KeyPolicy',
    'AWS::S3::BucketPolicy': 'PolicyDocument',
    'AWS::SNS::TopicPolicy': 'PolicyDocument',
    'AWS::SQS::QueuePolicy': 'PolicyDocument',
    'AWS::Lambda::Permission': '',
  };
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const roles = asArray(p.Roles as Json[]).concat(
          asArray(p.Users as Json[]),
          asArray(p.Groups as Json[]),
        );
        out.push(...flatten(id, r.Type, p.PolicyDocument, () => roles));
        break;
      }
      case 'AWS::IAM::Role':
      case 'AWS::IAM::User':
      case 'AWS::IAM::Group':
        for (const inline of asArray(p.Policies as { PolicyDocument: Json }[]))
          out.push(...flatten(id, r.Type, inline.PolicyDocument, () => [{ Ref: id }]));
        break;
      default: {
        const key = resourcePolicy[r.Type];
        if (key) out.push(...flatten(id, r.Type, p[key], (s) => [s.Principal]));
      }
    }
  }
  return out;
}

/** IAM action glob (`*`, `?`, case-insensitive) → does it cover `action`? */
export function covers(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return re.test(action);
}

/** Allow statements that grant `action` (by Action glob, or by NotAction not excluding it). */
export function granting(statements: FlatStatement[], action: string): FlatStatement[] {
  return statements.filter(
    (s) =>
      s.effect === 'Allow' &&
      (s.actions.some((a) => covers(a, action)) ||
        (s.notActions.length > 0 && !s.notActions.some((a) => covers(a, action)))),
  );
}
