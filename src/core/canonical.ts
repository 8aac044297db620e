/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte sequence for a JSON
 * value that every conforming implementation produces, so records can be
 * hashed and re-hashed by independent verifiers (docs/formats.md §Events and records).
 *
 * Why not the `canonicalize` package (v4): its number and string output and
 * its key order are correct, but it is not strict about values that have no
 * JSON form. Checked on v4.0.0: `{a: () => 1}` becomes the invalid text
 * `{"a":undefined}`; `undefined`/symbol members are silently dropped and array
 * elements silently become `null`; `toJSON` is honoured (a Date becomes a
 * string); a Map becomes `{}` and a Uint8Array `{"0":..}`; errors are bare
 * `Error`s with no path. For a tamper-evident log a value that does not
 * round-trip must be refused, not reshaped, so we serialise ourselves. The
 * primitives delegate to the ECMAScript algorithms RFC 8785 is defined by
 * (§3.2.2.2 strings = JSON.stringify's QuoteJSONString, §3.2.2.3 numbers =
 * Number::toString), so the only code of our own is the walk and the sort.
 */
import { CanonicalJsonError, DEFAULT_MAX_DEPTH, isWellFormedUnicode, pointer } from './ijson.ts';

export interface CanonicalOptions {
  /** Refuse output longer than this many UTF-8 bytes with code 'TOO_LARGE'. */
  maxBytes?: number;
  /** Maximum nesting of arrays/objects (also stops cycles). Default 64. */
  maxDepth?: number;
}

/** RFC 8785 §3.2.2.3: ECMAScript Number::toString; NaN and ±Infinity have no JSON form. */
function serializeNumber(n: number, path: string[]): string {
  if (!Number.isFinite(n)) {
    throw new CanonicalJsonError('NUMBER_OUT_OF_RANGE', `${n} has no JSON form`, {
      path: pointer('', ...path),
    });
  }
  return String(n); // -0 → "0", 1e21 → "1e+21", 1e-7 → "1e-7", as §3.2.2.3 requires
}

/** RFC 8785 §3.2.2.2: only '"', '\\' and U+0000–U+001F are escaped; JSON.stringify does exactly that. */
function serializeString(s: string, path: string[]): string {
  if (!isWellFormedUnicode(s)) {
    throw new CanonicalJsonError('LONE_SURROGATE', 'string contains a lone surrogate', {
      path: pointer('', ...path),
    });
  }
  return JSON.stringify(s);
}

function unsupported(what: string, path: string[]): never {
  throw new CanonicalJsonError('UNSUPPORTED_VALUE', `${what} has no JSON form`, {
    path: pointer('', ...path),
  });
}

function serialize(v: unknown, path: string[], depth: number, maxDepth: number): string {
  switch (typeof v) {
    case 'string':
      return serializeString(v, path);
    case 'number':
      return serializeNumber(v, path);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      return unsupported(typeof v, path);
  }
  if (v === null) return 'null';
  if (depth >= maxDepth) {
    throw new CanonicalJsonError('TOO_DEEP', `nesting deeper than ${maxDepth} (or a cycle)`, {
      path: pointer('', ...path),
    });
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      path.push(String(i));
      if (!(i in v)) unsupported('an array hole', path);
      if (i > 0) out += ',';
      out += serialize(v[i], path, depth + 1, maxDepth);
      path.pop();
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    return unsupported(
      `an instance of ${(proto as { constructor?: { name?: string } })?.constructor?.name ?? 'a class'}`,
      path,
    );
  }
  const obj = v as { [k: string]: unknown };
  // RFC 8785 §3.2.3: sort by UTF-16 code units; Array.prototype.sort's default
  // comparison is exactly that (not locale, not code points).
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    path.push(k);
    if (i > 0) out += ',';
    out += serializeString(k, path);
    out += ':';
    const value = obj[k];
    if (value === undefined) unsupported('undefined', path);
    out += serialize(value, path, depth + 1, maxDepth);
    path.pop();
  }
  return `${out}}`;
}

/**
 * RFC 8785 canonical JSON text of `value`. Throws CanonicalJsonError
 * (UNSUPPORTED_VALUE, NUMBER_OUT_OF_RANGE, LONE_SURROGATE, TOO_DEEP, TOO_LARGE)
 * with the JSON pointer of the offending value; never drops or rewrites one.
 */
export function canonicalJson(value: unknown, options: CanonicalOptions = {}): string {
  return serialize(value, [], 0, options.maxDepth ?? DEFAULT_MAX_DEPTH);
}

const encoder = new TextEncoder();

/** RFC 8785 §3.2.4: the canonical form is UTF-8 bytes. Enforces `maxBytes` when given. */
export function canonicalBytes(value: unknown, options: CanonicalOptions = {}): Uint8Array {
  const text = canonicalJson(value, options);
  const max = options.maxBytes;
  // UTF-8 is never shorter than the UTF-16 length, so a long string fails before encoding.
  if (max !== undefined && text.length > max) tooLarge(text.length, max, true);
  const bytes = encoder.encode(text);
  if (max !== undefined && bytes.length > max) tooLarge(bytes.length, max, false);
  return bytes;
}

function tooLarge(size: number, max: number, atLeast: boolean): never {
  throw new CanonicalJsonError(
    'TOO_LARGE',
    `canonical form is ${atLeast ? 'at least ' : ''}${size} bytes; limit ${max}`,
  );
}
