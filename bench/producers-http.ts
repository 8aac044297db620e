/**
 * The realistic half of `npm run bench:producers` (docs/benchmarks.md
 * §Producers): what producer-signature verification costs on the ingest path
 * a producer actually calls — the local stack (src/local/stack.ts: HTTP
 * server, API-key auth, IngestService in the deployment's default mode,
 * DynamoDB on moto_server), as bench/ingest.ts drives it.
 *
 * One Ed25519 key is registered for the demo principal through the admin API
 * (recorded in the system log, so ingest's BoundProducerKeys checks it as
 * deployed). The events are signed ONCE before any cell runs and sent by
 * AuditClients without a signer: the bench process also hosts the API, and
 * signing in it would be counted against verification. Cells: batch 100 and
 * batch 10 × `clients` concurrent writers (each one batch in flight) ×
 * signatures off / on — the same demo events, unsigned or signed — run in
 * rounds, the order rotating each round, so each off/on pair sees the same
 * machine load; a cell's figure is the median over rounds.
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditClient } from '../src/client/audit-client.ts';
import { DEFAULT_INGEST_SETTINGS } from '../src/config.ts';
import type { AuditEvent } from '../src/core/event.ts';
import { validateEvent } from '../src/core/event.ts';
import { parsePublicKey } from '../src/core/producer-key.ts';
import { signEvent } from '../src/core/producer-signature.ts';
import { startLocalStack } from '../src/local/stack.ts';

export interface HttpCell {
  batch: number;
  clients: number;
  signatures: 'off' | 'Ed25519';
  /** Events/s per round, in round order. */
  raw: number[];
  eventsPerSec: number;
}

export interface HttpResult {
  mode: string;
  rounds: number;
  cellSeconds: number;
  budget: Record<number, number>;
  cells: HttpCell[];
  /** Per (batch, clients): 1 − signed/unsigned events/s, in %. */
  costPct: { batch: number; clients: number; costPct: number }[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function runHttpCells(opts: {
  pool: Record<string, unknown>[];
  /** The ingest path (docs/ingest.md §3 direct, §9 pending). */
  mode: 'direct' | 'pending';
  rounds: number;
  batches: number[];
  clients: number[];
  cellSeconds: number;
  /** Events per cell by batch size (the time cap may bind first). */
  budget: Record<number, number>;
  log: (line: string) => void;
}): Promise<HttpResult> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const keyId = parsePublicKey(pem).keyId;
  const signer = {
    keyId,
    alg: 'Ed25519' as const,
    sign: async (m: Uint8Array) => new Uint8Array(nodeSign(null, m, privateKey)),
  };
  const unsigned = opts.pool.map((e) => validateEvent(e));
  const signed: AuditEvent[] = [];
  for (const e of unsigned) signed.push(await signEvent(e, signer));

  const stateDir = mkdtempSync(join(tmpdir(), 'anchorlog-bench-producers-'));
  const stack = await startLocalStack({
    stateDir,
    port: 0,
    sealIntervalMs: 0,
    ingest: { ...DEFAULT_INGEST_SETTINGS, mode: opts.mode },
  });
  try {
    const principal = 'demo-agent-platform';
    const reg = await fetch(`${stack.info.apiUrl}/v1/admin/principals/${principal}/signing-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.info.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ publicKey: pem }),
    });
    if (reg.status !== 201) throw new Error(`key registration answered ${reg.status}: ${await reg.text()}`);

    let next = 0;
    const newClient = (batch: number) =>
      new AuditClient({
        apiUrl: stack.info.apiUrl,
        apiKey: stack.info.apiKey,
        logId: stack.info.logId,
        maxBatchEvents: batch,
        maxInFlightBatches: 1,
        flushIntervalMs: 5,
      });
    async function runCell(batch: number, clients: number, sig: boolean): Promise<number> {
      const source = sig ? signed : unsigned;
      const cs = Array.from({ length: clients }, () => newClient(batch));
      let budget = opts.budget[batch] ?? 1000;
      const t0 = performance.now();
      const deadline = t0 + opts.cellSeconds * 1000;
      await Promise.all(
        cs.map(async (c) => {
          while (budget >= batch && performance.now() < deadline) {
            budget -= batch;
            await Promise.all(Array.from({ length: batch }, () => c.append(source[next++ % source.length])));
          }
          await c.close();
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      const events = cs.reduce((s, c) => s + c.stats.events, 0);
      if (cs.some((c) => c.stats.events === 0)) throw new Error('a writer sent nothing');
      return events / secs;
    }

    // Warm-up, not counted: caches (log, tip, key binding), JIT, the HTTP path.
    await runCell(10, 2, false);
    await runCell(10, 2, true);

    const specs = opts.batches.flatMap((batch) =>
      opts.clients.flatMap((clients) =>
        (['off', 'Ed25519'] as const).map((signatures) => ({ batch, clients, signatures })),
      ),
    );
    const raw = new Map(specs.map((s) => [s, [] as number[]]));
    for (let r = 0; r < opts.rounds; r++) {
      for (let k = 0; k < specs.length; k++) {
        const s = specs[(k + r) % specs.length] as (typeof specs)[number];
        const eps = await runCell(s.batch, s.clients, s.signatures !== 'off');
        raw.get(s)?.push(eps);
        opts.log(
          `http round ${r + 1}: batch ${s.batch} × ${s.clients} writers, signatures ${s.signatures}: ${Math.round(eps)} events/s`,
        );
      }
    }
    const cells: HttpCell[] = specs.map((s) => {
      const xs = raw.get(s) ?? [];
      return { ...s, raw: xs.map(Math.round), eventsPerSec: Math.round(median(xs)) };
    });
    const costPct = opts.batches.flatMap((batch) =>
      opts.clients.map((clients) => {
        const of = (sig: string) =>
          cells.find((c) => c.batch === batch && c.clients === clients && c.signatures === sig)
            ?.eventsPerSec ?? Number.NaN;
        return { batch, clients, costPct: Math.round((1 - of('Ed25519') / of('off')) * 1000) / 10 };
      }),
    );
    return {
      mode: opts.mode,
      rounds: opts.rounds,
      cellSeconds: opts.cellSeconds,
      budget: opts.budget,
      cells,
      costPct,
    };
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
