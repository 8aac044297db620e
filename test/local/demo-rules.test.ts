/**
 * `npm run demo` is meant to show detection working: its event stream, in the
 * shapes of the starter pack's catalog, fires at least two different
 * AI-platform rules when evaluated the way the local stack evaluates them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadRule } from '../../src/core/detect/compile.ts';
import type { Step } from '../../src/core/detect/engine.ts';
import type { LogRecord } from '../../src/core/record.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import { evaluate, T0 } from '../core/detect/support.ts';

const dir = new URL('../../rules/ai-platform/', import.meta.url).pathname;
const rules = readdirSync(dir).map((f) => loadRule(readFileSync(join(dir, f))));

it('the demo stream fires at least two AI-platform rules', async () => {
  const events = demoEvents({ count: 500, startMs: T0 });
  const steps: Step[] = events.map((event, index) => ({
    kind: 'record',
    record: {
      v: 1,
      logId: 'demo',
      index,
      receivedAt: new Date(T0 + index * 250).toISOString(),
      submitter: 'demo-producer',
      prev: 'A'.repeat(43) + '=',
      event,
    } as unknown as LogRecord,
  }));
  const { alerts } = await evaluate(rules, steps, { logId: 'demo' });
  const fired = new Set(alerts.map((a) => a.rule.id));
  expect(fired.size, [...fired].join(', ')).toBeGreaterThanOrEqual(2);
});
