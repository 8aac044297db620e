/**
 * The value types of command-line options (args.ts): each turns the text a
 * user typed into a typed value, or says what is wrong with it in words the
 * user can act on (InvalidValue; args.ts names the flag or the environment
 * variable and, unless the option is secret, quotes the value).
 *
 * Values are checked for their form here; whether they name something that
 * exists (a readable file, a log the API knows, a range with records) is for
 * the command to find out, and a file it cannot read is UNREADABLE_FILE
 * (readInput, io.ts).
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EncodingError, fromBase64, fromHex } from '../core/bytes.ts';
import { parseSafeUint } from '../core/merkle/numbers.ts';
import { isValidLogId, LOG_ID_RULE } from '../core/names.ts';
import { NoteError, type NoteVerifier, parseVerifierKey } from '../core/note/index.ts';
import { isLogId, isLogPattern, isPrincipalId, parseApiKey, SCOPES, type Scope } from '../core/principal.ts';
import { type Cosigner, parseCosignerKey } from '../core/witness/cosignature.ts';
import { WitnessError } from '../core/witness/errors.ts';

/** How one option's text becomes a value. */
export interface ValueType<T> {
  /** What the value is called in usage lines and help: URL, N, FILE, … */
  readonly placeholder: string;
  /** The value, or InvalidValue saying what is wrong with `text`. */
  parse(text: string): T;
}

/** A value of the wrong form; the message completes "bad --flag 'value': …". */
export class InvalidValue extends Error {}

const valueType = <T>(placeholder: string, parse: (text: string) => T): ValueType<T> => ({
  placeholder,
  parse: (text) => {
    // An empty value is never what anyone meant (`--log ""`, `-o=`), whatever the type.
    if (text === '') throw new InvalidValue('is empty');
    return parse(text);
  },
});

/** The same type under another placeholder (`FILE` → `TRUST.json`). */
export const named = <T>(type: ValueType<T>, placeholder: string): ValueType<T> => ({ ...type, placeholder });

/** Any non-empty text. */
export const text = (placeholder: string): ValueType<string> => valueType(placeholder, (t) => t);

/** One of a fixed list of words. */
export const choice = <const W extends string>(words: readonly W[], placeholder: string): ValueType<W> =>
  valueType(placeholder, (t) => {
    if (!(words as readonly string[]).includes(t))
      throw new InvalidValue(`must be one of ${words.join(', ')}`);
    return t as W;
  });

/** An absolute http(s) URL, returned without trailing slashes (paths are appended to it). */
export const httpUrl: ValueType<string> = valueType('URL', (t) => {
  let url: URL;
  try {
    if (/\s/.test(t)) throw new TypeError('white space');
    url = new URL(t);
  } catch {
    throw new InvalidValue('is not a URL; give the API base URL, e.g. https://audit.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidValue(`must be an http(s) URL, not ${url.protocol}`);
  return t.replace(/\/+$/, '');
});

/** A non-negative decimal integer (no sign, exponent or leading zero), at most 2^53 − 1. */
export const wholeNumber = (placeholder = 'N'): ValueType<number> =>
  valueType(placeholder, (t) => {
    try {
      return parseSafeUint(t, placeholder, 'BAD_ARGUMENT');
    } catch {
      throw new InvalidValue('must be a non-negative decimal integer, such as 0 or 42');
    }
  });

/** A whole number from `min` to `max`. */
export const wholeNumberIn = (min: number, max: number, placeholder = 'N'): ValueType<number> => {
  const inner = wholeNumber(placeholder);
  return valueType(placeholder, (t) => {
    let n: number | undefined;
    try {
      n = inner.parse(t);
    } catch {
      n = undefined;
    }
    if (n === undefined || n < min || n > max)
      throw new InvalidValue(`must be a whole number from ${min} to ${max}`);
    return n;
  });
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A time bound in the forms the export API takes (docs/openapi.json): an RFC
 * 3339 date-time or a UTC date. Only the form is checked here: the API is
 * the one authority on the rest (a real calendar date, the range's bounds,
 * from before to) and answers a wrong one with a 400 naming the field.
 */
export const timeBound: ValueType<string> = valueType('TIME', (t) => {
  if (!DATE.test(t) && !DATE_TIME.test(t))
    throw new InvalidValue(
      'is not a time: give an RFC 3339 date-time (2026-03-01T00:00:00Z) or a UTC date (2026-03-01)',
    );
  return t;
});

/** A file to read. Whether it can be read is found out when it is (UNREADABLE_FILE). */
export const inputFile = (placeholder = 'FILE'): ValueType<string> => valueType(placeholder, (t) => t);

/** A file to write: not a directory, in a directory that exists (so the failure comes before any work). */
export const outputFile = (placeholder = 'FILE'): ValueType<string> =>
  valueType(placeholder, (t) => {
    const path = resolve(t);
    if (t.endsWith('/') || statSync(path, { throwIfNoEntry: false })?.isDirectory())
      throw new InvalidValue('is a directory; name the file to write');
    if (!statSync(dirname(path), { throwIfNoEntry: false })?.isDirectory())
      throw new InvalidValue(`cannot be written: the directory ${dirname(path)} does not exist`);
    return t;
  });

/** An alert id (`alr_` + 32 lowercase hex digits, src/core/detect/alert.ts). */
export const alertId: ValueType<string> = valueType('ID', (t) => {
  if (!/^alr_[0-9a-f]{32}$/.test(t)) throw new InvalidValue('is not an alert id (alr_ and 32 hex digits)');
  return t;
});

/** An access review id (`arv_` + 24 lowercase hex digits, src/ports/access-review-store.ts). */
export const accessReviewId: ValueType<string> = valueType('ID', (t) => {
  if (!/^arv_[0-9a-f]{24}$/.test(t))
    throw new InvalidValue('is not an access review id (arv_ and 24 hex digits)');
  return t;
});

/** A log id (src/core/names.ts). */
export const logId: ValueType<string> = valueType('LOG', (t) => {
  if (!isValidLogId(t)) throw new InvalidValue(`is not a log id: ${LOG_ID_RULE}`);
  return t;
});

/** A principal id: a slug of 3 to 63 (lowercase letters, digits, -) or a generated p_… id. */
export const principalId: ValueType<string> = valueType('ID', (t) => {
  if (!isPrincipalId(t))
    throw new InvalidValue('is not a principal id: 3 to 63 lowercase letters, digits and -');
  return t;
});

/** A detection rule id (docs/detection.md "Rule documents"). */
/** A role id (docs/access.md): `[a-z0-9][a-z0-9._-]{0,63}`. */
export const roleId: ValueType<string> = valueType('ROLE', (t) => {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(t))
    throw new InvalidValue('is not a role id: [a-z0-9][a-z0-9._-]{0,63}');
  return t;
});

export const ruleId: ValueType<string> = valueType('ID', (t) => {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(t))
    throw new InvalidValue('is not a rule id: [a-z0-9][a-z0-9._-]{0,127}');
  return t;
});

/** A verifier key `<origin>+<keyid>+<base64 key>` (c2sp.org/signed-note), as `/v1/keys` serves it. */
export const vkey: ValueType<NoteVerifier> = valueType('VKEY', (t) => {
  try {
    return parseVerifierKey(t);
  } catch (e) {
    throw new InvalidValue(
      `is not a usable verifier key (${e instanceof NoteError ? e.code : 'error'}): expected <origin>+<keyid>+<base64 key>`,
    );
  }
});

/** A witness key `<name>+<keyid>+<base64(0x04 ‖ Ed25519 key)>` (c2sp.org/tlog-cosignature). */
export const cosignerVkey: ValueType<Cosigner> = valueType('VKEY', (t) => {
  try {
    return parseCosignerKey(t);
  } catch (e) {
    throw new InvalidValue(
      `is not a witness key (${e instanceof WitnessError ? e.code : 'error'}): expected <name>+<keyid>+<base64 of 0x04 and a 32-byte Ed25519 key>`,
    );
  }
});

/** A SHA-256 hash in standard base64 (a leaf hash). */
export const base64Hash: ValueType<Uint8Array> = valueType('B64', (t) => {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(t);
  } catch {
    throw new InvalidValue('is not base64');
  }
  if (bytes.length !== 32) throw new InvalidValue(`must be 32 bytes (a SHA-256 hash), not ${bytes.length}`);
  return bytes;
});

/** A digest in hex (any length: the token's algorithm decides what is right). */
export const hexDigest: ValueType<Uint8Array> = valueType('HEX', (t) => {
  try {
    return fromHex(t);
  } catch (e) {
    if (e instanceof EncodingError) throw new InvalidValue('is not hex: an even number of 0-9 a-f');
    throw e;
  }
});

/** An anchorlog API key `alk_<id>_<secret>`, trimmed; its options are secret (never echoed). */
export const adminApiKey: ValueType<string> = valueType('KEY', (t) => {
  try {
    parseApiKey(t.trim());
  } catch {
    throw new InvalidValue('is not a well-formed anchorlog API key (alk_<id>_<secret>)');
  }
  return t.trim();
});

export interface ScopeGrant {
  /** A log id, a log pattern (`tenant-*`) or '*'. */
  readonly log: string;
  readonly scope: Scope;
}

/** `LOG:SCOPE`, split at the first ':' (scopes themselves contain ':'). */
export const scopeGrant: ValueType<ScopeGrant> = valueType('LOG:SCOPE', (t) => {
  const i = t.indexOf(':');
  const log = i < 0 ? t : t.slice(0, i);
  const scope = i < 0 ? '' : t.slice(i + 1);
  if (log !== '*' && !isLogId(log) && !isLogPattern(log))
    throw new InvalidValue(`'${log}' is not a log id, a log pattern (prefix*) or '*'`);
  if (!(SCOPES as readonly string[]).includes(scope))
    throw new InvalidValue(`the scope after '${log}:' must be one of ${SCOPES.join(', ')}`);
  return { log, scope: scope as Scope };
});
