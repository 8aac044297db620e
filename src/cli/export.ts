/**
 * `anchorlog export` — ask the API for an evidence bundle of a time range,
 * download it from the presigned URL it returns, streaming to FILE, and check
 * the download's SHA-256 against the one the API reported. Verifying what the
 * bundle proves is `anchorlog verify FILE --trust TRUST.json` (offline).
 *
 * The file appears only when the download is complete and its hash matches
 * (written to FILE.part, then renamed). Progress goes to stderr on a TTY.
 *
 * Exit: 0 downloaded and hash checked, 1 the API refused or the download
 * failed / mismatched, 2 usage error.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fromUtf8 } from '../core/bytes.ts';
import { type CliIo, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './io.ts';
import { printable } from './printable.ts';
import {
  apiTarget,
  CheckError,
  type ReadApiDeps,
  reportFailure,
  requireLogId,
  UsageError,
} from './read-api.ts';

export const EXPORT_USAGE = `usage: anchorlog export --log LOG --from T1 --to T2 [--action PREFIX] [--actor ID] -o FILE
                        [--api URL] [--key KEY] [--json]

  --log LOG          the log id
  --from T1          start, inclusive: RFC 3339 (2026-03-01T00:00:00Z) or a UTC date (2026-03-01)
  --to T2            end, exclusive, same forms
  --action PREFIX    only records whose action starts with PREFIX (e.g. access.);
                     proves each record's inclusion, not the range's completeness
  --actor ID         only records whose actor.id is ID (with --action: both must match);
                     proves each record's inclusion, not the range's completeness
  -o, --output FILE  where to write the bundle (.tar)
  --api URL          API base URL (default: $ANCHORLOG_API_URL)
  --key KEY          API key with the export scope (default: $ANCHORLOG_API_KEY)
  --json             print the export's description as JSON on stdout

Then check it offline: anchorlog verify FILE --trust TRUST.json
exit status: 0 downloaded and hash checked, 1 refused or failed, 2 usage error
`;

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

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        log: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        action: { type: 'string' },
        actor: { type: 'string' },
        output: { type: 'string', short: 'o' },
        api: { type: 'string' },
        key: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
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

export async function runExport(argv: string[], io: CliIo, deps: ExportCliDeps): Promise<number> {
  let json = false;
  try {
    const v = parse(argv);
    if (v.help) {
      io.stdout(EXPORT_USAGE);
      return EXIT_OK;
    }
    json = v.json === true;
    const logId = requireLogId(v.log);
    if (v.from === undefined) throw new UsageError('--from is required');
    if (v.to === undefined) throw new UsageError('--to is required');
    if (v.output === undefined) throw new UsageError('-o FILE is required');
    const target = apiTarget({ api: v.api, key: v.key }, deps.env);
    const body: Record<string, string> = { from: v.from, to: v.to };
    if (v.action !== undefined) body.action = v.action;
    if (v.actor !== undefined) body.actor = v.actor;
    const e = await requestExport(deps, target, logId, body);
    const got = await download(deps, io, e, v.output);
    if (json)
      io.stdout(
        `${JSON.stringify({ ...e, url: undefined, file: v.output, verifiedSha256: got.sha256 }, null, 2)}\n`,
      );
    else
      io.stdout(
        `exported ${e.records} record(s) of log ${logId} to ${v.output} (${human(got.bytes)}, sha256 ${got.sha256})\n` +
          `check it offline: anchorlog verify ${v.output} --trust TRUST.json\n`,
      );
    return EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`anchorlog export: ${err.message}\n\n${EXPORT_USAGE}`);
      return EXIT_USAGE;
    }
    if (json) return reportFailure(io, 'export', err, json);
    const code = err instanceof CheckError ? err.code : 'ERROR';
    // Messages quote the server's error bodies.
    io.stderr(`anchorlog export: ${code}: ${printable(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT_INVALID;
  }
}
