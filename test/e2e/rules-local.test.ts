/**
 * Detection rules end to end on the local stack (`npm start`): the CLI over
 * real HTTP and real API-key authentication, the admin routes the stack
 * mounts (as the admin Lambda does), the DynamoDB rule store on the emulator,
 * and the `system` log, whose records of the changes seal like any other.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord } from '../../src/core/record.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { ruleInput } from '../app/rules-support.ts';
import { cli, readWholeLog, startTestStack } from './helpers.ts';

let stack: LocalStack;
const dir = mkdtempSync(join(tmpdir(), 'anchorlog-rules-e2e-'));

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const ruleEvents = async () =>
  (await readWholeLog(stack.services.logStore, SYSTEM_LOG_ID))
    .map((r) => decodeRecord(r.bytes))
    .filter((r) => r.event.target?.type === 'rule');

describe('anchorlog rules against the local stack', () => {
  it('apply from a repository, disable, history: each change recorded in the system log, which seals', async () => {
    const admin = ['--api', stack.info.apiUrl, '--key', stack.info.adminKey];
    writeFileSync(join(dir, 'export.yaml'), stringify(ruleInput('ai.data-export.volume')));
    writeFileSync(
      join(dir, 'silence.json'),
      JSON.stringify(
        ruleInput('producer.silence', 1, {
          kind: 'absence',
          threshold: undefined,
          match: 'true',
          absence: { for: '15m', key: 'submitter' },
          logs: ['*', 'system'],
        }),
      ),
    );
    expect((await cli('rules', 'validate', dir)).code).toBe(0);
    const applied = await cli('rules', 'apply', '-f', dir, ...admin);
    expect([applied.code, applied.err]).toEqual([0, '']);
    expect(applied.out).toContain('created ai.data-export.volume (version 1)');
    expect(applied.out).toContain('created producer.silence (version 1)');

    const disabled = await cli('rules', 'disable', 'producer.silence', ...admin);
    expect(disabled.out).toContain('disabled rule producer.silence (version 2');
    const drift = await cli('rules', 'diff', '-f', dir, '--exit-code', ...admin);
    expect(drift.code).toBe(1);
    expect(drift.out).toContain('    ~ /enabled: false → true');

    // What the evaluation job will load: the versions in effect.
    expect((await stack.services.rules.committedRules()).map((d) => [d.id, d.version, d.enabled])).toEqual([
      ['ai.data-export.volume', 1, true],
      ['producer.silence', 2, false],
    ]);
    const records = await ruleEvents();
    expect(records.map((r) => [r.event.id, r.event.action, r.submitter])).toEqual([
      ['rule/ai.data-export.volume/v1', 'rule.create', 'local-admin'],
      ['rule/producer.silence/v1', 'rule.create', 'local-admin'],
      ['rule/producer.silence/v2', 'rule.disable', 'local-admin'],
    ]);
    expect(records[2]?.event.changes?.before).toMatchObject({ version: 1, enabled: true });
    expect(records[2]?.event.changes?.after).toMatchObject({ version: 2, enabled: false });

    const history = JSON.parse((await cli('rules', 'history', 'producer.silence', '--json', ...admin)).out);
    expect(
      history.versions.map((v: { change: { recorded: { index: number } } }) => v.change.recorded.index),
    ).toEqual([records[2]?.index, records[1]?.index]);
    await stack.sealNow();
    await stack.recoverNow();
    const sealed = await stack.services.logStore.readBatches(SYSTEM_LOG_ID, 1, 100);
    expect(sealed.length).toBeGreaterThan(0);
  });

  it('a principal without admin on * is refused (403) and nothing is recorded', async () => {
    const before = (await ruleEvents()).length;
    const r = await cli(
      'rules',
      'disable',
      'ai.data-export.volume',
      '--api',
      stack.info.apiUrl,
      '--key',
      stack.info.apiKey,
      '--json',
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect((await ruleEvents()).length).toBe(before);
  });
});
