/**
 * A one-pass byte scanner for record lines (docs/bundle.md §Verifying fast):
 * proves that bytes are a valid record in RFC 8785 canonical form without
 * parsing them into objects, and says where the four fields the hash chain
 * needs are (index, logId, prev, receivedAt). No JSON.parse, no re-serialising,
 * no throwaway copies: in the chunk check, a 400-byte record costs about a
 * third of what the JSON.parse path (record.ts decodeCanonicalRecordFast)
 * costs, leaf hash included (docs/bundle.md §Verifying fast).
 *
 * SOUND, NOT COMPLETE. `scanRecord` returns true only for bytes that
 * decodeRecord (the reference) accepts — and then the record it would return
 * has exactly the index, logId, prev and receivedAt found here. It returns
 * false for anything it does not recognise (escapes in named fields, non-ASCII
 * object keys, a `__proto__` key, empty `changes`, …); false means "ask the
 * next path", which is decodeRecordFast and then the reference, which decides
 * and names the error. So a false is never a verdict, and every refusal keeps
 * the reference's code and message.
 *
 * Why true implies the reference accepts, in one place: the scanner walks the
 * record grammar of docs/formats.md §Events and records specialised to its
 * canonical form. Every object is read key by key against its allowed keys in
 * RFC 8785 order (UTF-16 order; all schema keys are ASCII letters, so byte
 * order), each key at most once and strictly increasing, so keys are unique,
 * known and sorted. There is no whitespace anywhere. Every string is strict
 * UTF-8 (so it has no lone surrogate) with exactly JCS's escapes (`\"`, `\\`,
 * `\b \f \n \r \t`, `\u00xx` lowercase for other controls) — and in named
 * fields no escape at all and no DEL, so they hold no control character (what
 * the event rules demand); lengths are counted in UTF-16 code units as
 * validateEvent counts them. Every number is its own Number::toString (finite,
 * exact, canonical); integers are checked digit by digit against
 * MAX_SAFE_INTEGER. Free-form values (metadata, changes.before/after) nest at
 * most EVENT_LIMITS.freeformDepth containers, as jsonValue allows and within
 * the parser's MAX_RECORD_DEPTH. Each named field is checked by the same rule
 * as validateEvent/checkRecord (the rule is restated at each field below).
 * So the bytes are canonicalBytes(V) of a V that checkRecord accepts, and
 * decodeRecord(bytes) returns V. test/core/record-scan.test.ts checks the
 * verdicts against decodeRecord on valid records and on mutations of them.
 */
import { EVENT_LIMITS, parseUtcTimestamp } from './event.ts';
import { MAX_RECORD_BYTES } from './record.ts';

/** Where the chain fields are in the scanned bytes (offsets into them); filled by scanRecord. */
export interface RecordFields {
  index: number;
  logIdStart: number;
  logIdEnd: number;
  /** 44 bytes of base64. */
  prevStart: number;
  /** 24 bytes, `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
  receivedAtStart: number;
}

export const newRecordFields = (): RecordFields => ({
  index: 0,
  logIdStart: 0,
  logIdEnd: 0,
  prevStart: 0,
  receivedAtStart: 0,
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const keys = (...k: string[]): Uint8Array[] => k.map(enc);

const Q = 0x22; // "
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BSLASH = 0x5c;

// Allowed keys, each list in RFC 8785 order (sorted by UTF-16 code units).
const EVENT_KEYS = keys(
  'action',
  'actor',
  'changes',
  'context',
  'id',
  'metadata',
  'occurredAt',
  'outcome',
  'producer',
  'schemaVersion',
  'signature',
  'target',
);
const [E_ACTION, E_ACTOR, E_CHANGES, E_CONTEXT, E_ID, E_METADATA, E_OCCURRED, E_OUTCOME, E_PRODUCER] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8,
];
const [E_SCHEMA, E_SIGNATURE, E_TARGET] = [9, 10, 11];
const ACTOR_KEYS = keys('id', 'name', 'onBehalfOf', 'type');
const PRINCIPAL_KEYS = keys('id', 'name', 'type');
const TARGET_KEYS = keys('id', 'name', 'type');
const CONTEXT_KEYS = keys('ip', 'requestId', 'sessionId', 'traceId', 'userAgent');
const CHANGES_KEYS = keys('after', 'before');
const PRODUCER_KEYS = keys('epoch', 'seq', 'stream');
const SIGNATURE_KEYS = keys('alg', 'keyId', 'sig');
// ACTOR_TYPES, OUTCOMES, SIGNATURE_ALGS (event.ts), as bytes.
const ACTOR_TYPES = keys('human', 'agent', 'service', 'system');
const OUTCOMES = keys('success', 'failure', 'denied');
const ALGS = keys('Ed25519', 'ES256');

const RECORD_HEAD = enc('{"event":');
const K_INDEX = enc(',"index":');
const K_LOGID = enc(',"logId":"');
const K_PREV = enc('","prev":"');
const K_RECEIVED = enc('","receivedAt":"');
const K_SUBMITTER = enc('","submitter":');
const K_V = enc(',"v":1}');
const MAX_SUBMITTER = 256; // record.ts

// ---- byte classes ----

const B64 = new Uint8Array(256);
const B64URL = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') {
  B64[c.charCodeAt(0)] = 1;
  B64URL[c.charCodeAt(0)] = 1;
}
B64[0x2b] = B64[0x2f] = 1; // + /
B64URL[0x2d] = B64URL[0x5f] = 1; // - _
/** Last data character of a base64 hash: its two low bits zero (record.ts isHash). */
const B64_LAST16 = new Uint8Array(256);
for (const c of 'AEIMQUYcgkosw048') B64_LAST16[c.charCodeAt(0)] = 1;
/** Last character of an 86-character base64url signature: four low bits zero. */
const B64_LAST4 = new Uint8Array(256);
for (const c of 'AQgw') B64_LAST4[c.charCodeAt(0)] = 1;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

function equalAt(b: Uint8Array, p: number, lit: Uint8Array): boolean {
  if (p + lit.length > b.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[p + i] !== lit[i]) return false;
  return true;
}

// ---- strings ----

/** Set by str(): the content's bounds, its length in UTF-16 code units, whether it is ASCII without DEL or escapes. */
let sStart = 0;
let sEnd = 0;
let sUnits = 0;
let sPlain = true;

/**
 * A canonical JSON string at b[p] (the opening quote). Returns the position
 * after the closing quote, or -1. `escapes`: JCS escapes allowed (free-form
 * values); otherwise any backslash is -1 (named fields hold no control
 * character; a `\"` or `\\` in one only costs the slower path). Raw bytes below
 * 0x20 are not JSON; UTF-8 is checked strictly (no overlong form, no
 * surrogate, nothing above U+10FFFF), as a fatal TextDecoder would.
 */
function str(b: Uint8Array, p: number, escapes: boolean): number {
  if (b[p] !== Q) return -1;
  p++;
  sStart = p;
  let units = 0;
  let plain = true;
  const n = b.length;
  while (p < n) {
    const c = b[p] as number;
    if (c === Q) {
      sEnd = p;
      sUnits = units;
      sPlain = plain;
      return p + 1;
    }
    if (c < 0x80) {
      if (c < 0x20) return -1;
      if (c === BSLASH) {
        if (!escapes) return -1;
        plain = false;
        const e = b[p + 1];
        if (e === Q || e === BSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          p += 2;
        } else if (e === 0x75) {
          // \u00xx, lowercase hex, only for a control JCS does not write by name.
          if (b[p + 2] !== 0x30 || b[p + 3] !== 0x30) return -1;
          const h = b[p + 4] as number;
          const l = b[p + 5] as number;
          if (h !== 0x30 && h !== 0x31) return -1;
          const lv = isDigit(l) ? l - 0x30 : l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
          if (lv < 0) return -1;
          const v = (h - 0x30) * 16 + lv;
          if (v === 8 || v === 9 || v === 10 || v === 12 || v === 13) return -1;
          p += 6;
        } else return -1;
        units++;
        continue;
      }
      if (c === 0x7f) plain = false;
      units++;
      p++;
      continue;
    }
    plain = false;
    // Strict UTF-8 (RFC 3629 §4).
    if (c >= 0xc2 && c <= 0xdf) {
      if (((b[p + 1] as number) & 0xc0) !== 0x80) return -1;
      p += 2;
      units++;
    } else if (c >= 0xe0 && c <= 0xef) {
      const c1 = b[p + 1] as number;
      if (c === 0xe0 ? c1 < 0xa0 || c1 > 0xbf : c === 0xed ? c1 < 0x80 || c1 > 0x9f : (c1 & 0xc0) !== 0x80)
        return -1;
      if (((b[p + 2] as number) & 0xc0) !== 0x80) return -1;
      p += 3;
      units++;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const c1 = b[p + 1] as number;
      if (c === 0xf0 ? c1 < 0x90 || c1 > 0xbf : c === 0xf4 ? c1 < 0x80 || c1 > 0x8f : (c1 & 0xc0) !== 0x80)
        return -1;
      if (((b[p + 2] as number) & 0xc0) !== 0x80 || ((b[p + 3] as number) & 0xc0) !== 0x80) return -1;
      p += 4;
      units += 2;
    } else return -1;
  }
  return -1;
}

/** validateEvent's `string()` rule: 1..max UTF-16 code units, no control character (no escape, no DEL), well-formed. */
function named(b: Uint8Array, p: number, max: number): number {
  const q = str(b, p, false);
  if (q < 0 || sUnits === 0 || sUnits > max) return -1;
  // A DEL makes it not plain; non-ASCII is fine (only C0 and DEL are refused).
  for (let i = sStart; i < sEnd; i++) if (b[i] === 0x7f) return -1;
  return q;
}

/** `string()` with CLIENT_ID_RE (visible ASCII, 0x21–0x7e) and a maximum length. */
function clientId(b: Uint8Array, p: number, max: number): number {
  const q = str(b, p, false);
  if (q < 0 || sUnits === 0 || sUnits > max || !sPlain) return -1;
  for (let i = sStart; i < sEnd; i++) if ((b[i] as number) < 0x21) return -1;
  return q;
}

/** A string equal to one of `options` (oneOf). */
function oneOf(b: Uint8Array, p: number, options: readonly Uint8Array[]): number {
  const q = str(b, p, false);
  if (q < 0) return -1;
  const len = sEnd - sStart;
  for (const o of options) if (o.length === len && equalAt(b, sStart, o)) return q;
  return -1;
}

const ascii = (b: Uint8Array, from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i] as number);
  return s;
};

// ---- numbers ----

/**
 * A canonical non-negative integer ≥ `min` and ≤ MAX_SAFE_INTEGER: `0` or a
 * non-zero digit then digits (Number::toString of a safe integer, which never
 * uses an exponent below 1e21). Sets `uValue`.
 */
let uValue = 0;
function uint(b: Uint8Array, p: number, min: number): number {
  const first = b[p] as number;
  if (!isDigit(first)) return -1;
  if (first === 0x30) {
    uValue = 0;
    p++;
  } else {
    let v = 0;
    const start = p;
    while (p < b.length && isDigit(b[p] as number)) {
      v = v * 10 + ((b[p] as number) - 0x30);
      p++;
    }
    // 16 digits at most: below 2^53 every partial value is exact, so the comparison is too.
    if (p - start > 16 || v > Number.MAX_SAFE_INTEGER) return -1;
    uValue = v;
  }
  const next = b[p];
  if (next === 0x2e || next === 0x65 || next === 0x45) return -1;
  return uValue >= min ? p : -1;
}

/** Any JSON number, accepted only as its own Number::toString (finite, exact, canonical). */
function number(b: Uint8Array, p: number): number {
  const start = p;
  if (b[p] === 0x2d) p++;
  if (b[p] === 0x30) p++;
  else if (isDigit(b[p] as number)) while (isDigit(b[p] as number)) p++;
  else return -1;
  if (b[p] === 0x2e) {
    p++;
    if (!isDigit(b[p] as number)) return -1;
    while (isDigit(b[p] as number)) p++;
  }
  if (b[p] === 0x65 || b[p] === 0x45) {
    p++;
    if (b[p] === 0x2b || b[p] === 0x2d) p++;
    if (!isDigit(b[p] as number)) return -1;
    while (isDigit(b[p] as number)) p++;
  }
  const literal = ascii(b, start, p);
  return String(Number(literal)) === literal ? p : -1;
}

// ---- free-form JSON (metadata, changes.before/after) ----

const PROTO = enc('__proto__');

/** jsonValue (event.ts) over canonical text: containers allowed while depthLeft > 0. */
function value(b: Uint8Array, p: number, depthLeft: number): number {
  const c = b[p];
  if (c === Q) return str(b, p, true);
  if (c === LBRACE) return object(b, p, depthLeft);
  if (c === LBRACKET) {
    if (depthLeft <= 0) return -1;
    p++;
    if (b[p] === RBRACKET) return p + 1;
    for (;;) {
      p = value(b, p, depthLeft - 1);
      if (p < 0) return -1;
      if (b[p] === COMMA) p++;
      else return b[p] === RBRACKET ? p + 1 : -1;
    }
  }
  if (c === 0x74) return equalAt(b, p, TRUE) ? p + 4 : -1;
  if (c === 0x66) return equalAt(b, p, FALSE) ? p + 5 : -1;
  if (c === 0x6e) return equalAt(b, p, NULL) ? p + 4 : -1;
  return number(b, p);
}
const TRUE = enc('true');
const FALSE = enc('false');
const NULL = enc('null');

/** A free-form object: ASCII keys without escapes, strictly increasing (so unique and in JCS order). */
function object(b: Uint8Array, p: number, depthLeft: number): number {
  if (b[p] !== LBRACE || depthLeft <= 0) return -1;
  p++;
  if (b[p] === RBRACE) return p + 1;
  let prevStart = -1;
  let prevEnd = -1;
  for (;;) {
    const q = str(b, p, false);
    if (q < 0 || !sPlain) return -1;
    const ks = sStart;
    const ke = sEnd;
    // JSON.parse and the strict parser both keep it as data, but it is not worth the care.
    if (ke - ks === PROTO.length && equalAt(b, ks, PROTO)) return -1;
    if (prevStart >= 0 && compareBytes(b, prevStart, prevEnd, ks, ke) >= 0) return -1;
    prevStart = ks;
    prevEnd = ke;
    if (b[q] !== COLON) return -1;
    p = value(b, q + 1, depthLeft - 1);
    if (p < 0) return -1;
    if (b[p] === COMMA) p++;
    else return b[p] === RBRACE ? p + 1 : -1;
  }
}

function compareBytes(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = (b[as + i] as number) - (b[bs + i] as number);
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

// ---- schema objects ----

/**
 * Reads the key at b[p] (a quote) and finds it in `allowed` at position ≥ `from`
 * (keys strictly increasing); sets kIndex and returns the position after the
 * colon, or -1 (unknown, repeated or out of order).
 */
let kIndex = 0;
function key(b: Uint8Array, p: number, allowed: readonly Uint8Array[], from: number): number {
  if (b[p] !== Q) return -1;
  const ks = p + 1;
  let ke = ks;
  while (ke < b.length && b[ke] !== Q) {
    const c = b[ke] as number;
    // Schema keys are ASCII letters.
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) return -1;
    ke++;
  }
  if (b[ke + 1] !== COLON) return -1;
  const len = ke - ks;
  for (let i = from; i < allowed.length; i++) {
    const k = allowed[i] as Uint8Array;
    if (k.length === len && equalAt(b, ks, k)) {
      kIndex = i;
      return ke + 2;
    }
  }
  return -1;
}

/** principal(): type and id required; name optional; onBehalfOf only at the top. */
function principal(b: Uint8Array, p: number, nested: boolean): number {
  const allowed = nested ? PRINCIPAL_KEYS : ACTOR_KEYS;
  const typeAt = allowed.length - 1;
  if (b[p] !== LBRACE) return -1;
  p++;
  let from = 0;
  let seenId = false;
  let seenType = false;
  for (;;) {
    p = key(b, p, allowed, from);
    if (p < 0) return -1;
    const k = kIndex;
    if (k === 0) {
      p = named(b, p, EVENT_LIMITS.principalId);
      seenId = true;
    } else if (k === 1) p = named(b, p, EVENT_LIMITS.name);
    else if (k === typeAt) {
      p = oneOf(b, p, ACTOR_TYPES);
      seenType = true;
    } else p = principal(b, p, true); // onBehalfOf
    if (p < 0) return -1;
    from = k + 1;
    if (b[p] === COMMA) p++;
    else if (b[p] === RBRACE) return seenId && seenType ? p + 1 : -1;
    else return -1;
  }
}

/** target: type (≤ 128) and id (≤ 512) required, name (≤ 256) optional. */
function target(b: Uint8Array, p: number): number {
  if (b[p] !== LBRACE) return -1;
  p++;
  let from = 0;
  let seen = 0;
  for (;;) {
    p = key(b, p, TARGET_KEYS, from);
    if (p < 0) return -1;
    const k = kIndex;
    if (k === 0) {
      p = named(b, p, EVENT_LIMITS.targetId);
      seen++;
    } else if (k === 1) p = named(b, p, EVENT_LIMITS.name);
    else {
      p = named(b, p, EVENT_LIMITS.targetType);
      seen++;
    }
    if (p < 0) return -1;
    from = k + 1;
    if (b[p] === COMMA) p++;
    else if (b[p] === RBRACE) return seen === 2 ? p + 1 : -1;
    else return -1;
  }
}

const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_CHARS_RE = /^[0-9A-Fa-f:.]+$/;

/** context: every member optional; ids ≤ 256, ip ≤ 64 and an address (event.ts ip()), userAgent ≤ 1024. */
function context(b: Uint8Array, p: number): number {
  if (b[p] !== LBRACE) return -1;
  p++;
  if (b[p] === RBRACE) return p + 1;
  let from = 0;
  for (;;) {
    p = key(b, p, CONTEXT_KEYS, from);
    if (p < 0) return -1;
    const k = kIndex;
    if (k === 0) {
      p = named(b, p, EVENT_LIMITS.ip);
      if (p < 0 || !sPlain) return -1;
      const s = ascii(b, sStart, sEnd);
      if (!(IPV4_RE.test(s) || (IPV6_CHARS_RE.test(s) && s.includes(':') && s.split(':').length <= 9)))
        return -1;
    } else if (k === 4) p = named(b, p, EVENT_LIMITS.userAgent);
    else p = named(b, p, EVENT_LIMITS.contextId);
    if (p < 0) return -1;
    from = k + 1;
    if (b[p] === COMMA) p++;
    else return b[p] === RBRACE ? p + 1 : -1;
  }
}

/** changes: before and/or after (at least one), each free-form within freeformDepth. */
function changes(b: Uint8Array, p: number): number {
  if (b[p] !== LBRACE || b[p + 1] === RBRACE) return -1;
  p++;
  let from = 0;
  for (;;) {
    p = key(b, p, CHANGES_KEYS, from);
    if (p < 0) return -1;
    from = kIndex + 1;
    p = value(b, p, EVENT_LIMITS.freeformDepth);
    if (p < 0) return -1;
    if (b[p] === COMMA) p++;
    else return b[p] === RBRACE ? p + 1 : -1;
  }
}

/** producer: stream (visible ASCII ≤ 128) and seq (≥ 1) required, epoch (≥ 0) optional. */
function producer(b: Uint8Array, p: number): number {
  if (b[p] !== LBRACE) return -1;
  p++;
  let from = 0;
  let seen = 0;
  for (;;) {
    p = key(b, p, PRODUCER_KEYS, from);
    if (p < 0) return -1;
    const k = kIndex;
    if (k === 0) p = uint(b, p, 0);
    else if (k === 1) {
      p = uint(b, p, 1);
      seen++;
    } else {
      p = clientId(b, p, EVENT_LIMITS.stream);
      seen++;
    }
    if (p < 0) return -1;
    from = k + 1;
    if (b[p] === COMMA) p++;
    else return b[p] === RBRACE && seen === 2 ? p + 1 : -1;
  }
}

/** signature: alg, keyId (43 base64url, canonical last), sig (86 base64url, canonical last), all required. */
function signature(b: Uint8Array, p: number): number {
  if (b[p] !== LBRACE) return -1;
  p++;
  let from = 0;
  for (;;) {
    p = key(b, p, SIGNATURE_KEYS, from);
    if (p < 0 || kIndex !== from) return -1;
    const k = kIndex;
    if (k === 0) p = oneOf(b, p, ALGS);
    else {
      p = str(b, p, false);
      const len = k === 1 ? 43 : 86;
      if (p < 0 || sEnd - sStart !== len) return -1;
      for (let i = sStart; i < sEnd - 1; i++) if (B64URL[b[i] as number] !== 1) return -1;
      const last = b[sEnd - 1] as number;
      if ((k === 1 ? B64_LAST16 : B64_LAST4)[last] !== 1) return -1;
    }
    from = k + 1;
    if (b[p] === COMMA && from < 3) p++;
    else return b[p] === RBRACE && from === 3 ? p + 1 : -1;
  }
}

/** ACTION_RE: dot-separated lowercase identifiers, ≤ 128. */
function action(b: Uint8Array, p: number): number {
  const q = str(b, p, false);
  if (q < 0 || !sPlain || sUnits === 0 || sUnits > EVENT_LIMITS.action) return -1;
  let start = true;
  for (let i = sStart; i < sEnd; i++) {
    const c = b[i] as number;
    const lower = c >= 0x61 && c <= 0x7a;
    if (start) {
      if (!lower) return -1;
      start = false;
    } else if (c === 0x2e) start = true;
    else if (!(lower || isDigit(c) || c === 0x5f)) return -1;
  }
  return start ? -1 : q;
}

/** occurredAt: parseUtcTimestamp accepts it. */
function occurredAt(b: Uint8Array, p: number): number {
  const q = str(b, p, false);
  if (q < 0 || !sPlain) return -1;
  if (sEnd - sStart === 24) return fixedUtc(b, sStart) ? q : -1;
  return parseUtcTimestamp(ascii(b, sStart, sEnd)) === undefined ? -1 : q;
}

/** validateEvent: the event object, its four required fields, each field by its rule. */
function event(b: Uint8Array, p: number): number {
  if (b[p] !== LBRACE) return -1;
  p++;
  let from = 0;
  let required = 0;
  for (;;) {
    p = key(b, p, EVENT_KEYS, from);
    if (p < 0) return -1;
    const k = kIndex;
    switch (k) {
      case E_ACTION:
        p = action(b, p);
        required++;
        break;
      case E_ACTOR:
        p = principal(b, p, false);
        required++;
        break;
      case E_CHANGES:
        p = changes(b, p);
        break;
      case E_CONTEXT:
        p = context(b, p);
        break;
      case E_ID:
        p = clientId(b, p, EVENT_LIMITS.id);
        break;
      case E_METADATA:
        // An object (isPlainObject), then jsonValue with freeformDepth.
        p = object(b, p, EVENT_LIMITS.freeformDepth);
        break;
      case E_OCCURRED:
        p = occurredAt(b, p);
        required++;
        break;
      case E_OUTCOME:
        p = oneOf(b, p, OUTCOMES);
        required++;
        break;
      case E_PRODUCER:
        p = producer(b, p);
        break;
      case E_SCHEMA:
        p = uint(b, p, 1);
        break;
      case E_SIGNATURE:
        p = signature(b, p);
        break;
      case E_TARGET:
        p = target(b, p);
        break;
      default:
        return -1;
    }
    if (p < 0) return -1;
    from = k + 1;
    if (b[p] === COMMA) p++;
    else return b[p] === RBRACE && required === 4 ? p + 1 : -1;
  }
}

// ---- time ----

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DIGITS_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const d2 = (b: Uint8Array, i: number): number =>
  ((b[i] as number) - 0x30) * 10 + ((b[i + 1] as number) - 0x30);

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` at b[p], a real instant from 1970 on: what
 * RECEIVED_AT_RE plus parseUtcTimestamp accept for 24 characters (event.ts
 * parseFixedUtc, over bytes).
 */
function fixedUtc(b: Uint8Array, p: number): boolean {
  if (
    b[p + 4] !== 0x2d ||
    b[p + 7] !== 0x2d ||
    b[p + 10] !== 0x54 ||
    b[p + 13] !== 0x3a ||
    b[p + 16] !== 0x3a ||
    b[p + 19] !== 0x2e ||
    b[p + 23] !== 0x5a
  )
    return false;
  for (const i of DIGITS_AT) if (!isDigit(b[p + i] as number)) return false;
  const year = d2(b, p) * 100 + d2(b, p + 2);
  const month = d2(b, p + 5);
  const day = d2(b, p + 8);
  if (
    year < 1970 ||
    month < 1 ||
    month > 12 ||
    d2(b, p + 11) > 23 ||
    d2(b, p + 14) > 59 ||
    d2(b, p + 17) > 59
  )
    return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  return day >= 1 && day <= dim;
}

// ---- the record ----

/**
 * True when `b` is, byte for byte, a record decodeRecord accepts (see the
 * module comment); `out` then says where its chain fields are. False: not
 * proved here (the caller asks decodeRecordFast / decodeRecord).
 */
export function scanRecord(b: Uint8Array, out: RecordFields): boolean {
  if (b.length === 0 || b.length > MAX_RECORD_BYTES) return false;
  if (!equalAt(b, 0, RECORD_HEAD)) return false;
  let p = event(b, RECORD_HEAD.length);
  // ,"index":N — a non-negative safe integer.
  if (p < 0 || !equalAt(b, p, K_INDEX)) return false;
  p = uint(b, p + K_INDEX.length, 0);
  if (p < 0) return false;
  const index = uValue;
  // ,"logId":"…" — LOG_ID_PATTERN [a-z0-9][a-z0-9-]{0,62}.
  if (!equalAt(b, p, K_LOGID)) return false;
  p += K_LOGID.length;
  const logIdStart = p;
  for (; p < b.length && b[p] !== Q; p++) {
    const c = b[p] as number;
    const ok = (c >= 0x61 && c <= 0x7a) || isDigit(c) || (c === 0x2d && p > logIdStart);
    if (!ok) return false;
  }
  const logIdEnd = p;
  if (logIdEnd === logIdStart || logIdEnd - logIdStart > 63) return false;
  // ","prev":"…" — 44 characters of base64 decoding to 32 bytes (isHash); 32 zero bytes for record 0.
  if (!equalAt(b, p, K_PREV)) return false;
  p += K_PREV.length;
  const prevStart = p;
  if (p + 45 > b.length || b[p + 43] !== 0x3d || b[p + 44] !== Q) return false;
  for (let i = 0; i < 42; i++) if (B64[b[p + i] as number] !== 1) return false;
  if (B64_LAST16[b[p + 42] as number] !== 1) return false;
  if (index === 0) for (let i = 0; i < 43; i++) if (b[p + i] !== 0x41) return false;
  p += 44;
  // ","receivedAt":"…" — RECEIVED_AT_RE and a real instant.
  if (!equalAt(b, p, K_RECEIVED)) return false;
  p += K_RECEIVED.length;
  const receivedAtStart = p;
  if (p + 25 > b.length || !fixedUtc(b, p)) return false;
  p += 24;
  // ","submitter":"…" — 1..256 code units, no control character, well-formed.
  if (b[p] !== Q || !equalAt(b, p, K_SUBMITTER)) return false;
  p = named(b, p + K_SUBMITTER.length, MAX_SUBMITTER);
  // ,"v":1} and nothing after.
  if (p < 0 || !equalAt(b, p, K_V) || p + K_V.length !== b.length) return false;
  out.index = index;
  out.logIdStart = logIdStart;
  out.logIdEnd = logIdEnd;
  out.prevStart = prevStart;
  out.receivedAtStart = receivedAtStart;
  return true;
}

/** The ASCII text of b[from, to) (the fields scanRecord located are ASCII). */
export const asciiText = ascii;
