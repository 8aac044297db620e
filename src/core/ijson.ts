/**
 * Strict I-JSON (RFC 7493) parser for request bodies and for records read from
 * hostile bundles.
 *
 * Why not `JSON.parse`: it silently keeps the *last* of duplicate object keys
 * (so `{"outcome":"denied","outcome":"success"}` would be logged as a success
 * while another reader sees a denial), accepts lone surrogates from `\uD800`
 * escapes, turns `1e400` into `Infinity`, and reports no JSON pointer for its
 * errors. RFC 7493 §2.3 forbids duplicate names and §2.1 lone surrogates, and
 * the record format refuses them (docs/formats.md §Events and records), so we need a parser that sees the
 * tokens. This is a small recursive-descent parser over the decoded string
 * (V8's `charCodeAt` loop is fast; see the 1 MiB timing in the tests/report).
 *
 * Invariants of every value returned:
 * - objects are plain (`Object.prototype`), own keys unique, `__proto__` stored
 *   as an ordinary own property (never as a prototype change);
 * - every string is well-formed UTF-16 (no lone surrogates);
 * - every number is exactly the number written: its RFC 8785 form
 *   (ECMAScript Number::toString) denotes the same decimal value as the
 *   literal (`0.10`, `1e2`, `-0` pass; `9007199254740993`, `1e400`,
 *   `1e-400` do not), so a stored record never says something other than
 *   what its producer sent (I-JSON, RFC 7493 §2.2, only promises doubles;
 *   we refuse rather than round);
 * - nesting depth <= `maxDepth`.
 *
 * Errors carry `path` (RFC 6901 JSON pointer, prefixed by `basePath`) and
 * `offset`: a byte offset for `Uint8Array` input, a UTF-16 code-unit offset for
 * string input.
 */
import { AnchorlogError } from './errors.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export type CanonicalJsonErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_UTF8'
  | 'DUPLICATE_KEY'
  | 'LONE_SURROGATE'
  | 'NUMBER_OUT_OF_RANGE'
  | 'INEXACT_NUMBER'
  | 'TOO_DEEP'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_VALUE';

export class CanonicalJsonError extends AnchorlogError<CanonicalJsonErrorCode> {
  /** JSON pointer of the offending value or member ('' = the document). */
  readonly path: string;
  /** Byte offset (bytes input) or UTF-16 offset (string input), when known. */
  readonly offset: number | undefined;
  constructor(
    code: CanonicalJsonErrorCode,
    message: string,
    details: { path?: string; offset?: number; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.path = details.path ?? '';
    this.offset = details.offset;
  }
}

export interface ParseOptions {
  /** Maximum nesting of arrays/objects; the top-level container is depth 1. Default 64. */
  maxDepth?: number;
  /** Maximum input size in UTF-8 bytes. Default 10 MiB (the API Gateway payload ceiling). */
  maxBytes?: number;
  /** Pointer prefixed to every error path, e.g. '/event' when parsing an embedded document. */
  basePath?: string;
}

export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** RFC 6901 §3: escape '~' as '~0' and '/' as '~1'. */
export function escapePointerSegment(segment: string | number): string {
  const s = String(segment);
  return s.includes('~') || s.includes('/') ? s.replaceAll('~', '~0').replaceAll('/', '~1') : s;
}

/** Append segments to a JSON pointer: `pointer('/events', 3, 'actor')` → '/events/3/actor'. */
export function pointer(base: string, ...segments: Array<string | number>): string {
  let out = base;
  for (const s of segments) out += `/${escapePointerSegment(s)}`;
  return out;
}

type NativeWellFormed = { isWellFormed?: () => boolean };
const hasNativeWellFormed = typeof (String.prototype as NativeWellFormed).isWellFormed === 'function';
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` has no lone surrogate (RFC 7493 §2.1), i.e. it is encodable as UTF-8. */
export function isWellFormedUnicode(s: string): boolean {
  if (hasNativeWellFormed) return (s as unknown as Required<NativeWellFormed>).isWellFormed();
  return !LONE_SURROGATE_RE.test(s);
}

/** Exact UTF-8 length of a string (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 2 code units → 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

// ignoreBOM: true keeps a leading U+FEFF in the text so the parser rejects it
// (RFC 8259 §8.1: senders MUST NOT add a BOM; we do not guess).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Locate the first invalid UTF-8 sequence (RFC 3629 §4 well-formed table).
 * Only called after the fast native decoder has failed, to report an offset.
 * Returns whether it is an encoded surrogate (ED A0..BF ..), which we report
 * as LONE_SURROGATE since that is what the sender meant.
 */
function findInvalidUtf8(b: Uint8Array): { offset: number; surrogate: boolean } {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) {
        if ((b[i + 1] ?? 0) >= 0xa0 && (b[i + 1] ?? 0) <= 0xbf) return { offset: i, surrogate: true };
        hi = 0x9f;
      }
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return { offset: i, surrogate: false };
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return { offset: i, surrogate: false };
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (d < min || d > max) return { offset: i, surrogate: false };
    }
    i += need + 1;
  }
  return { offset: b.length, surrogate: false };
}

/**
 * Parse UTF-8 bytes (RFC 7493 §2.1: I-JSON MUST be UTF-8) or an already
 * decoded string as strict I-JSON. Throws CanonicalJsonError.
 */
export function parseJson(input: Uint8Array | string, options: ParseOptions = {}): JsonValue {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const basePath = options.basePath ?? '';
  let text: string;
  let bytes: Uint8Array | undefined;
  if (typeof input === 'string') {
    // A string's UTF-8 length is between length and 3*length code units.
    if (input.length > maxBytes || (input.length * 3 > maxBytes && utf8Length(input) > maxBytes)) {
      throw new CanonicalJsonError('TOO_LARGE', `JSON text is larger than ${maxBytes} bytes`, {
        path: basePath,
      });
    }
    text = input;
  } else {
    if (input.length > maxBytes) {
      throw new CanonicalJsonError('TOO_LARGE', `JSON text is ${input.length} bytes; limit ${maxBytes}`, {
        path: basePath,
      });
    }
    bytes = input;
    try {
      text = strictUtf8.decode(input);
    } catch (cause) {
      const bad = findInvalidUtf8(input);
      throw bad.surrogate
        ? new CanonicalJsonError('LONE_SURROGATE', `UTF-8-encoded surrogate at byte ${bad.offset}`, {
            path: basePath,
            offset: bad.offset,
            cause,
          })
        : new CanonicalJsonError('INVALID_UTF8', `invalid UTF-8 at byte ${bad.offset}`, {
            path: basePath,
            offset: bad.offset,
            cause,
          });
    }
  }
  return new Parser(text, bytes, maxDepth, basePath).parseDocument();
}

// Character codes used by the parser.
const CH_TAB = 0x09;
const CH_LF = 0x0a;
const CH_CR = 0x0d;
const CH_SPACE = 0x20;
const CH_QUOTE = 0x22;
const CH_PLUS = 0x2b;
const CH_COMMA = 0x2c;
const CH_MINUS = 0x2d;
const CH_DOT = 0x2e;
const CH_ZERO = 0x30;
const CH_ONE = 0x31;
const CH_NINE = 0x39;
const CH_COLON = 0x3a;
const CH_LBRACKET = 0x5b;
const CH_BACKSLASH = 0x5c;
const CH_RBRACKET = 0x5d;
const CH_E_UPPER = 0x45;
const CH_E_LOWER = 0x65;
const CH_LBRACE = 0x7b;
const CH_RBRACE = 0x7d;

const isDigit = (c: number): boolean => c >= CH_ZERO && c <= CH_NINE;
const isDigit19 = (c: number): boolean => c >= CH_ONE && c <= CH_NINE;
/** Index of the first non-digit at or after `p`. */
function skipDigits(t: string, p: number): number {
  let q = p;
  while (isDigit(t.charCodeAt(q))) q++;
  return q;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

// RFC 8259 §7 short escapes.
const SHORT_ESCAPES: Record<number, string> = {
  34: '"',
  92: '\\',
  47: '/',
  98: '\b',
  102: '\f',
  110: '\n',
  114: '\r',
  116: '\t',
};

/**
 * A JSON number literal as digits × 10^exponent with no leading or trailing
 * zero digits; zero is `digits === ''` (so -0 and 0 are the same value).
 * `text` must match the RFC 8259 §6 grammar (String(double) output does).
 */
function decimalOf(text: string): { negative: boolean; digits: string; exponent: number } {
  const negative = text.charCodeAt(0) === CH_MINUS;
  let e = text.indexOf('e');
  if (e < 0) e = text.indexOf('E');
  const mantissa = text.slice(negative ? 1 : 0, e < 0 ? text.length : e);
  // An exponent beyond 2^53 is inexact as a double but then so large that no
  // finite non-zero value can have it (the mantissa would need ~10^15 digits);
  // callers only get here with a finite, non-zero-underflowing value.
  let exponent = e < 0 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  let digits = mantissa;
  if (dot >= 0) {
    digits = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    exponent -= mantissa.length - dot - 1;
  }
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === CH_ZERO) lead++;
  let end = digits.length;
  while (end > lead && digits.charCodeAt(end - 1) === CH_ZERO) end--;
  exponent += digits.length - end;
  digits = digits.slice(lead, end);
  return digits === '' ? { negative: false, digits, exponent: 0 } : { negative, digits, exponent };
}

/** Whether two JSON number literals denote the same decimal value (not the same double). */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalOf(a);
  const y = decimalOf(b);
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

/** RFC 8259 grammar, with the RFC 7493 restrictions layered on. */
class Parser {
  private pos = 0;
  private depth = 0;
  /** Keys/indices from the root to the value being parsed, for error paths. */
  private readonly path: Array<string | number> = [];

  constructor(
    private readonly text: string,
    private readonly bytes: Uint8Array | undefined,
    private readonly maxDepth: number,
    private readonly basePath: string,
  ) {}

  parseDocument(): JsonValue {
    this.skipWs();
    const value = this.parseValue();
    this.skipWs();
    if (this.pos < this.text.length) this.fail('INVALID_JSON', 'unexpected data after the JSON value');
    return value;
  }

  private fail(code: CanonicalJsonErrorCode, message: string, at = this.pos, extra?: string | number): never {
    const path =
      extra === undefined
        ? pointer(this.basePath, ...this.path)
        : pointer(this.basePath, ...this.path, extra);
    // Byte offsets for byte input: re-encode the prefix (error path only).
    const offset = this.bytes ? encoder.encode(this.text.slice(0, at)).length : at;
    const where = `${this.bytes ? 'byte' : 'offset'} ${offset}${path ? ` (${path})` : ''}`;
    throw new CanonicalJsonError(code, `${message} at ${where}`, { path, offset });
  }

  private skipWs(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === CH_SPACE || c === CH_LF || c === CH_CR || c === CH_TAB) p++;
      else break;
    }
    this.pos = p;
  }

  private parseValue(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case CH_LBRACE:
        return this.parseObject();
      case CH_LBRACKET:
        return this.parseArray();
      case CH_QUOTE:
        return this.parseString();
      case 0x74: // t
        return this.parseLiteral('true', true);
      case 0x66: // f
        return this.parseLiteral('false', false);
      case 0x6e: // n
        return this.parseLiteral('null', null);
      default:
        if (c === CH_MINUS || (c >= CH_ZERO && c <= CH_NINE)) return this.parseNumber();
        if (Number.isNaN(c)) this.fail('INVALID_JSON', 'unexpected end of input');
        return this.fail('INVALID_JSON', `unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
    }
  }

  private parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos))
      this.fail('INVALID_JSON', `invalid literal (expected ${word})`);
    this.pos += word.length;
    return value;
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) {
      this.fail('TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
    }
  }

  private parseObject(): JsonObject {
    this.enter();
    this.pos++; // '{'
    const obj: JsonObject = {};
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === CH_RBRACE) {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== CH_QUOTE) this.fail('INVALID_JSON', 'expected a string key');
      const keyAt = this.pos;
      const key = this.parseString();
      // RFC 7493 §2.3: names within an object MUST be unique (compared after unescaping).
      if (Object.hasOwn(obj, key))
        this.fail('DUPLICATE_KEY', `duplicate key ${JSON.stringify(key)}`, keyAt, key);
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== CH_COLON) this.fail('INVALID_JSON', "expected ':' after key");
      this.pos++;
      this.skipWs();
      this.path.push(key);
      const value = this.parseValue();
      this.path.pop();
      if (key === '__proto__') {
        // A plain assignment would replace the prototype; store it as data, as JSON.parse does.
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      } else obj[key] = value;
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      if (c === CH_COMMA) {
        this.pos++;
        this.skipWs();
      } else if (c === CH_RBRACE) {
        this.pos++;
        this.depth--;
        return obj;
      } else this.fail('INVALID_JSON', Number.isNaN(c) ? 'unterminated object' : "expected ',' or '}'");
    }
  }

  private parseArray(): JsonValue[] {
    this.enter();
    this.pos++; // '['
    const arr: JsonValue[] = [];
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === CH_RBRACKET) {
      this.pos++;
      this.depth--;
      return arr;
    }
    this.path.push(0);
    for (;;) {
      this.path[this.path.length - 1] = arr.length;
      arr.push(this.parseValue());
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      if (c === CH_COMMA) {
        this.pos++;
        this.skipWs();
      } else if (c === CH_RBRACKET) {
        this.pos++;
        this.depth--;
        this.path.pop();
        return arr;
      } else this.fail('INVALID_JSON', Number.isNaN(c) ? 'unterminated array' : "expected ',' or ']'");
    }
  }

  /** At the opening quote. Fast path: copy unescaped runs with one slice. */
  private parseString(): string {
    const t = this.text;
    const len = t.length;
    const start = this.pos;
    let p = start + 1;
    let out = '';
    let runStart = p;
    while (p < len) {
      const c = t.charCodeAt(p);
      if (c === CH_QUOTE) {
        this.pos = p + 1;
        return runStart === start + 1 ? t.slice(runStart, p) : out + t.slice(runStart, p);
      }
      if (c === CH_BACKSLASH) {
        out += t.slice(runStart, p);
        const e = t.charCodeAt(p + 1);
        if (e === 0x75 /* u */) {
          const unit = this.hex4(p + 2);
          if (unit >= 0xd800 && unit <= 0xdbff) {
            // RFC 8259 §7 / RFC 7493 §2.1: a high surrogate must be followed by an escaped low one.
            const low =
              t.charCodeAt(p + 6) === CH_BACKSLASH && t.charCodeAt(p + 7) === 0x75 ? this.hex4(p + 8) : -1;
            if (low < 0xdc00 || low > 0xdfff)
              this.fail('LONE_SURROGATE', 'unpaired high surrogate escape', p);
            out += String.fromCharCode(unit, low);
            p += 12;
          } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            this.fail('LONE_SURROGATE', 'unpaired low surrogate escape', p);
          } else {
            out += String.fromCharCode(unit);
            p += 6;
          }
        } else {
          const s = SHORT_ESCAPES[e];
          if (s === undefined) this.fail('INVALID_JSON', 'invalid escape sequence', p);
          out += s;
          p += 2;
        }
        runStart = p;
      } else if (c < 0x20) {
        this.fail('INVALID_JSON', 'unescaped control character in string', p);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        // Raw surrogates only reach us from string input (UTF-8 decoding rejects them).
        const d = t.charCodeAt(p + 1);
        if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff))
          this.fail('LONE_SURROGATE', 'lone surrogate in string', p);
        p += 2;
      } else p++;
    }
    return this.fail('INVALID_JSON', 'unterminated string', start);
  }

  private hex4(at: number): number {
    const t = this.text;
    const a = hexValue(t.charCodeAt(at));
    const b = hexValue(t.charCodeAt(at + 1));
    const c = hexValue(t.charCodeAt(at + 2));
    const d = hexValue(t.charCodeAt(at + 3));
    if ((a | b | c | d) < 0) this.fail('INVALID_JSON', 'invalid \\u escape', at - 2);
    return (a << 12) | (b << 8) | (c << 4) | d;
  }

  /** RFC 8259 §6 number grammar; RFC 7493 §2.2: value must fit an IEEE-754 double. */
  private parseNumber(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === CH_MINUS) p++;
    if (t.charCodeAt(p) === CH_ZERO) p++;
    else if (isDigit19(t.charCodeAt(p))) p = skipDigits(t, p);
    else this.fail('INVALID_JSON', 'invalid number', p);
    if (t.charCodeAt(p) === CH_DOT) {
      if (!isDigit(t.charCodeAt(p + 1)))
        this.fail('INVALID_JSON', 'expected digit after decimal point', p + 1);
      p = skipDigits(t, p + 1);
    }
    const mantissaEnd = p;
    const e = t.charCodeAt(p);
    if (e === CH_E_LOWER || e === CH_E_UPPER) {
      p++;
      const sign = t.charCodeAt(p);
      if (sign === CH_PLUS || sign === CH_MINUS) p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('INVALID_JSON', 'expected digit in exponent', p);
      p = skipDigits(t, p);
    }
    const literal = t.slice(start, p);
    const value = Number(literal);
    if (!Number.isFinite(value)) {
      this.fail('NUMBER_OUT_OF_RANGE', `number ${literal.slice(0, 40)} overflows an IEEE-754 double`, start);
    }
    // A non-zero literal that underflows to 0 would change meaning silently.
    if (value === 0 && /[1-9]/.test(t.slice(start, mantissaEnd))) {
      this.fail('NUMBER_OUT_OF_RANGE', `number ${literal.slice(0, 40)} underflows an IEEE-754 double`, start);
    }
    // RFC 8785 §3.2.2.3 stores String(value). Fast path: the literal is
    // already that text (most integers and shortest decimals).
    const stored = String(value);
    if (literal !== stored && !sameDecimal(literal, stored)) {
      this.fail(
        'INEXACT_NUMBER',
        `number ${literal.length > 40 ? `${literal.slice(0, 40)}…` : literal} cannot be stored exactly: ` +
          `as an IEEE-754 double its canonical form (RFC 8785) is ${stored}; send it as a string to keep every digit`,
        start,
      );
    }
    this.pos = p;
    return value;
  }
}
