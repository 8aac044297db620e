/**
 * Many appenders, one log: separate IngestService instances (think: separate
 * Lambda instances) over the same table race for tip+1. The conditional
 * commit must leave no fork and no gap, and every receipt must be unique and
 * present. Faults are sprinkled in on some appenders to mix lost races with
 * ambiguous writes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FaultInjector, itemKind } from '../../src/adapters/aws/faulty-dynamo.ts';
import type { Receipt } from '../../src/ports/log-store.ts';
import { makeEnv, newTable } from './ingest-moto.ts';
import { body, checkInvariants, event } from './ingest-support.ts';

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let tableName: string;
beforeAll(async () => {
  ({ tableName } = await newTable());
});

describe('concurrent appenders', () => {
  it('16 appenders × 2 batches: no fork, no gap, unique receipts', async () => {
    const APPENDERS = 16;
    const BATCHES = 2;
    const EVENTS = 5;
    const setup = makeEnv(tableName);
    await setup.logRegistry.createLog('busy');
    const counters: FaultInjector[] = [];
    const appenders = Array.from({ length: APPENDERS }, (_, a) => {
      const faults = new FaultInjector(
        // Every fourth appender also sees an ambiguous commit and a throttled probe.
        a % 4 === 0
          ? [
              { op: 'PutItem', match: (i) => itemKind(i) === 'B', fault: 'timeout-after', after: 1 },
              { op: 'GetItem', match: (i) => itemKind(i) === 'B', fault: 'throttle', after: 2 },
            ]
          : [],
      );
      counters.push(faults);
      // Real backoff here: it is what keeps lost races from multiplying requests.
      return makeEnv(tableName, faults, realSleep).service();
    });
    const t0 = performance.now();
    const results = await Promise.all(
      appenders.map(async (svc, a) => {
        const out: Receipt[] = [];
        for (let b = 0; b < BATCHES; b++) {
          // Half the appenders send client ids (implicit key + event-id items), half do not.
          const events = Array.from({ length: EVENTS }, (_, e) =>
            a % 2 === 0 ? event({ id: `c-${a}-${b}-${e}` }) : event(),
          );
          const r = await svc.append({ logId: 'busy', submitter: `appender-${a}`, body: body(events) });
          expect(r.status).toBe(201);
          out.push(...r.receipts);
        }
        return out;
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const receipts = results.flat();
    const total = APPENDERS * BATCHES * EVENTS;
    expect(new Set(receipts.map((r) => r.index)).size).toBe(total);
    expect(new Set(receipts.map((r) => r.leafHash)).size).toBe(total);
    const { records, batches } = await checkInvariants(setup.store, 'busy', receipts);
    expect(records).toBe(total);
    expect(batches).toBe(APPENDERS * BATCHES);
    const requests = counters.reduce((n, f) => n + f.totalCalls, 0);
    const byOp = new Map<string, number>();
    for (const f of counters) for (const [op, n] of f.calls) byOp.set(op, (byOp.get(op) ?? 0) + n);
    console.log(Object.fromEntries(byOp));
    console.log(
      `concurrency: ${total} events in ${APPENDERS * BATCHES} batches by ${APPENDERS} appenders: ` +
        `${(total / seconds).toFixed(0)} events/s, ${(requests / (APPENDERS * BATCHES)).toFixed(1)} DynamoDB requests/batch ` +
        `(incl. lost races, event-id reads+writes, head updates)`,
    );
  });

  it('appenders with their own clocks still produce non-decreasing receivedAt', async () => {
    const setup = makeEnv(tableName);
    await setup.logRegistry.createLog('skew');
    const skews = [0, -5_000, 3_000, -60_000];
    const receipts = (
      await Promise.all(
        skews.map(async (skew) => {
          const env = makeEnv(tableName);
          env.clock.t += skew;
          const svc = env.service();
          const out: Receipt[] = [];
          for (let b = 0; b < 3; b++)
            out.push(
              ...(await svc.append({ logId: 'skew', submitter: 'p', body: body([event()]) })).receipts,
            );
          return out;
        }),
      )
    ).flat();
    // verifyChain inside checkInvariants refuses any receivedAt regression.
    await checkInvariants(setup.store, 'skew', receipts);
  });
});
