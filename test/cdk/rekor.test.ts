// Rekor v2 anchoring in the stack (cdk/constructs/rekor-anchor-key.ts, docs/deploy.md §Rekor):
// opt-in by context; when on, a P-256 anchor key of its own that only the anchor role may sign
// with (key policy like the signing key's), the ANCHORLOG_REKOR_* settings on the anchor and
// export functions, the log key untouched; cdk-nag clean. Without the context nothing changes.
// Grants are also proved by the IAM simulator (test/cdk/iam-simulation.test.ts, rekorKey rows).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REKOR_LOG_KEYS_CONTEXT,
  REKOR_NAME_CONTEXT,
  REKOR_URL_CONTEXT,
} from '../../cdk/constructs/rekor-anchor-key.ts';
import { loadConfig } from '../../src/config.ts';
import { allStatements, granting } from './policy-walk.ts';
import { cleanupSynths, type Synth, synth } from './synth.ts';

// The production Rekor v2 log key (test/fixtures/rekor/SOURCE.md).
const VKEY = (
  readFileSync(
    new URL('../fixtures/rekor/rekor-prod-v2-log2025-1-idx547661/vkeys.txt', import.meta.url),
    'utf8',
  )
    .trim()
    .split(/\s+/)[0] as string
).trim();
const REKOR = {
  [REKOR_URL_CONTEXT]: 'https://log2025-1.rekor.sigstore.dev',
  [REKOR_LOG_KEYS_CONTEXT]: VKEY,
  [REKOR_NAME_CONTEXT]: 'sigstore',
};

let plain: Synth;
let on: Synth;
beforeAll(() => {
  plain = synth({ bundle: false });
  on = synth({ bundle: false, context: REKOR });
}, 300_000);
afterAll(cleanupSynths);

type Res = Synth['resources'][string];
const keys = (s: Synth) => Object.entries(s.resources).filter(([, r]) => r.Type === 'AWS::KMS::Key');
const rekorKeyId = (s: Synth) => {
  const found = keys(s).filter(([id]) => id.startsWith('RekorAnchorKey'));
  expect(found).toHaveLength(1);
  return (found[0] as [string, Res])[0];
};
const fnOf = (s: Synth, name: 'anchor' | 'export' | 'seal' | 'read') => {
  const f = s.stack.functions[name];
  if (!f) throw new Error(`no ${name}`);
  return f;
};
const envOf = (s: Synth, name: 'anchor' | 'export' | 'seal' | 'read') =>
  (
    (s.resources[s.logicalId(fnOf(s, name).fn.node.defaultChild)]?.Properties?.Environment ?? {}) as {
      Variables?: Record<string, unknown>;
    }
  ).Variables ?? {};
const roleRef = (s: Synth, name: 'anchor' | 'export' | 'seal' | 'read') =>
  s.logicalId(fnOf(s, name).role.node.defaultChild);

describe('Rekor anchor key', () => {
  it('is not synthesized without context: no key, no output, no ANCHORLOG_REKOR_* anywhere', () => {
    expect(keys(plain).filter(([id]) => id.startsWith('RekorAnchorKey'))).toEqual([]);
    expect(JSON.stringify(plain.template.toJSON())).not.toContain('ANCHORLOG_REKOR_');
    expect(Object.keys(plain.template.toJSON().Outputs)).not.toContain('RekorAnchorKeyArn');
  });

  it('with context: a retained ECC_NIST_P256 SIGN_VERIFY key, not the log signing key', () => {
    const id = rekorKeyId(on);
    const k = on.resources[id] as Res;
    expect(k.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(k.DeletionPolicy).toBe('Retain');
    expect(keys(on).length).toBe(keys(plain).length + 1);
    expect(on.template.toJSON().Outputs.RekorAnchorKeyArn.Value).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
  });

  it('sets the settings the anchor function reads, and the export function (no grant) for bundles', () => {
    const id = rekorKeyId(on);
    for (const name of ['anchor', 'export'] as const) {
      const env = envOf(on, name);
      expect(env.ANCHORLOG_REKOR_URL).toBe(REKOR[REKOR_URL_CONTEXT]);
      expect(env.ANCHORLOG_REKOR_LOG_KEYS).toBe(VKEY);
      expect(env.ANCHORLOG_REKOR_NAME).toBe('sigstore');
      expect(env.ANCHORLOG_REKOR_KEY_ID).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
      // The function's own config parser accepts what the stack sets (the ARN stands in for its token).
      const strings = Object.fromEntries(
        Object.entries(env)
          .filter(([k]) => k.startsWith('ANCHORLOG_REKOR_'))
          .map(([k, v]) => [k, typeof v === 'string' ? v : 'arn:aws:kms:us-east-1:123456789012:key/x']),
      );
      const c = loadConfig({ ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b', ...strings });
      expect(c.rekor?.name).toBe('sigstore');
    }
    // The log key stays the seal role's; the anchor function's signing key setting is unchanged.
    expect(envOf(on, 'anchor').ANCHORLOG_SIGNING_KEY_ID).toEqual(
      envOf(plain, 'anchor').ANCHORLOG_SIGNING_KEY_ID,
    );
    expect(envOf(on, 'seal').ANCHORLOG_REKOR_KEY_ID).toBeUndefined();
  });

  it('only the anchor role may Sign with it (ECDSA_SHA_256, RAW); the account administers it, no grants', () => {
    const id = rekorKeyId(on);
    const policy = (on.resources[id] as Res).Properties?.KeyPolicy as {
      Statement: { Sid: string; Action: string | string[]; Principal: unknown; Condition?: unknown }[];
    };
    const acts = (st: { Action: string | string[] }) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
    const signers = policy.Statement.filter((st) =>
      acts(st).some((a) => a === 'kms:Sign' || a.includes('*')),
    );
    expect(signers.map((st) => st.Sid)).toEqual(['OnlyTheAnchorRoleSigns']);
    expect(signers[0]?.Principal).toEqual({ AWS: { 'Fn::GetAtt': [roleRef(on, 'anchor'), 'Arn'] } });
    expect(signers[0]?.Condition).toEqual({
      StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' },
    });
    expect(policy.Statement.flatMap(acts)).not.toContain('kms:CreateGrant');
    // No identity policy in the template grants Sign on it, or Sign anywhere to a new principal.
    const sign = granting(allStatements(on.resources), 'kms:Sign');
    const signPlain = granting(allStatements(plain.resources), 'kms:Sign');
    expect(sign.length).toBe(signPlain.length + 1);
  });

  it('a change to its policy, grants or state is alarmed, as for the signing key', () => {
    const id = rekorKeyId(on);
    const rules = Object.values(on.resources).filter(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties?.EventPattern).includes(JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties?.EventPattern).toMatchObject({
      source: ['aws.kms'],
      detail: { eventName: expect.arrayContaining(['PutKeyPolicy', 'CreateGrant', 'ScheduleKeyDeletion']) },
    });
  });

  it('cdk-nag: the Rekor key adds no finding, warnings included', () => {
    const report = on.nag.validateScope(on.stack);
    const findings = report.violations
      .filter((v) => v.violatingResources.some((r) => r.constructPath?.includes('/RekorAnchorKey')))
      .map((v) => `${v.severity} ${v.ruleName}`);
    expect(findings).toEqual([]);
    const count = (s: Synth) =>
      s.nag
        .validateScope(s.stack)
        .violations.filter((v) => v.severity === 'error')
        .flatMap((v) => v.violatingResources).length;
    expect(count(on)).toBe(count(plain));
  });

  it.each([
    ['log keys without a URL', { [REKOR_LOG_KEYS_CONTEXT]: VKEY }],
    ['a URL without log keys', { [REKOR_URL_CONTEXT]: 'https://rekor.example' }],
    ['a URL that is not http(s)', { ...REKOR, [REKOR_URL_CONTEXT]: 'ftp://rekor.example' }],
    ['a log key that is not a vkey', { ...REKOR, [REKOR_LOG_KEYS_CONTEXT]: 'nope' }],
    ['a bad party name', { ...REKOR, [REKOR_NAME_CONTEXT]: 'Bad Name' }],
  ])('fails the synth on %s', (_why, context) => {
    expect(() => synth({ bundle: false, context })).toThrow(/anchorlog:rekor/);
  });

  it('takes a list of log keys from cdk.json as well as a comma-separated string', () => {
    const list = synth({ bundle: false, context: { ...REKOR, [REKOR_LOG_KEYS_CONTEXT]: [VKEY, VKEY] } });
    expect(envOf(list, 'anchor').ANCHORLOG_REKOR_LOG_KEYS).toBe(`${VKEY},${VKEY}`);
  });
});
