/**
 * The names that end up inside storage keys, archive paths and bundle member
 * paths, each with exactly one rule, used by every layer that accepts or
 * writes one (config, HTTP, use cases, adapters, bundle writer and verifier).
 * A name one layer accepts and another refuses is a trap: the TSA named
 * `freetsa.org` anchored fine, and then every export containing its anchors
 * was refused (issue #12).
 *
 * Every rule starts with `[a-z0-9]` and admits no `/`, `#` or whitespace, so a
 * name can never be `.`/`..`, an empty or absolute path segment, or a key
 * separator. docs/formats.md lists them.
 */

/** A log id: `<logId>` in `L#<logId>…` keys, `logs/<logId>/` and checkpoint origins. */
export const LOG_ID_PATTERN = '[a-z0-9][a-z0-9-]{0,62}';
export const LOG_ID_RULE = `logId must match ${LOG_ID_PATTERN}`;
const LOG_ID_RE = new RegExp(`^${LOG_ID_PATTERN}$`);

export function isValidLogId(v: unknown): v is string {
  return typeof v === 'string' && LOG_ID_RE.test(v);
}

/**
 * A TSA's configured name: an archive key segment (`anchors/<size>/<name>.tsr`),
 * a bundle member name and part of an anchor item's sort key. Dots are allowed
 * because TSA names are usually domains (`freetsa.org`); the member grammar
 * stays unambiguous since `.tsr` and `.chain.pem` are not suffixes of each other.
 */
export const TSA_NAME_PATTERN = '[a-z0-9][a-z0-9._-]{0,62}';
export const TSA_NAME_RULE = `a TSA name must match ${TSA_NAME_PATTERN}`;
const TSA_NAME_RE = new RegExp(`^${TSA_NAME_PATTERN}$`);

export function isValidTsaName(v: string): boolean {
  return TSA_NAME_RE.test(v);
}

/** An Idempotency-Key (hashed into `L#<logId>#IK#<hash>`, stored verbatim): 1–255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_RULE = 'Idempotency-Key must be 1-255 visible ASCII characters';
const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

export function isValidIdempotencyKey(v: string): boolean {
  return IDEMPOTENCY_KEY_RE.test(v);
}
