/**
 * What the commands that call the read API share: the `--api`/`--key` options,
 * a small GET client, pinned verifier keys (`checkpoint`, `prove`), and
 * fetching a checkpoint that is verified before anything in it is believed.
 *
 * Everything a server returns is attacker-controlled here: the whole point of
 * these commands is to not trust the server. Responses are size-capped and
 * parsed defensively; every check throws a coded error that becomes exit 1.
 */
import { fromUtf8 } from '../core/bytes.ts';
import type { Checkpoint } from '../core/note/checkpoint.ts';
import { NoteError } from '../core/note/errors.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { verifyLogCheckpoint } from '../core/note/verify.ts';
import { formatVerifierKey, parseVerifierKey } from '../core/note/vkey.ts';
import { type ExclusiveGroup, flag, option } from './args.ts';
import { CheckError, UsageError } from './errors.ts';
import { type CliEnv, type CliIo, readInput } from './io.ts';
import { parseTrustFile } from './trust-file.ts';
import { httpUrl, inputFile, text, vkey } from './values.ts';

export type { CliEnv } from './io.ts';

export interface ReadApiDeps {
  readonly env: CliEnv;
  readonly fetch: typeof fetch;
}

export { CheckError, UsageError } from './errors.ts';

/** Largest response we read (a full entry bundle is at most 256 · 64 KiB). */
const MAX_RESPONSE_BYTES = 17 * 1024 * 1024;

export interface ApiTarget {
  /** Base URL without trailing slashes (values.ts httpUrl). */
  readonly url: string;
  readonly key: string;
}

/** `--api URL` and `--key KEY` of a command that calls the API, with their environment fallbacks. */
export function apiOptions(keyNeeds: string) {
  return {
    api: option(httpUrl, 'API base URL', { required: true, env: 'ANCHORLOG_API_URL' }),
    key: option(text('KEY'), `API key ${keyNeeds}`, {
      required: true,
      env: 'ANCHORLOG_API_KEY',
      secret: true,
    }),
  };
}

/** How `checkpoint` and `prove` pin the log key: one way at a time (PIN_GROUP). */
export const PIN_OPTIONS = {
  vkey: option(vkey, 'a pinned verifier key <origin>+<keyid>+<key>: vouches only for the log named like it', {
    multiple: true,
  }),
  'vkey-file': option(inputFile(), 'pinned verifier keys, one a line (# comments)'),
  trust: option(
    inputFile('TRUST.json'),
    'pinned logKeys, and origins, from a trust file (anchorlog trust writes one)',
  ),
  'allow-untrusted': flag("exit 0 instead of 3 when no key is pinned (the server's own key was used)"),
};

/**
 * Keys from flags or from a TRUST.json, not both: a TRUST.json's `origins`
 * narrow its own keys, and what they would mean for a key given beside it is
 * a question better not asked.
 */
export const PIN_GROUP: ExclusiveGroup<'vkey' | 'vkey-file' | 'trust'> = {
  options: ['vkey', 'vkey-file', 'trust'],
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET `path` (with the API key); resolves to the body bytes of a 200, throws
 * CheckError otherwise. With `followRedirect` (entry bundles: the API answers
 * a large one with a 307 to a presigned S3 URL, docs/formats.md
 * §Tiles) one redirect to an http(s) URL is followed *without* the API key,
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
 * comments) or --trust TRUST.json (`logKeys`, `origins`; trust-file.ts).
 */
export async function pinnedLogKeys(
  io: CliIo,
  flags: {
    readonly vkey: readonly NoteVerifier[];
    readonly 'vkey-file': string | undefined;
    readonly trust: string | undefined;
  },
): Promise<PinnedLogKeys> {
  const keys = [...flags.vkey];
  const vkeyFile = flags['vkey-file'];
  if (vkeyFile !== undefined)
    keys.push(...vkeyLines(fromUtf8(await readInput(io, '--vkey-file', vkeyFile)), vkeyFile));
  if (flags.trust === undefined) return { keys };
  const t = parseTrustFile(await readInput(io, '--trust', flags.trust), flags.trust);
  if (!t.logKeys)
    throw new UsageError('BAD_FILE', `--trust ${flags.trust}: no logKeys to check a checkpoint with`);
  return {
    keys: t.logKeys.map((k) => parseVerifierKey(k)),
    ...(t.origins ? { origins: t.origins } : {}),
  };
}

/** The vkeys of a --vkey-file: one a line, blank lines and # comments skipped. */
function vkeyLines(content: string, path: string): NoteVerifier[] {
  const lines = content
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new UsageError('BAD_FILE', `--vkey-file ${path}: no vkey in it`);
  return lines.map((line, i) => {
    try {
      return parseVerifierKey(line);
    } catch (e) {
      throw new UsageError(
        'BAD_FILE',
        `--vkey-file ${path}: entry ${i + 1} is not a usable vkey (${e instanceof NoteError ? e.code : 'error'}): ${line}`,
      );
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
