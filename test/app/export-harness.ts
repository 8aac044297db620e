/**
 * A real, sealed and anchored log for the export tests: IngestService with an
 * injected clock (receivedAt where the test puts it), the real SealService
 * (local P-256 signer), the real AnchorService with two TSAs, and
 * ExportService over all of it. `memoryExportEnv` builds it on the in-memory
 * adapters with two in-process TSAs (ECDSA and RSA, as the harness's OpenSSL
 * pair); ./export-moto.ts on DynamoDB and S3 in moto with the OpenSSL TSAs,
 * for the tests about S3 uploads, DynamoDB items and real TSA configuration.
 */

import { MemoryAnchorStore } from '../../src/adapters/memory/anchor-store.ts';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryExportStore } from '../../src/adapters/memory/export-store.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { MemoryTimestamper } from '../../src/adapters/memory/timestamper.ts';
import { AnchorService } from '../../src/app/anchor.ts';
import { ExportService, type ExportServiceOptions } from '../../src/app/export.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { ProofService } from '../../src/app/proofs.ts';
import { SealService, type SealServiceOptions } from '../../src/app/seal.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import type { AnchorStore } from '../../src/ports/anchor-store.ts';
import type { ArchiveStore } from '../../src/ports/archive-store.ts';
import type { AnchoredSizeLister, ExportStore } from '../../src/ports/export-store.ts';
import type { LogStore } from '../../src/ports/log-store.ts';
import type { SealStateStore } from '../../src/ports/seal-state.ts';
import type { Timestamper } from '../../src/ports/timestamper.ts';

export const ORIGIN_PREFIX = 'export.test.anchorlog';

/** The stores and TSAs an export environment runs on. */
export interface ExportPorts {
  logs: LogStore;
  archive: ArchiveStore;
  state: SealStateStore;
  anchors: AnchorStore;
  anchoredSizes: AnchoredSizeLister;
  store: ExportStore;
  timestampers: readonly Timestamper[];
  /** PEM of the TSAs' roots. */
  tsaRootsPem: string[];
}

export interface ExportEnv {
  logs: LogStore;
  archive: ArchiveStore;
  anchors: AnchorStore;
  ingest: IngestService;
  logRegistry: LogRegistry;
  seal: SealService;
  anchor: AnchorService;
  proofs: ProofService;
  signer: LocalNoteSigner;
  clock: ManualClock;
  /** PEM of the TSA roots. */
  tsaRootsPem: string[];
  exporter(extra?: Partial<ExportServiceOptions>): ExportService;
  vkey(logId: string): string;
}

/** The export environment on `ports`; the anchor quorum is every TSA. */
export function exportEnvOn(
  ports: ExportPorts,
  signer: LocalNoteSigner = LocalNoteSigner.generate('export-test-key'),
  sealExtra: Partial<SealServiceOptions> = {},
): ExportEnv {
  const { logs, archive, state, anchors } = ports;
  const clock = new ManualClock({ startMs: Date.UTC(2026, 0, 1) });
  const ingest = new IngestService({ store: logs, clock, sleep: clock.sleep });
  const seal = new SealService({
    logs,
    state,
    archive,
    signer,
    clock,
    originPrefix: ORIGIN_PREFIX,
    maxRecordsPerRun: 1_000_000,
    ...sealExtra,
  });
  const anchor = new AnchorService({
    archive,
    originPrefix: ORIGIN_PREFIX,
    logPublicKeys: [signer.publicKeySpki],
    anchors,
    timestampers: ports.timestampers,
    quorum: ports.timestampers.length,
    clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    metrics: new MemoryMetricsSink(),
    sleep: async () => {},
  });
  const publicKeys = async () => [signer.publicKeySpki];
  const proofs = new ProofService({ archive, originPrefix: ORIGIN_PREFIX, publicKeys });
  const exporter = (extra: Partial<ExportServiceOptions> = {}) =>
    new ExportService({
      logs,
      proofs,
      publicKeys,
      archive,
      anchors,
      anchoredSizes: ports.anchoredSizes,
      clock,
      store: ports.store,
      ...extra,
    });
  return {
    logs,
    archive,
    anchors,
    ingest,
    logRegistry: new LogRegistry({ store: logs, clock }),
    seal,
    anchor,
    proofs,
    signer,
    clock,
    tsaRootsPem: ports.tsaRootsPem,
    exporter,
    vkey: (logId) => vkeyFromSpki(`${ORIGIN_PREFIX}/${logId}`, signer.publicKeySpki),
  };
}

/** The export environment on the in-memory adapters, anchored by two in-process TSAs. */
export async function memoryExportEnv(
  signer?: LocalNoteSigner,
  sealExtra: Partial<SealServiceOptions> = {},
): Promise<ExportEnv> {
  const timestampers = [
    await MemoryTimestamper.create('ecdsa', { keyAlgorithm: 'ecdsa' }),
    await MemoryTimestamper.create('rsa', { keyAlgorithm: 'rsa' }),
  ];
  const anchors = new MemoryAnchorStore();
  return exportEnvOn(
    {
      logs: new MemoryLogStore(),
      archive: new MemoryArchiveStore(),
      state: new MemorySealStateStore(),
      anchors,
      anchoredSizes: anchors.anchoredSizes,
      store: new MemoryExportStore(),
      timestampers,
      tsaRootsPem: timestampers.map((t) => t.rootsPem),
    },
    signer,
    sealExtra,
  );
}

export interface PlannedEvent {
  action: string;
  actor: string;
  target: string;
}

/** Appends one batch with receivedAt = `at` (the injected clock). Returns the first index. */
export async function appendAt(
  env: ExportEnv,
  logId: string,
  at: string,
  events: PlannedEvent[],
): Promise<number> {
  env.clock.t = Date.parse(at);
  const body = {
    events: events.map((e) => ({
      occurredAt: at,
      actor: { type: 'human', id: e.actor },
      action: e.action,
      target: { type: 'resource', id: e.target },
      outcome: 'success',
    })),
  };
  const out = await env.ingest.append({
    logId,
    submitter: 'svc-export-test',
    body: utf8(JSON.stringify(body)),
  });
  return out.receipts[0]?.index ?? -1;
}

/** Seal then anchor with every TSA; throws unless all of that happens. Returns the checkpoint size. */
export async function sealAndAnchor(env: ExportEnv, logId: string): Promise<number> {
  const s = await env.seal.sealLog(logId);
  if (s.status !== 'sealed') throw new Error(`seal of ${logId}: ${s.status}`);
  const a = await env.anchor.anchorLog(logId);
  if (a.status !== 'anchored' || a.granted !== a.tsaCount)
    throw new Error(`anchor of ${logId}: ${a.status} (${JSON.stringify(a.tsas)})`);
  return a.size;
}
