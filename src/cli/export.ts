/**
 * `anchorlog export` — ask the API for an evidence bundle of a time range,
 * download it from the presigned URL it returns, streaming to FILE, and check
 * the download's SHA-256 against the one the API reported. Verifying what the
 * bundle proves is `anchorlog verify FILE --trust TRUST.json` (offline).
 *
 * The file appears only when the download is complete and its hash matches
 * (written to FILE.part, then renamed). Progress goes to stderr on a TTY.
 *
 * `--format ocsf` (docs/ocsf.md): the same bundle is downloaded and
 * hash-checked to a temporary file beside FILE, then its records are written
 * to FILE as OCSF 1.1.0 JSON lines (src/core/ocsf/mapping.ts), classes from
 * the API's event catalog, each line carrying its proof handle (log id, leaf
 * index, leaf hash) in `unmapped`. The temporary bundle is removed.
 *
 * Exit: 0 downloaded and hash checked, 1 the API refused or the download
 * failed / mismatched, 2 usage error.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { bundleRecordsFrom } from '../core/bundle/records.ts';
import { fromUtf8, toBase64 } from '../core/bytes.ts';
import { canonicalBytes } from '../core/canonical.ts';
import { Catalog, CatalogError } from '../core/catalog.ts';
import { toOcsf } from '../core/ocsf/mapping.ts';
import { leafHash } from '../core/record.ts';
import { type ArgsOf, defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import { UsageError } from './errors.ts';
import { type CliIo, EXIT_OK } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import { apiGet, apiOptions, CheckError, type ReadApiDeps } from './read-api.ts';
import { choice, logId, outputFile, text, timeBound } from './values.ts';
import { VERIFICATION_FAILED } from './verdict.ts';

export const EXPORT = defineCommand({
  path: ['export'],
  summary: 'export an evidence bundle for a time range and download it (checks its SHA-256)',
  description: `Asks the API for an evidence bundle of a time range, downloads it from the presigned URL
the API returns, and checks the download's size and SHA-256 against the ones the API reported.
The file appears only when the download is complete and its hash matches (it is written to
FILE.part, then renamed); progress goes to stderr on a terminal. What the bundle proves is
checked offline, by anchorlog verify.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    from: option(timeBound, 'start, inclusive: RFC 3339 (2026-03-01T00:00:00Z) or a UTC date (2026-03-01)', {
      required: true,
      placeholder: 'T1',
    }),
    to: option(timeBound, 'end, exclusive, in the same forms', { required: true, placeholder: 'T2' }),
    action: option(
      text('PREFIX'),
      "only records whose action starts with PREFIX (e.g. access.);\nproves each record's inclusion, not the range's completeness",
    ),
    actor: option(
      text('ID'),
      "only records whose actor.id is ID (with --action: both must match);\nproves each record's inclusion, not the range's completeness",
    ),
    class: option(
      text('NAME'),
      'every record of event class NAME (docs/classes.md), proved complete:\nwrites a class answer (.json) instead of a bundle',
    ),
    format: option(
      choice(['bundle', 'ocsf'] as const, 'FORMAT'),
      'bundle (default): the evidence bundle (.tar);\nocsf: its records as OCSF 1.1.0 JSON lines (docs/ocsf.md)',
    ),
    output: option(
      outputFile(),
      'where to write the bundle (.tar) or the OCSF lines; replaced if it exists',
      {
        required: true,
        short: 'o',
      },
    ),
    ...apiOptions('with the export scope on the log'),
  },
  json: "the export's description: { ok, exportId, records, bytes, sha256, range, …, file, verifiedSha256 }",
  examples: [
    {
      title: 'March of log prod, then its proof checked offline',
      command: 'anchorlog export --log prod --from 2026-03-01 --to 2026-04-01 -o march.tar',
    },
    {
      title: 'only the access changes of one quarter (inclusion of each, not completeness)',
      command:
        'anchorlog export --log prod --from 2026-01-01 --to 2026-04-01 --action access. -o access-q1.tar --json',
    },
    {
      title: 'March as OCSF JSON lines, for a SIEM or Security Lake',
      command:
        'anchorlog export --log prod --from 2026-03-01 --to 2026-04-01 --format ocsf -o march.ocsf.jsonl',
    },
  ],
  exitStatus: 'exit status: 0 downloaded and hash checked, 1 refused or failed, 2 usage error',
});

export interface ExportCliDeps extends ReadApiDeps {
  /** Show progress on stderr (the entry passes process.stderr.isTTY). */
  readonly tty?: boolean;
}

interface ExportResponse {
  exportId: string;
  url: string;
  bytes: number;
  records: number;
  sha256: string;
  [k: string]: unknown;
}

/** Largest error/description body we read from the API. */
const MAX_JSON = 1024 * 1024;

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

async function requestExport(
  deps: ExportCliDeps,
  target: { url: string; key: string },
  logId: string,
  body: Record<string, string>,
): Promise<ExportResponse> {
  const path = `/v1/logs/${logId}/exports`;
  let res: Response;
  try {
    res = await deps.fetch(`${target.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'error',
    });
  } catch (e) {
    throw new CheckError('API_UNREACHABLE', `POST ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_JSON) throw new CheckError('API_ERROR', `POST ${path}: response too large`);
  let doc: unknown;
  try {
    doc = JSON.parse(fromUtf8(bytes));
  } catch {
    doc = undefined;
  }
  if (res.status !== 201) {
    const e = (doc as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const detail = typeof e?.code === 'string' ? ` ${e.code}: ${String(e.message ?? '')}` : '';
    const retry = res.headers.get('retry-after');
    throw new CheckError(
      'API_ERROR',
      `POST ${path}: HTTP ${res.status}${detail}${retry ? ` (retry after ${retry} s)` : ''}`,
    );
  }
  const d = doc as Partial<ExportResponse> | undefined;
  if (
    typeof d?.url !== 'string' ||
    typeof d.exportId !== 'string' ||
    typeof d.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(d.sha256) ||
    typeof d.bytes !== 'number' ||
    typeof d.records !== 'number'
  )
    throw new CheckError('API_MALFORMED', `POST ${path}: not an export description`);
  let u: URL;
  try {
    u = new URL(d.url);
  } catch {
    throw new CheckError('API_MALFORMED', `POST ${path}: url is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new CheckError('API_MALFORMED', `POST ${path}: url must be http(s)`);
  return d as ExportResponse;
}

/** Streams `url` into `file`.part, hashing as it goes; renames on success. */
async function download(
  deps: ExportCliDeps,
  io: CliIo,
  e: ExportResponse,
  file: string,
): Promise<{ bytes: number; sha256: string }> {
  let res: Response;
  try {
    // The presigned URL carries its own authorization: send no API key to the bucket.
    res = await deps.fetch(e.url, { redirect: 'follow' });
  } catch (err) {
    throw new CheckError('DOWNLOAD_FAILED', `download: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new CheckError('DOWNLOAD_FAILED', `download: HTTP ${res.status}`);
  }
  const part = `${file}.part`;
  const out = createWriteStream(part, { flags: 'w' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  const hash = createHash('sha256');
  let bytes = 0;
  let lastShown = 0;
  const show = (final: boolean) => {
    if (!deps.tty) return;
    const now = Date.now();
    if (!final && now - lastShown < 100) return;
    lastShown = now;
    const pct = e.bytes > 0 ? ` (${Math.min(100, Math.floor((bytes / e.bytes) * 100))}%)` : '';
    io.stderr(
      `\rdownloading ${human(bytes)} of ${human(e.bytes)}${pct}, ${e.records} record(s)${final ? '\n' : ''}`,
    );
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      if (bytes > e.bytes)
        throw new CheckError('DOWNLOAD_MISMATCH', `download is larger than the ${e.bytes} bytes reported`);
      hash.update(chunk);
      if (!out.write(chunk))
        await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
      show(false);
    }
    await Promise.race([
      new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r()))),
      failed,
    ]);
    show(true);
    const sha256 = hash.digest('hex');
    if (bytes !== e.bytes || sha256 !== e.sha256)
      throw new CheckError(
        'DOWNLOAD_MISMATCH',
        `downloaded ${bytes} bytes with SHA-256 ${sha256}; the API reported ${e.bytes} bytes, ${e.sha256}`,
      );
    await rename(part, file);
    return { bytes, sha256 };
  } catch (err) {
    out.destroy();
    await rm(part, { force: true }).catch(() => {});
    if (err instanceof CheckError) throw err;
    throw new CheckError('DOWNLOAD_FAILED', `download: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function runExport(argv: string[], io: CliIo, deps: ExportCliDeps): Promise<number> {
  // As for `checkpoint`: in JSON a failure carries the verdict; on a terminal, the reason alone.
  return runCommand(EXPORT, argv, io, deps.env, (args) => runExportWith(args, io, deps), {
    json: VERIFICATION_FAILED.json,
  });
}

async function runExportWith(args: ArgsOf<typeof EXPORT>, io: CliIo, deps: ExportCliDeps): Promise<number> {
  if (args.class !== undefined) {
    if (args.format === 'ocsf')
      throw new UsageError(
        'CONFLICTING_OPTIONS',
        '--class writes a class answer (a proof document); --format ocsf writes records: give one',
      );
    return exportClassAnswer(args, io, deps);
  }
  const body: Record<string, string> = { from: args.from, to: args.to };
  if (args.action !== undefined) body.action = args.action;
  if (args.actor !== undefined) body.actor = args.actor;
  if (args.format === 'ocsf') return exportOcsf(args, body, io, deps);
  const e = await requestExport(deps, { url: args.api, key: args.key }, args.log, body);
  const got = await download(deps, io, e, args.output);
  if (args.json)
    io.stdout(
      printableJson({ ok: true, ...e, url: undefined, file: args.output, verifiedSha256: got.sha256 }, 2),
    );
  else
    io.stdout(
      printableLines([
        `exported ${e.records} record(s) of log ${args.log} to ${args.output} (${human(got.bytes)}, sha256 ${got.sha256})`,
        `check it offline: anchorlog verify ${args.output} --trust TRUST.json`,
      ]),
    );
  return EXIT_OK;
}

/**
 * `--class NAME`: the class answer document (docs/bundle.md §Class answers),
 * written to FILE.part and renamed when complete. What it proves is checked
 * offline by `anchorlog verify FILE`.
 */
async function exportClassAnswer(
  args: ArgsOf<typeof EXPORT>,
  io: CliIo,
  deps: ExportCliDeps,
): Promise<number> {
  if (args.action !== undefined || args.actor !== undefined)
    throw new UsageError(
      'CONFLICTING_OPTIONS',
      '--class selects the records itself: give it without --action or --actor',
    );
  const q = `from=${encodeURIComponent(args.from)}&to=${encodeURIComponent(args.to)}`;
  const body = await apiGet(
    deps,
    { url: args.api, key: args.key },
    `/v1/logs/${args.log}/classes/${encodeURIComponent(args.class as string)}/answer?${q}`,
  );
  const part = `${args.output}.part`;
  await writeFile(part, body);
  await rename(part, args.output);
  const doc = JSON.parse(fromUtf8(body)) as { entries?: unknown[] };
  const n = doc.entries?.length ?? 0;
  if (args.json)
    io.stdout(
      printableJson({ ok: true, class: args.class, records: n, bytes: body.length, file: args.output }, 2),
    );
  else
    io.stdout(
      printableLines([
        `exported ${n} record(s) of class ${args.class} of log ${args.log} to ${args.output} (${human(body.length)})`,
        `check it offline: anchorlog verify ${args.output} --trust TRUST.json`,
      ]),
    );
  return 0;
}

/** The API's event catalog (GET /v1/catalog), for the OCSF class of each action. */
async function fetchCatalog(deps: ExportCliDeps, target: { url: string; key: string }): Promise<Catalog> {
  const body = await apiGet(deps, target, '/v1/catalog');
  let doc: unknown;
  try {
    doc = JSON.parse(fromUtf8(body));
  } catch {
    throw new CheckError('API_MALFORMED', 'GET /v1/catalog: not JSON');
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new CheckError('API_MALFORMED', 'GET /v1/catalog: no entries');
  try {
    return Catalog.fromDocuments(entries);
  } catch (e) {
    if (e instanceof CatalogError)
      throw new CheckError('API_MALFORMED', `GET /v1/catalog: entry ${e.path}: ${e.message}`);
    throw e;
  }
}

/**
 * `--format ocsf`: the bundle, hash-checked, to FILE.bundle.part; its records
 * as OCSF JSON lines to FILE.part, renamed to FILE when complete. Both
 * temporary files are removed whatever happens.
 */
async function exportOcsf(
  args: ArgsOf<typeof EXPORT>,
  body: Record<string, string>,
  io: CliIo,
  deps: ExportCliDeps,
): Promise<number> {
  const target = { url: args.api, key: args.key };
  const catalog = await fetchCatalog(deps, target);
  const e = await requestExport(deps, target, args.log, body);
  const bundle = `${args.output}.bundle.part`;
  const part = `${args.output}.part`;
  let events = 0;
  try {
    const got = await download(deps, io, e, bundle);
    const out = createWriteStream(part, { flags: 'w' });
    const failed = new Promise<never>((_, reject) => out.once('error', reject));
    failed.catch(() => {});
    try {
      for await (const record of bundleRecordsFrom(createReadStream(bundle))) {
        // decodeRecord accepted only canonical bytes, so these are the leaf's bytes.
        const hash = toBase64(leafHash(canonicalBytes(record)));
        const line = `${JSON.stringify(toOcsf({ record, leafHash: hash }, { catalog }))}\n`;
        events++;
        if (!out.write(line))
          await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
      }
      await Promise.race([
        new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r()))),
        failed,
      ]);
    } catch (err) {
      out.destroy();
      if (err instanceof CheckError) throw err;
      throw new CheckError(
        'DOWNLOAD_FAILED',
        `OCSF export: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    await rename(part, args.output);
    if (args.json)
      io.stdout(
        printableJson(
          {
            ok: true,
            ...e,
            url: undefined,
            format: 'ocsf',
            events,
            file: args.output,
            verifiedSha256: got.sha256,
          },
          2,
        ),
      );
    else
      io.stdout(
        printableLines([
          `exported ${events} OCSF event(s) of log ${args.log} to ${args.output}`,
          `prove a line: anchorlog prove --log ${args.log} --index <anchorlog.leaf_index> --leaf-hash <anchorlog.leaf_hash> (both in unmapped)`,
        ]),
      );
    return EXIT_OK;
  } finally {
    await rm(bundle, { force: true }).catch(() => {});
    await rm(part, { force: true }).catch(() => {});
  }
}
