/**
 * Reading replies from third-party HTTP services (TSAs, witnesses, Rekor)
 * that we call but do not trust: every reply is read against a byte limit,
 * refused from its Content-Length before reading when that already says too
 * much, and cut off (the stream cancelled) the moment it passes the limit, so
 * a hostile or broken server can make us hold at most `max` bytes plus one
 * network chunk. Each adapter turns `undefined` into its own typed error.
 */
import { concatBytes } from '../core/bytes.ts';

/**
 * The reply body, or undefined when it is (or declares to be) longer than
 * `max` bytes; the body is cancelled in that case. A reply without a body is
 * empty.
 */
export async function readReplyAtMost(res: Response, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}

/** Why fetch failed, as undici says it (`ECONNREFUSED`, `ENOTFOUND`, …), for an UNREACHABLE message. */
export function unreachableDetail(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** At most 200 characters of a reply, control characters escaped, for messages and logs. */
export function printable(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
