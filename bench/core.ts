/**
 * Core benchmark (npm run bench:core): builds an RFC 6962 tree over 1,000,000
 * ~400-byte canonical-JSON-like records the way the sealer does — leaf hashing,
 * compact-range append and C2SP tile computation (tilesForGrowth, in 10,000-leaf
 * seals) — then generates 10,000 inclusion proofs from the tiles and verifies them.
 *
 * The reference is raw SHA-256 (node:crypto hash()) over the same record bytes,
 * measured in the same run interleaved batch by batch with the tree work, so both
 * see the same machine load; createHash and @noble/hashes are measured before and
 * after the build and averaged.
 * An RFC 6962 tree needs ~2 hashes per leaf (one 401-byte leaf hash and, amortised,
 * one 65-byte node hash), so tree/raw can approach but never reach 100%; the
 * "ideal" column is 1 / (t_leaf + t_node) from the measured raw rates.
 *
 * Writes bench/results/core.json and prints a table.
 */
import { createHash, hash as nodeHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { CompactRange } from '../src/core/merkle/compact-range.ts';
import { hashLeaf } from '../src/core/merkle/hasher.ts';
import { inclusionProofFromSyncOracle } from '../src/core/merkle/proof-nodes.ts';
import { tilesForGrowth } from '../src/core/merkle/tile-growth.ts';
import { tileNodeOracleSync } from '../src/core/merkle/tile-nodes.ts';
import { tilePath } from '../src/core/merkle/tile-path.ts';
import { verifyInclusion } from '../src/core/merkle/verify.ts';

const LEAVES = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;
const PROOFS = 10_000;
const RAW_SAMPLE = 200_000;

const enc = new TextEncoder();
const pad = 'x'.repeat(200);
function record(i: number): Uint8Array {
  // Shaped like a canonical anchorlog record (RFC 8785 key order), ~400 bytes.
  const s =
    `{"event":{"action":"tool.call","actor":{"id":"agent-${i % 977}","type":"agent"},` +
    `"metadata":{"pad":"${pad.slice(0, 40 + (i % 17))}"},"occurredAt":"2026-03-01T12:00:00.000Z",` +
    `"outcome":"success","target":{"id":"t-${i}","type":"tool"}},"index":${i},"logId":"bench",` +
    `"prev":"${'A'.repeat(43)}=","receivedAt":"2026-03-01T12:00:00.000Z","submitter":"svc-bench","v":1}`;
  return enc.encode(s);
}

function records(start: number, n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, k) => record(start + k));
}

function rate(n: number, ms: number): number {
  return (n / ms) * 1000;
}

function rawRates(sample: Uint8Array[]) {
  const node65 = new Uint8Array(65);
  let t = performance.now();
  for (const r of sample) nodeHash('sha256', r, 'buffer');
  const hash400 = rate(sample.length, performance.now() - t);
  t = performance.now();
  for (const r of sample) createHash('sha256').update(r).digest();
  const createHash400 = rate(sample.length, performance.now() - t);
  const nobleN = Math.min(sample.length, 50_000);
  t = performance.now();
  for (let i = 0; i < nobleN; i++) nobleSha256(sample[i] as Uint8Array);
  const noble400 = rate(nobleN, performance.now() - t);
  t = performance.now();
  for (let i = 0; i < sample.length; i++) nodeHash('sha256', node65, 'buffer');
  const hash65 = rate(sample.length, performance.now() - t);
  return { hash400, createHash400, noble400, hash65 };
}

const avg = (a: number, b: number) => (a + b) / 2;

async function main() {
  const sample = records(0, RAW_SAMPLE);
  const avgBytes = sample.reduce((s, r) => s + r.length, 0) / sample.length;
  rawRates(sample.slice(0, 20_000)); // warm-up
  const rawBefore = rawRates(sample);

  // Tree build, sealer-style.
  const tiles = new Map<string, Uint8Array>();
  const readTile = (l: number, i: number, w: number) => {
    const t = tiles.get(tilePath(l, i, w));
    if (t === undefined) throw new Error(`missing tile ${l}/${i}/${w}`);
    return t;
  };
  let size = 0;
  let edge: CompactRange | undefined;
  let root: Uint8Array = new Uint8Array(0);
  let leafMs = 0;
  let rawInterleavedMs = 0;
  let raw65InterleavedMs = 0;
  const node65 = new Uint8Array(65);
  let growMs = 0;
  let tileCount = 0;
  let tileBytes = 0;
  while (size < LEAVES) {
    const n = Math.min(BATCH, LEAVES - size);
    const batch = size < RAW_SAMPLE ? sample.slice(size, size + n) : records(size, n); // generation is not timed
    // Raw hashing of the very same bytes, interleaved with the tree work so both see
    // the same machine conditions (the box may be shared).
    let t = performance.now();
    for (const r of batch) nodeHash('sha256', r, 'buffer');
    rawInterleavedMs += performance.now() - t;
    t = performance.now();
    for (let k = 0; k < n; k++) nodeHash('sha256', node65, 'buffer');
    raw65InterleavedMs += performance.now() - t;
    t = performance.now();
    const hashes = batch.map(hashLeaf);
    leafMs += performance.now() - t;
    t = performance.now();
    const g = await tilesForGrowth(size, size + n, hashes, readTile, edge);
    for (const tile of g.tiles) {
      tiles.set(tile.path, tile.bytes);
      tileCount++;
      tileBytes += tile.bytes.length;
    }
    growMs += performance.now() - t;
    edge = g.edge;
    root = g.root;
    size += n;
  }
  const treeMs = leafMs + growMs;

  const rawAfter = rawRates(sample);
  const raw = {
    hash400: rate(size, rawInterleavedMs),
    hash65: rate(size, raw65InterleavedMs),
    createHash400: avg(rawBefore.createHash400, rawAfter.createHash400),
    noble400: avg(rawBefore.noble400, rawAfter.noble400),
  };

  // Proofs from tiles: a fresh oracle per proof, as an API request would have.
  const idx: number[] = [];
  let x = 12345;
  for (let i = 0; i < PROOFS; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    idx.push(x % size);
  }
  let t = performance.now();
  const proofs = idx.map((i) => inclusionProofFromSyncOracle(i, size, tileNodeOracleSync(size, readTile)));
  const genMs = performance.now() - t;
  // Leaf hashes are not kept (a sealer would not keep them either): recompute them.
  const proofLeaves = idx.map((i) => hashLeaf(record(i)));
  t = performance.now();
  proofs.forEach((p, k) => {
    verifyInclusion(proofLeaves[k] as Uint8Array, idx[k] as number, size, p, root);
  });
  const verifyMs = performance.now() - t;

  const leavesPerSec = rate(size, treeMs);
  const ideal = 1 / (1 / raw.hash400 + 1 / raw.hash65);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    leaves: size,
    avgRecordBytes: Math.round(avgBytes),
    sealBatch: BATCH,
    tree: {
      leavesPerSec,
      leafHashMs: leafMs,
      compactRangeAndTilesMs: growMs,
      totalMs: treeMs,
      tilesWritten: tileCount,
      tileBytes,
    },
    rawSha256PerSec: {
      nodeHash400: raw.hash400,
      nodeCreateHash400: raw.createHash400,
      noble400: raw.noble400,
      nodeHash65: raw.hash65,
      before: rawBefore,
      after: rawAfter,
    },
    ratio: {
      treeOverRawHash400: leavesPerSec / raw.hash400,
      treeOverIdeal2Hashes: leavesPerSec / ideal,
      idealLeavesPerSec: ideal,
    },
    proofs: {
      count: PROOFS,
      generatePerSec: rate(PROOFS, genMs),
      verifyPerSec: rate(PROOFS, verifyMs),
      avgProofHashes: proofs.reduce((s, p) => s + p.length, 0) / PROOFS,
    },
  };

  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const rows: Array<[string, string]> = [
    [
      `tree build: leaves/s (${f(size)} leaves, ~${result.avgRecordBytes} B, seals of ${f(BATCH)})`,
      f(leavesPerSec),
    ],
    ['  of which leaf hashing (ms)', f(leafMs)],
    ['  of which compact range + tiles (ms)', f(growMs)],
    ['raw SHA-256/s, node:crypto hash(), same records', f(raw.hash400)],
    ['raw SHA-256/s, node:crypto createHash(), same records', f(raw.createHash400)],
    ['raw SHA-256/s, @noble/hashes, same records', f(raw.noble400)],
    ['raw SHA-256/s, node:crypto hash(), 65-byte node', f(raw.hash65)],
    ['ratio tree / raw hash() of records', pct(result.ratio.treeOverRawHash400)],
    ['ideal leaves/s (1 leaf + 1 node hash)', f(ideal)],
    ['ratio tree / ideal', pct(result.ratio.treeOverIdeal2Hashes)],
    [`inclusion proofs from tiles: generated/s (${f(PROOFS)})`, f(result.proofs.generatePerSec)],
    ['inclusion proofs: verified/s', f(result.proofs.verifyPerSec)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`| ${'measure'.padEnd(w)} | value |`);
  console.log(`| ${'-'.repeat(w)} | ----- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);

  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/core.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log('\nwrote bench/results/core.json');
}

await main();
