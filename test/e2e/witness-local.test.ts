/**
 * `npm start`'s two local witnesses end to end: events → seal → anchor job
 * (TSAs, then witnesses) → GET /v1/logs/{log}/checkpoint carries both
 * cosignatures, still a valid signed note for a parser that knows only the log
 * key; a second seal is cosigned through a consistency proof computed from the
 * archived tiles in S3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import { parseVerifierKey, verifyNote } from '../../src/core/note/index.ts';
import { parseCosignerKey, verifyWitnessedCheckpoint, witnessPolicy } from '../../src/core/witness/index.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from './helpers.ts';

let stack: LocalStack;
let client: AuditClient;

beforeAll(async () => {
  stack = await startTestStack();
  client = new AuditClient({ apiUrl: stack.info.apiUrl, apiKey: stack.info.apiKey, logId: stack.info.logId });
});
afterAll(async () => {
  await client?.close();
  await stack?.stop();
});

async function served(): Promise<string> {
  const res = await fetch(`${stack.info.apiUrl}/v1/logs/${stack.info.logId}/checkpoint`, {
    headers: { authorization: `Bearer ${stack.info.apiKey}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

async function logKey() {
  const keys = (await (await fetch(`${stack.info.apiUrl}/v1/keys?log=${stack.info.logId}`)).json()) as {
    keys: Array<{ vkey: string }>;
  };
  return parseVerifierKey(keys.keys[0]?.vkey ?? '');
}

describe('local stack: two witnesses cosign every checkpoint', () => {
  it('serves the checkpoint with both cosignatures, after the first seal and after growth', async () => {
    const policy = witnessPolicy(stack.info.witnessVkeys.map(parseCosignerKey), 2);
    const key = await logKey();
    for (const count of [40, 300]) {
      await Promise.all(demoEvents({ count, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
      await stack.sealNow();
      await stack.anchorNow();
      const note = await served();
      const r = verifyWitnessedCheckpoint(note, [key], policy, { now: Math.floor(Date.now() / 1000) });
      expect(r.witnesses.map((w) => w.status)).toEqual(['cosigned', 'cosigned']);
      expect(r.quorumMet).toBe(true);
      // Parsers that know only the log key: the cosignature lines are unknown signatures, ignored.
      const plain = verifyNote(note, [key]);
      expect(plain.ignored.map((s) => s.name).sort()).toEqual(policy.witnesses.map((w) => w.name).sort());
      expect(r.checkpoint.size).toBeGreaterThanOrEqual(count);
    }
  });
});
