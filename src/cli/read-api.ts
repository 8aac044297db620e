/**
 * What `anchorlog checkpoint` and `anchorlog prove` share: the API target, a
 * small GET client for the read API, pinned verifier keys, and fetching a
 * checkpoint that is verified before anything in it is believed.
 *
 * Everything a server returns is attacker-controlled here: the whole point of
 * these commands is to not trust the server. Responses are size-capped and
 * parsed defensively; every check throws a coded error that becomes exit 1.
 */
import { fromUtf8 } from '../core/bytes.ts';
import { isValidLogId, LOG_ID_PATTERN } from '../core/names.ts';
import type { Checkpoint } from '../core/note/checkpoint.ts';
import { NoteError } from '../core/note/errors.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { verifyLogCheckpoint } from '../core/note/verify.ts';
import { formatVerifierKey, parseVerifierKey } from '../core/note/vkey.ts';
import { CheckError, UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { printable, printableJson } from './printable.ts';
import { parseTrustFile } from './trust-file.ts';

/** Environment the CLI entry passes in (commands never read process.env). */
export interface CliEnv {
  readonly ANCHORLOG_API_URL?: string | undefined;
  readonly ANCHORLOG_API_KEY?: string | undefined;
}

export interface ReadApiDeps {
  readonly env: CliEnv;
  readonly fetch: typeof fetch;
}

export { CheckError, UsageError } from './errors.ts';

/** Largest response we read (a full entry bundle is at most 256 · 64 KiB). */
const MAX_RESPONSE_BYTES = 17 * 1024 * 1024;

export interface ApiTarget {
  readonly url: string;
  readonly key: string;
}

export function apiTarget(
  flags: { api?: string | undefined; key?: string | undefined },
  env: CliEnv,
): ApiTarget {
  const url = flags.api ?? env.ANCHORLOG_API_URL;
  const key = flags.key ?? env.ANCHORLOG_API_KEY;
  if (!url) throw new UsageError('--api URL or ANCHORLOG_API_URL is required');
  if (!key) throw new UsageError('--key KEY or ANCHORLOG_API_KEY is required');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--api: not a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new UsageError('--api must be an http(s) URL');
  return { url: url.replace(/\/+$/, ''), key };
}

export function requireLogId(log: string | undefined): string {
  if (log === undefined) throw new UsageError('--log is required');
  if (!isValidLogId(log)) throw new UsageError(`--log must match ${LOG_ID_PATTERN}`);
  return log;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET `path` (with the API key); resolves to the body bytes of a 200, throws
 * CheckError otherwise. With `followRedirect` (entry bundles: the API answers
 * a large one with a 307 to a presigned S3 URL, docs/formats.md "Entry
 * bundles") one redirect to an http(s) URL is followed *without* the API key,
 * which must never leave for another origin; what comes back is checked by
 * the caller exactly as an inline body would be.
 */
export async function apiGet(
  deps: ReadApiDeps,
  target: ApiTarget,
  path: string,
  opts: { followRedirect?: boolean } = {},
): Promise<Uint8Array> {
  const get = async (url: string, init: RequestInit) => {
    try {
      return await deps.fetch(url, init);
    } catch (e) {
      throw new CheckError('API_UNREACHABLE', `GET ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  let res = await get(`${target.url}${path}`, {
    headers: { authorization: `Bearer ${target.key}` },
    redirect: opts.followRedirect ? 'manual' : 'error',
  });
  if (opts.followRedirect && REDIRECTS.has(res.status)) {
    await res.body?.cancel();
    let to: URL;
    try {
      to = new URL(res.headers.get('location') ?? '', `${target.url}${path}`);
    } catch {
      throw new CheckError('API_MALFORMED', `GET ${path}: HTTP ${res.status} without a usable Location`);
    }
    if (to.protocol !== 'https:' && to.protocol !== 'http:')
      throw new CheckError('API_MALFORMED', `GET ${path}: redirected to a ${to.protocol} URL`);
    res = await get(to.href, { redirect: 'error' });
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_RESPONSE_BYTES) throw new CheckError('API_ERROR', `GET ${path}: response too large`);
  if (res.status !== 200) {
    let detail = '';
    try {
      const e = JSON.parse(fromUtf8(bytes)) as { error?: { code?: unknown; message?: unknown } };
      if (typeof e.error?.code === 'string') detail = ` ${e.error.code}: ${String(e.error.message ?? '')}`;
    } catch {
      // Not our error format; the status says enough.
    }
    throw new CheckError('API_ERROR', `GET ${path}: HTTP ${res.status}${detail}`);
  }
  return bytes;
}

export async function apiJson(deps: ReadApiDeps, target: ApiTarget, path: string): Promise<unknown> {
  const bytes = await apiGet(deps, target, path);
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    throw new CheckError('API_MALFORMED', `GET ${path}: response is not JSON`);
  }
}

/** The log keys a caller pinned: each vouches for the log named like it; `origins` narrows them. */
export interface PinnedLogKeys {
  readonly keys: readonly NoteVerifier[];
  /** From TRUST.json `origins`: only these logs are accepted. */
  readonly origins?: readonly string[];
}

/**
 * Pinned keys from --vkey (repeatable), --vkey-file (one vkey a line, #
 * comments) and --trust TRUST.json (`logKeys`, `origins`; trust-file.ts).
 */
export async function pinnedLogKeys(
  io: CliIo,
  flags: { vkeys: readonly string[]; vkeyFile: string | undefined; trust: string | undefined },
): Promise<PinnedLogKeys> {
  const keys = await pinnedVerifiers(io, flags.vkeys, flags.vkeyFile);
  if (flags.trust === undefined) return { keys };
  let bytes: Uint8Array;
  try {
    bytes = await io.readFile(flags.trust);
  } catch (e) {
    throw new UsageError(
      `--trust: cannot read ${flags.trust}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const t = parseTrustFile(bytes, flags.trust);
  if (!t.logKeys) throw new UsageError(`--trust ${flags.trust}: no logKeys to check a checkpoint with`);
  return {
    keys: [...keys, ...t.logKeys.map((k) => parseVerifierKey(k))],
    ...(t.origins ? { origins: t.origins } : {}),
  };
}

/** Pinned keys from --vkey (repeatable) and --vkey-file (one vkey a line, # comments). */
export async function pinnedVerifiers(
  io: CliIo,
  vkeys: readonly string[],
  vkeyFile: string | undefined,
): Promise<NoteVerifier[]> {
  const texts = [...vkeys];
  if (vkeyFile !== undefined) {
    let content: string;
    try {
      content = fromUtf8(await io.readFile(vkeyFile));
    } catch (e) {
      throw new UsageError(
        `--vkey-file: cannot read ${vkeyFile}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const lines = content
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) throw new UsageError(`--vkey-file: no vkey in ${vkeyFile}`);
    texts.push(...lines);
  }
  return texts.map((t) => {
    try {
      return parseVerifierKey(t);
    } catch (e) {
      throw new UsageError(`not a usable vkey (${e instanceof NoteError ? e.code : 'error'}): ${t}`);
    }
  });
}

/**
 * The vkeys for log `logId` in a `GET /v1/keys?log=` document. Current shape:
 * `{ keys: [{ name, keyId, type, vkeyTemplate, pem, vkey? }] }`, `vkey` being
 * the key's vkey for that log's origin; older servers sent a per-log `vkeys`
 * map instead, and every server sends `vkeyTemplate` (`{logId}` to fill in).
 * Returns one entry per key that has a vkey, with its PEM when given.
 * Server output: shapes are checked, nothing in it is trusted.
 */
export function logVkeys(doc: unknown, logId: string): { vkey: string; pem: string | undefined }[] {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new CheckError('API_MALFORMED', '/v1/keys: no keys array');
  const out: { vkey: string; pem: string | undefined }[] = [];
  for (const k of keys as unknown[]) {
    if (typeof k !== 'object' || k === null)
      throw new CheckError('API_MALFORMED', '/v1/keys: a key is not an object');
    const e = k as { vkey?: unknown; vkeys?: unknown; vkeyTemplate?: unknown; pem?: unknown };
    const own =
      typeof e.vkeys === 'object' && e.vkeys !== null
        ? (e.vkeys as Record<string, unknown>)[logId]
        : undefined;
    const vkey =
      typeof e.vkey === 'string'
        ? e.vkey
        : typeof own === 'string'
          ? own
          : typeof e.vkeyTemplate === 'string'
            ? e.vkeyTemplate.replace('{logId}', logId)
            : undefined;
    if (vkey !== undefined) out.push({ vkey, pem: typeof e.pem === 'string' ? e.pem : undefined });
  }
  return out;
}

/** The server's own keys for `logId` from GET /v1/keys. Trusting them proves nothing against that server. */
export async function serverVerifiers(
  deps: ReadApiDeps,
  target: ApiTarget,
  logId: string,
): Promise<NoteVerifier[]> {
  const doc = await apiJson(deps, target, `/v1/keys?log=${logId}`);
  const out: NoteVerifier[] = [];
  for (const { vkey } of logVkeys(doc, logId)) {
    try {
      out.push(parseVerifierKey(vkey));
    } catch {
      // A key type we cannot use: its signatures are ignored, as for any unknown key.
    }
  }
  if (out.length === 0) throw new CheckError('API_MALFORMED', `/v1/keys: no usable key for log ${logId}`);
  return out;
}

export const TRUST_WARNING = (logId: string) =>
  `WARNING: no --vkey or --vkey-file given: trusted the key the server itself published at /v1/keys.
WARNING: this only shows the server is self-consistent, not that log ${logId} is honest.
WARNING: pin the log's verifier key (--vkey 'name+keyid+key') for a real check.
`;

export interface CheckpointCheck {
  readonly text: string;
  readonly checkpoint: Checkpoint;
  /** vkeys of the keys whose signature verified. */
  readonly verifiedBy: string[];
  /** True when no key was pinned and the server's /v1/keys was trusted. */
  readonly trustedServerKey: boolean;
}

/**
 * GET the latest checkpoint of `logId` and verify it (c2sp.org/signed-note):
 * signatures first, only then the text. A key that signed it must be named
 * like its origin (a key vouches only for its own log, docs/formats.md
 * §Checkpoints: KEY_NAME_MISMATCH), the origin must be pinned when origins
 * are (ORIGIN_NOT_PINNED), and it must name this log.
 */
export async function fetchVerifiedCheckpoint(
  deps: ReadApiDeps,
  io: CliIo,
  target: ApiTarget,
  logId: string,
  pinned: PinnedLogKeys,
): Promise<CheckpointCheck> {
  const trustedServerKey = pinned.keys.length === 0;
  const body = await apiGet(deps, target, `/v1/logs/${logId}/checkpoint`);
  const verifiers = trustedServerKey ? await serverVerifiers(deps, target, logId) : pinned.keys;
  if (trustedServerKey) io.stderr(TRUST_WARNING(logId));
  const checkpoint = verifyLogCheckpoint(body, verifiers);
  if (pinned.origins && !pinned.origins.includes(checkpoint.origin))
    throw new CheckError(
      'ORIGIN_NOT_PINNED',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not one of the pinned origins`,
    );
  if (!checkpoint.origin.endsWith(`/${logId}`))
    throw new NoteError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} does not name log ${logId}`,
    );
  return {
    text: fromUtf8(body),
    checkpoint,
    verifiedBy: checkpoint.verifiedBy.map(formatVerifierKey),
    trustedServerKey,
  };
}

/** Maps a failure to its exit code after reporting it (stdout verdict, stderr reason). */
export function reportFailure(io: CliIo, command: string, err: unknown, asJson: boolean): number {
  if (err instanceof UsageError) {
    io.stderr(`anchorlog ${command}: ${err.message}\n`);
    return 2;
  }
  const code =
    err instanceof CheckError
      ? err.code
      : typeof (err as { code?: unknown })?.code === 'string'
        ? String((err as { code: string }).code)
        : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  if (asJson)
    io.stdout(
      printableJson(
        { ok: false, verified: false, verdict: { exitCode: 1, status: 'failed' }, code, message },
        2,
      ),
    );
  else io.stdout('Verification: FAILED\n');
  // Messages quote server text (origins, error bodies).
  io.stderr(`anchorlog ${command}: ${printable(code)}: ${printable(message)}\n`);
  return 1;
}
