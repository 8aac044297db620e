/**
 * A real read side for the proof, read-route and CLI tests: records appended
 * through IngestService, sealed by the real SealService (local P-256 signer),
 * served by ProofService over an ArchiveStore whose `get` calls are counted.
 * `readEnv` builds it on the in-memory adapters (src/adapters/memory/, held
 * to the same contracts as the AWS ones); ./proofs-moto.ts builds the same on
 * DynamoDB and S3 in moto, for the tests about S3 itself (presigned URLs).
 */

import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../../src/app/admin-audit.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { apiKeyFromHeaders, PrincipalService } from '../../src/app/principals.ts';
import { ProofService } from '../../src/app/proofs.ts';
import { SealService } from '../../src/app/seal.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { decodeEntryBundle } from '../../src/core/merkle/entry-bundle.ts';
import { entryBundlePath, TILE_WIDTH } from '../../src/core/merkle/tile-path.ts';
import { type Principal, type Scope, SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { type Authenticate, createRouter } from '../../src/http/router.ts';
import { readRoutes } from '../../src/http/routes/read.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import {
  type ArchiveStore,
  archiveKey,
  type CheckpointPrecondition,
  checkpointKey,
} from '../../src/ports/archive-store.ts';
import type { LogStore } from '../../src/ports/log-store.ts';
import type { PrincipalStore } from '../../src/ports/principal-store.ts';
import type { SealStateStore } from '../../src/ports/seal-state.ts';

export const ORIGIN_PREFIX = 'proofs.test.anchorlog';

/** ArchiveStore wrapper that counts reads (the O(log n) claim is about these). */
export class CountingArchive implements ArchiveStore {
  gets: string[] = [];
  constructor(readonly inner: ArchiveStore) {}
  putImmutable(key: string, bytes: Uint8Array) {
    return this.inner.putImmutable(key, bytes);
  }
  putCheckpoint(logId: string, text: string, expected: CheckpointPrecondition) {
    return this.inner.putCheckpoint(logId, text, expected);
  }
  getCheckpoint(logId: string) {
    this.gets.push(checkpointKey(logId));
    return this.inner.getCheckpoint(logId);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  get(key: string) {
    this.gets.push(key);
    return this.inner.get(key);
  }
  getBounded(key: string, maxBytes: number) {
    this.gets.push(key);
    return this.inner.getBounded(key, maxBytes);
  }
  presignGet(key: string, versionId: string | undefined, expiresInSeconds: number) {
    return this.inner.presignGet(key, versionId, expiresInSeconds);
  }
  reset(): void {
    this.gets = [];
  }
}

/** The stores a read side needs. */
export interface ReadPorts {
  logs: LogStore;
  state: SealStateStore;
  archive: ArchiveStore;
  principals: PrincipalStore;
}

export interface ReadEnv {
  logs: LogStore;
  archive: ArchiveStore;
  principalStore: PrincipalStore;
  counting: CountingArchive;
  ingest: IngestService;
  logRegistry: LogRegistry;
  seal: SealService;
  signer: LocalNoteSigner;
  proofs: ProofService;
  clock: ManualClock;
}

/** The read side on `ports`. */
export function readEnvOn(ports: ReadPorts): ReadEnv {
  const clock = new ManualClock();
  const { logs, archive } = ports;
  const counting = new CountingArchive(archive);
  const signer = LocalNoteSigner.generate('proofs-test-key');
  const ingest = new IngestService({ store: logs, clock, sleep: clock.sleep });
  const seal = new SealService({
    logs,
    state: ports.state,
    archive,
    signer,
    clock,
    originPrefix: ORIGIN_PREFIX,
    maxRecordsPerRun: 1_000_000,
  });
  const proofs = new ProofService({
    archive: counting,
    originPrefix: ORIGIN_PREFIX,
    publicKeys: async () => [signer.publicKeySpki],
  });
  const logRegistry = new LogRegistry({ store: logs, clock });
  return {
    logs,
    archive,
    principalStore: ports.principals,
    counting,
    ingest,
    logRegistry,
    seal,
    signer,
    proofs,
    clock,
  };
}

/** The read side on the in-memory adapters. */
export async function readEnv(): Promise<ReadEnv> {
  return readEnvOn({
    logs: new MemoryLogStore(),
    state: new MemorySealStateStore(),
    archive: new MemoryArchiveStore(),
    principals: new MemoryPrincipalStore(),
  });
}

let counter = 0;

/** Appends `n` events in batches of at most 1,000 (the ingest limit). */
export async function append(env: ReadEnv, logId: string, n: number): Promise<void> {
  for (let left = n; left > 0; ) {
    const k = Math.min(1000, left);
    const events = Array.from({ length: k }, () => ({
      occurredAt: '2026-03-01T12:00:00.000Z',
      actor: { type: 'agent', id: `agent-${counter % 5}` },
      action: 'tool.call',
      target: { type: 'tool', id: `t-${counter++}` },
      outcome: 'success',
    }));
    env.clock.advance(1);
    await env.ingest.append({ logId, submitter: 'svc-proofs', body: utf8(JSON.stringify({ events })) });
    left -= k;
  }
}

/** Creates `logId`, then for each n appends n events and seals; returns each signed checkpoint. */
export async function growAndSeal(env: ReadEnv, logId: string, steps: readonly number[]): Promise<string[]> {
  await env.logRegistry.createLog(logId);
  const out: string[] = [];
  for (const n of steps) {
    await append(env, logId, n);
    const r = await env.seal.sealLog(logId);
    if (r.status !== 'sealed' || r.checkpoint === undefined) throw new Error(`seal of ${logId}: ${r.status}`);
    out.push(r.checkpoint);
  }
  return out;
}

/** All entries of the tree of `size`, from the archived entry bundles alone. */
export async function entriesFromBundles(env: ReadEnv, logId: string, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const w = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const body = await env.archive.get(archiveKey(logId, entryBundlePath(n, w)));
    if (!body) throw new Error(`missing entry bundle ${n}.p/${w}`);
    out.push(...decodeEntryBundle(body, w));
  }
  return out;
}

export function principal(scopes: Principal['scopes']): Principal {
  return {
    id: 'auditor-1',
    name: 'Auditor',
    kind: 'human',
    owner: 'audit@example.com',
    purpose: 'reads proofs',
    scopes,
    status: 'active',
    keyId: 'k_0123456789abcdef',
    version: 1,
    createdAt: '2026-03-01T00:00:00.000Z',
    updatedAt: '2026-03-01T00:00:00.000Z',
    createdBy: 'system:bootstrap',
  };
}

/** Deterministic PRNG for reproducible "random" indexes. */
export function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

export interface Auth {
  principals: PrincipalService;
  authenticate: Authenticate;
  /** API key of an auditor of the given logs only: `proofs:read` and `events:read` (entry bundles hold records). */
  readerKey: string;
  /** API key of a principal with `proofs:read` only on the given logs: hash tiles and proofs, never records. */
  proofsOnlyKey: string;
  /** API key of a principal with `events:read` only on the given logs. */
  eventsOnlyKey: string;
  /** API key of a principal with `events:write` only. */
  writerKey: string;
  /** API key of a principal with `proofs:read` on every log (`*`). */
  anyLogKey: string;
}

/** Real principals in the same table: an admin, readers with different scopes, and a writer. */
export async function auth(env: ReadEnv, logIds: readonly string[]): Promise<Auth> {
  const auditLog = new SystemLogAuditReader(env.logs);
  const principals = new PrincipalService({
    store: env.principalStore,
    clock: env.clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    audit: new SystemLogAuditSink(env.logRegistry, env.ingest, auditLog),
    auditLog,
  });
  await env.logRegistry.createLog(SYSTEM_LOG_ID);
  const admin = await principals.bootstrapAdmin({ id: 'proofs-admin', name: 'Admin', owner: 'ops' });
  const mk = async (id: string, s: Scope[], on: readonly string[] = logIds) =>
    (
      await principals.create(admin.principal, {
        id,
        name: id,
        kind: 'application',
        owner: 'proofs-admin',
        purpose: 'proof tests',
        scopes: Object.fromEntries(on.map((l) => [l, s])),
      })
    ).apiKey;
  return {
    principals,
    authenticate: (req) => principals.authenticate(apiKeyFromHeaders(req.headers)),
    readerKey: await mk('proof-reader', ['proofs:read', 'events:read']),
    proofsOnlyKey: await mk('proofs-only', ['proofs:read']),
    eventsOnlyKey: await mk('events-only', ['events:read']),
    writerKey: await mk('event-writer', ['events:write']),
    anyLogKey: await mk('any-log-reader', ['proofs:read'], ['*']),
  };
}

/** The read routes over real HTTP on 127.0.0.1 (for the CLI tests). */
export function serveReadApi(env: ReadEnv, a: Auth): Promise<LocalHttpServer> {
  const dispatch = createRouter(readRoutes({ proofs: env.proofs, principals: a.principals }), {
    authenticate: a.authenticate,
  });
  return startHttpServer(dispatch, { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 });
}
