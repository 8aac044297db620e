/**
 * OCSF events as one Parquet file for Amazon Security Lake (docs/ocsf.md
 * §Security Lake), written by the embedded DuckDB (./duckdb-engine.ts: no
 * extension downloads, a private temporary directory per call).
 *
 * Columns are the OCSF attribute names, nested objects as Parquet structs
 * (what Security Lake's Glue tables and Athena read as `actor.user.uid`).
 * DuckDB infers the structs from all the events of the file (sample_size
 * -1), so a file's schema is the union of its events' attributes; ids that
 * OCSF types as integer_t are cast to INTEGER (long_t and timestamps stay
 * BIGINT), and `unmapped` is a MAP(VARCHAR, VARCHAR). Rows are sorted by
 * `time`, as Security Lake recommends; compression zstd.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OcsfEvent } from '../core/ocsf/mapping.ts';
import { duckdb } from './duckdb-engine.ts';

/** OCSF 1.1.0 integer_t attributes at the top level of the classes we emit. */
const INTEGER_IDS = ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'status_id', 'action_id'];

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function writeOcsfParquet(events: readonly OcsfEvent[]): Promise<Uint8Array> {
  if (events.length === 0) throw new RangeError('no events: Security Lake gets no empty files');
  const dir = await mkdtemp(join(tmpdir(), 'anchorlog-ocsf-'));
  const { DuckDBInstance } = await duckdb();
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    const input = join(dir, 'events.jsonl');
    // `unmapped` as key/value entries: map_from_entries gives a MAP whatever keys each event has.
    const lines = events.map((e) =>
      JSON.stringify({
        ...e,
        unmapped: Object.entries((e.unmapped ?? {}) as Record<string, string>).map(([key, value]) => ({
          key,
          value,
        })),
      }),
    );
    await writeFile(input, `${lines.join('\n')}\n`);
    const present = new Set(events.flatMap((e) => Object.keys(e)));
    const casts = [
      ...INTEGER_IDS.filter((k) => present.has(k)).map((k) => `CAST(${k} AS INTEGER) AS ${k}`),
      'map_from_entries(unmapped) AS unmapped',
    ];
    const out = join(dir, 'out.parquet');
    await conn.run(
      `COPY (SELECT * REPLACE (${casts.join(', ')}) FROM read_json(${lit(input)}, format='newline_delimited', sample_size=-1, maximum_depth=-1) ORDER BY time) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return new Uint8Array(await readFile(out));
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
